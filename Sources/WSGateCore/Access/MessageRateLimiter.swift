import NIOCore
import WSGateAuth
import WSGateWire

/// `messages_per_s`: between a connection's frame handler and its session, lets through at most
/// the limit of messages per second (a token bucket with a burst of the same size); the first
/// message past it closes the connection with 1008 in its dialect, and it is not delivered.
final class MessageRateLimiter: ChannelInboundHandler, MessageReceiver {
    typealias InboundIn = GatewayMessage
    typealias InboundOut = GatewayMessage

    private var bucket: TokenBucket
    private let perSecond: Int
    private var isClosing = false
    private var context: ChannelHandlerContext?
    /// The session after it, called directly (nil: through the pipeline); set with the pipeline.
    var receiver: MessageReceiver?

    init(perSecond: Int) {
        self.perSecond = perSecond
        self.bucket = TokenBucket(perSecond: perSecond, now: Self.now())
    }

    private static func now() -> Double { Double(NIODeadline.now().uptimeNanoseconds) / 1e9 }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.receiver = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received(Self.unwrapInboundIn(data), context: context)
    }

    func receiveMessage(_ message: GatewayMessage) {
        guard let context = self.context else { return }
        self.received(message, context: context)
    }

    private func received(_ message: GatewayMessage, context: ChannelHandlerContext) {
        guard !self.isClosing else { return }
        guard case .allowed = self.bucket.take(now: Self.now()) else {
            self.isClosing = true
            context.triggerUserOutboundEvent(
                WebSocketCloseRequest(code: .policyViolation, reason: "more than \(self.perSecond) messages per second"), promise: nil)
            return
        }
        self.passOn(message, to: self.receiver, context: context)
    }
}

@available(*, unavailable)
extension MessageRateLimiter: Sendable {}
