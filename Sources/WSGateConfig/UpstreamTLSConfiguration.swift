/// TLS to an upstream (`tls://` and `wss://`): key `upstream_tls` of a route, defaults when absent.
public struct UpstreamTLSConfiguration: Sendable, Equatable {
    /// Key `ca`: a PEM file of the CAs trusted for the upstream's certificate. Default: nil = the
    /// system's trust store.
    public var caPath: String?
    /// Key `server_name`: sent by SNI and required in the certificate. Default: nil = the upstream's host.
    public var serverName: String?
    /// Key `verify`: `false` accepts any certificate, the explicit opt-out. Default: true.
    public var verify: Bool

    public init(caPath: String? = nil, serverName: String? = nil, verify: Bool = true) {
        self.caPath = caPath
        self.serverName = serverName
        self.verify = verify
    }
}
