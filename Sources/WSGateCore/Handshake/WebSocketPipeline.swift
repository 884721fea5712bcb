import Logging
import NIOCore
import NIOWebSocket
import WSGateConfig
import WSGateWire

/// The handlers of an open WebSocket, by dialect: the frame codec and frame handler (which own
/// framing and the closing handshake), then the session (room or echo) or the bridge.
enum WebSocketPipeline {
    /// The handlers to install after the handshake handler, in order.
    static func handlers(
        dialect: WebSocketDialect, limits: LimitsConfiguration, compression: MessageCompression?, session: ChannelHandler,
        metrics: GatewayMetrics, logger: Logger
    ) -> [ChannelHandler] {
        let keepalive = Keepalive(pingIntervalSeconds: limits.pingIntervalSeconds, idleTimeoutSeconds: limits.idleTimeoutSeconds)
        // `messages_per_s` sits between the frame handler and the session, only where it is set.
        let limiter: [ChannelHandler] = limits.messagesPerSecond > 0 ? [MessageRateLimiter(perSecond: limits.messagesPerSecond)] : []
        switch dialect {
        case .rfc6455:
            // The limit is on the message as the application sees it: a compressed frame may be a
            // little longer than what it inflates to (stored blocks of incompressible data).
            let maxFrame = min(compression == nil ? limits.maxMessageBytes : RFC6455MessageAssembler.compressedWireLimit(limits.maxMessageBytes), Int(UInt32.max))
            let frames = RFC6455FrameHandler(
                maxMessageSize: limits.maxMessageBytes, keepalive: keepalive, compression: compression, metrics: metrics, logger: logger)
            (session as? FrameWriterUser)?.frameWriter = .rfc6455(frames)
            return [ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrame)), frames] + limiter + [session]
        case .hixie75, .hixie76:
            let frames = HixieFrameHandler(
                dialect: dialect == .hixie75 ? .hixie75 : .hixie76, maxMessageSize: limits.maxMessageBytes,
                keepalive: keepalive, metrics: metrics, logger: logger)
            (session as? FrameWriterUser)?.frameWriter = .hixie(frames)
            return [frames] + limiter + [session]
        }
    }

    /// The channel's write watermarks: it holds half of `send_queue_bytes`, the session the rest.
    static func writeBufferWaterMark(for limits: LimitsConfiguration) -> ChannelOptions.Types.WriteBufferWaterMark {
        let high = WebSocketSessionHandler.channelShare(of: limits.sendQueueBytes)
        return .init(low: high / 2, high: high)
    }
}
