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

/// What a request head asks for, told from the head alone (SPEC "Telling them apart").
public enum RequestKind: Sendable, Equatable {
    /// An ordinary HTTP request.
    case plainHTTP
    /// An RFC 6455 / hybi upgrade (`Sec-WebSocket-Version` present).
    case rfc6455
    /// A hixie-76 upgrade (`Sec-WebSocket-Key1` present); 8 key bytes follow the head.
    case hixie76
    /// A hixie-75 upgrade (`Upgrade: WebSocket` with no keys).
    case hixie75

    /// Classifies a request head.
    public static func classify(_ head: HTTPRequestHead) -> RequestKind {
        if head.first("Sec-WebSocket-Version") != nil || head.first("Sec-WebSocket-Key") != nil { return .rfc6455 }
        if head.first("Sec-WebSocket-Key1") != nil { return .hixie76 }
        if head.contains("Upgrade", token: "websocket") { return .hixie75 }
        return .plainHTTP
    }
}
