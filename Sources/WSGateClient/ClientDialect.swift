/// The WebSocket dialect a `WebSocketClient` speaks.
public enum ClientDialect: Sendable, Equatable {
    /// RFC 6455, or hybi-07/08 when `version` is 7 or 8 (`Sec-WebSocket-Version`).
    case rfc6455(version: UInt8 = 13)
    /// draft-hixie-thewebsocketprotocol-76: Key1/Key2/key3 and the MD5 token; `0xFF 0x00` close.
    case hixie76
    /// draft-hixie-thewebsocketprotocol-75: no keys, no closing handshake.
    case hixie75

    /// RFC 6455 version 13.
    public static let rfc6455 = ClientDialect.rfc6455(version: 13)

    /// Whether this is one of the hixie drafts (text frames only, no close codes).
    public var isHixie: Bool {
        switch self {
        case .rfc6455: return false
        case .hixie75, .hixie76: return true
        }
    }
}
