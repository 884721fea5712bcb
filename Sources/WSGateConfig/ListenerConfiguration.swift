/// One public listener (an entry of `listeners`): plain, TLS, or both on one port.
public struct ListenerConfiguration: Sendable, Equatable {
    /// Key `bind`, the host part of `host:port`: IPv4, `localhost`, a host name, or IPv6 (written
    /// `[::1]:port`, stored without brackets). Required.
    public var host: String
    /// Key `bind`, the port part. 0–65535; 0 binds an ephemeral port (tests). Required.
    public var port: Int
    /// Key `tls`: TLS termination. Default: none (plain only).
    public var tls: TLSListenerConfiguration?
    /// Key `proxy_protocol`: a PROXY v1/v2 header comes first. Default: false.
    public var proxyProtocol: Bool = false
    /// Where the listener entry starts in the file, for messages about it.
    public var location: SourceLocation

    /// Creates a listener configuration.
    public init(host: String, port: Int, tls: TLSListenerConfiguration? = nil, location: SourceLocation) {
        self.host = host
        self.port = port
        self.tls = tls
        self.location = location
    }
}
