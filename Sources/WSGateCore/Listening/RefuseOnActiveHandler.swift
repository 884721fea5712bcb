import Logging
import NIOCore

/// Answers a connection at once with a refusal (503 when the gateway is full), then closes it.
final class RefuseOnActiveHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let refusal: GatewayRefusal
    private let logger: Logger
    private let metrics: GatewayMetrics

    init(refusal: GatewayRefusal, logger: Logger, metrics: GatewayMetrics) {
        self.refusal = refusal
        self.logger = logger
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.refuse(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.refuse(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func refuse(context: ChannelHandlerContext) {
        self.metrics.countRefusal(String(self.refusal.status))
        self.logger.info("request", metadata: ["wsgate.status": "\(self.refusal.status)", "wsgate.reason": "\(self.refusal.reason)"])
        context.writeAndFlush(Self.wrapOutboundOut(self.refusal.response())).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension RefuseOnActiveHandler: Sendable {}
