import Logging
import NIOCore
import NIOWebSocket
import WSGateConfig
import WSGateWire

/// The handlers of an open WebSocket, by dialect: the frame handler (which reads and writes frames
/// and owns the closing handshake), then the session (room or echo), the bridge or the relay; the
/// frame handler hands messages up and the session writes frames down by direct calls.
enum WebSocketPipeline {
    /// The handlers to install after the handshake handler, in order.
    static func handlers(
        dialect: WebSocketDialect, limits: LimitsConfiguration, compression: MessageCompression?, session: ChannelHandler,
        metrics: GatewayMetrics, logger: Logger
    ) -> [ChannelHandler] {
        let keepalive = Keepalive.ifAny(pingIntervalSeconds: limits.pingIntervalSeconds, idleTimeoutSeconds: limits.idleTimeoutSeconds)
        // `messages_per_s` sits between the frame handler and the session, only where it is set.
        let limiter = limits.messagesPerSecond > 0 ? MessageRateLimiter(perSecond: limits.messagesPerSecond) : nil
        limiter?.receiver = session as? MessageReceiver
        let receiver = limiter ?? (session as? MessageReceiver)
        let between: [ChannelHandler] = limiter.map { [$0] } ?? []
        switch dialect {
        case .rfc6455:
            // The frame handler reads its own frames, as long as its assembler's largest message
            // on the wire (a compressed one may be a little longer than what it inflates to).
            let frames = RFC6455FrameHandler(
                maxMessageSize: limits.maxMessageBytes, keepalive: keepalive, compression: compression, metrics: metrics, logger: logger)
            frames.receiver = receiver
            (session as? FrameWriterUser)?.frameWriter = .rfc6455(frames)
            return [frames] + between + [session]
        case .hixie75, .hixie76:
            let frames = HixieFrameHandler(
                dialect: dialect == .hixie75 ? .hixie75 : .hixie76, maxMessageSize: limits.maxMessageBytes,
                keepalive: keepalive, metrics: metrics, logger: logger)
            frames.receiver = receiver
            (session as? FrameWriterUser)?.frameWriter = .hixie(frames)
            return [frames] + between + [session]
        }
    }

    /// Breaks the direct links between `handlers` (frame handler ⇄ limiter ⇄ session) when they
    /// never got into a pipeline, whose `handlerRemoved` would otherwise do it.
    static func unlink(_ handlers: [ChannelHandler]) {
        for handler in handlers {
            (handler as? RFC6455FrameHandler)?.receiver = nil
            (handler as? HixieFrameHandler)?.receiver = nil
            (handler as? MessageRateLimiter)?.receiver = nil
            (handler as? FrameWriterUser)?.frameWriter = nil
        }
    }

    /// The channel's write watermarks: it holds half of `send_queue_bytes`, the session the rest.
    static func writeBufferWaterMark(for limits: LimitsConfiguration) -> ChannelOptions.Types.WriteBufferWaterMark {
        let high = WebSocketSessionHandler.channelShare(of: limits.sendQueueBytes)
        return .init(low: high / 2, high: high)
    }
}
