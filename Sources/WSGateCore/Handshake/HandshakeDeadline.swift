import NIOCore

/// The one handshake deadline of a connection: `handshake_timeout_ms` after it was accepted,
/// however many stages (TLS sniffing, TLS, the request head, key3) it goes through. Each stage's
/// handler arms it when added and cancels it when done; the connection is dropped when it passes.
enum HandshakeDeadline {
    /// Arms the deadline on `context`'s loop; nil when the limit is off.
    static func arm(context: ChannelHandlerContext, info: ConnectionInfo, stage: String) -> Scheduled<Void>? {
        let limit = info.runtime.configuration.limits.handshakeTimeoutMs
        guard limit > 0 else { return nil }
        return context.eventLoop.assumeIsolated().scheduleTask(deadline: info.acceptedAt + .milliseconds(Int64(limit))) {
            info.logger.info(
                "handshake timeout", metadata: ["wsgate.peer": "\(info.peer)", "wsgate.stage": "\(stage)", "wsgate.timeout_ms": "\(limit)"])
            info.runtime.metrics.countRefusal("timeout")
            context.close(promise: nil)
        }
    }
}
