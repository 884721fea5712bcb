import NIOCore
import WSGateWire

/// The user's callbacks and the close bookkeeping shared by the frame handlers: `onClose` runs once.
final class ClientCallbacks {
    let onMessage: (GatewayMessage) -> Void
    private let onClose: (WebSocketCloseCode?, String?) -> Void
    private var hasReportedClose = false

    init(onMessage: @escaping (GatewayMessage) -> Void, onClose: @escaping (WebSocketCloseCode?, String?) -> Void) {
        self.onMessage = onMessage
        self.onClose = onClose
    }

    /// Calls `onClose` the first time only.
    func reportClose(_ close: WebSocketClose) {
        guard !self.hasReportedClose else { return }
        self.hasReportedClose = true
        self.onClose(close.code, close.reason)
    }
}

/// Asks a client's frame handler to start the closing handshake (sent with `triggerUserOutboundEvent`).
struct ClientCloseRequest: Sendable {
    var code: WebSocketCloseCode
    var reason: String?
}

/// Asks an RFC 6455 client's frame handler to encode and send a message (sent with
/// `triggerUserOutboundEvent` when permessage-deflate is in use, so that the compressor runs on
/// the event loop, in the order messages are sent).
struct ClientSendRequest: Sendable {
    var message: GatewayMessage
    var flush: Bool
}
