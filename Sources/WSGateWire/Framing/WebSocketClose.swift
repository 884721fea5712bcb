/// A WebSocket connection's end, as a signal of its own beside the messages (`GatewayMessage`).
///
/// Fired inbound by every frame handler, once, when the connection starts closing (from either
/// side): `code` and `reason` are the RFC 6455 ones where the dialect carried them (hixie closes
/// have neither).
public struct WebSocketClose: Sendable, Equatable {
    /// The close code, when there is one.
    public var code: WebSocketCloseCode?
    /// The reason, when there is one.
    public var reason: String?

    public init(code: WebSocketCloseCode?, reason: String?) {
        self.code = code
        self.reason = reason
    }
}
