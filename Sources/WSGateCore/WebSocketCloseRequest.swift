/// An outbound user event asking a WebSocket connection to close in its own dialect.
///
/// RFC 6455 clients get a close frame with `code` and `reason`; hixie-76 clients `0xFF 0x00`;
/// hixie-75 clients a TCP close. The connection gets at most `closeGracePeriod` to take it.
public struct WebSocketCloseRequest: Sendable, Equatable {
    /// The RFC 6455 close code (1000 normal, 1001 going away, 1008 policy, 1009 too big, ...).
    public var code: UInt16
    /// A short reason, sent where the dialect can carry it.
    public var reason: String

    public init(code: UInt16, reason: String) {
        self.code = code
        self.reason = reason
    }
}
