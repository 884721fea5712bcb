/// What a request head asks for, told from the head alone (docs/SPEC.md "Telling them apart").
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
