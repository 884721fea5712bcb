import WSGateWire

/// An outbound user event asking a WebSocket connection to close in its own dialect.
///
/// RFC 6455 clients get a close frame with `code` and `reason`; hixie-76 clients `0xFF 0x00`;
/// hixie-75 clients a TCP close. The connection gets at most the close grace period to take it.
public struct WebSocketCloseRequest: Sendable, Equatable {
    /// The close code.
    public var code: WebSocketCloseCode
    /// A short reason, sent where the dialect can carry it.
    public var reason: String

    public init(code: WebSocketCloseCode, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The close as the closing handshake carries it.
    var close: WebSocketClose { WebSocketClose(code: self.code, reason: self.reason) }
}
