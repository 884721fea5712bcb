/// A certificate chosen by server name (an entry of `tls.sni`, written `{ name, cert, key }`).
public struct SNIConfiguration: Sendable, Equatable {
    /// Key `name`: the server name the client asks for. Required.
    public var name: String
    /// Key `cert`: path of the PEM certificate chain. Relative to the working directory. Required.
    public var certificatePath: String
    /// Key `key`: path of the PEM private key. Relative to the working directory. Required.
    public var keyPath: String

    /// Creates an SNI entry.
    public init(name: String, certificatePath: String, keyPath: String) {
        self.name = name
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}
