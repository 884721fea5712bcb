/// Which of the two legacy WebSocket drafts a connection speaks.
public enum HixieDialect: Sendable, Equatable {
    /// draft-hixie-thewebsocketprotocol-75: no keys, no closing handshake.
    case hixie75
    /// draft-hixie-thewebsocketprotocol-76: MD5 challenge, `0xFF 0x00` closing handshake.
    case hixie76
}
