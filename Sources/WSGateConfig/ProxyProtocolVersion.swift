/// Route key `proxy_protocol` on `tcp://`, `tls://` and `unix:` upstreams: the HAProxy PROXY header
/// the gateway sends first, with the client's real address.
public enum ProxyProtocolVersion: String, Sendable, Equatable, CaseIterable {
    /// The text header, `PROXY TCP4 … \r\n`.
    case v1
    /// The binary header.
    case v2
}
