/// The WebSocket dialects wsgate speaks.
public enum WebSocketDialect: Sendable, Hashable, CustomStringConvertible {
    /// draft-hixie-thewebsocketprotocol-75: no keys, no closing handshake.
    case hixie75
    /// draft-hixie-thewebsocketprotocol-76 (= hybi-00): MD5 challenge, `0xFF 0x00` close.
    case hixie76
    /// RFC 6455 and its drafts hybi-07/08 (`Sec-WebSocket-Version` 13, 8 or 7).
    case rfc6455(version: UInt8)

    /// Whether frames are the hixie `0x00 … 0xFF` kind.
    public var isHixie: Bool {
        switch self {
        case .hixie75, .hixie76: return true
        case .rfc6455: return false
        }
    }

    /// The label used in logs and metrics: `hixie75`, `hixie76` or `rfc6455`.
    public var label: String {
        switch self {
        case .hixie75: return "hixie75"
        case .hixie76: return "hixie76"
        case .rfc6455: return "rfc6455"
        }
    }

    public var description: String { self.label }
}
