/// TLS termination on a listener (listener key `tls`).
///
/// The loader does not open the files; `wsgate check` and the TLS module check that they are readable and match.
public struct TLSListenerConfiguration: Sendable, Equatable {
    /// Key `cert`: path of the default PEM certificate chain. Relative to the working directory. Required.
    public var certificatePath: String
    /// Key `key`: path of the default PEM private key. Relative to the working directory. Required.
    public var keyPath: String
    /// Key `plain`: `accept` or `reject` plain connections on this TLS port. Default: `reject`.
    public var plain: PlainPolicy
    /// Key `sni`: certificates chosen by server name, beside the default one. Default: none.
    public var sni: [SNIConfiguration]

    /// Creates a TLS configuration.
    public init(certificatePath: String, keyPath: String, plain: PlainPolicy = .reject, sni: [SNIConfiguration] = []) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.plain = plain
        self.sni = sni
    }
}
