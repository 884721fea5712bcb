import NIOCore
import WSGateWire

/// A gateway frame handler that carries out its `ClosingHandshake`'s actions: the same steps for
/// every dialect, only the close frame's bytes differ. The connection's end goes up the pipeline
/// once, as a `WebSocketClose` user event.
protocol ClosingHandshakePerformer: AnyObject {
    /// The connection's closing handshake.
    var closing: ClosingHandshake { get set }
    /// The grace timer, while our close waits for the peer's.
    var closeTimer: Scheduled<Void>? { get set }
    /// How long the peer has to answer our close.
    var closeGracePeriod: TimeAmount { get }
    /// The dialect's close frame for `close`.
    func closeFrameBytes(_ close: WebSocketClose) -> ByteBuffer
}

extension ClosingHandshakePerformer {
    /// Does what the closing handshake decided.
    func perform(_ action: ClosingHandshake.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .sendClose(let frame, let thenDisconnect, let report):
            if let report { context.fireUserInboundEventTriggered(report) }
            let written = context.writeAndFlush(NIOAny(self.closeFrameBytes(frame)))
            if thenDisconnect {
                written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            } else {
                self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.closeGracePeriod) {
                    self.perform(self.closing.graceExpired(), context: context)
                }
            }
        case .disconnect(let report):
            if let report { context.fireUserInboundEventTriggered(report) }
            self.closeTimer?.cancel()
            context.close(promise: nil)
        }
    }

    /// A `WebSocketCloseRequest` from a session or from shutdown; other events pass on.
    func handleOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let request = event as? WebSocketCloseRequest else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        self.perform(self.closing.closeRequested(request.close), context: context)
        promise?.succeed(())
    }

    /// The TCP connection went away: its end goes up if nothing was reported yet.
    func connectionLost(context: ChannelHandlerContext) {
        if let close = self.closing.connectionLost() {
            context.fireUserInboundEventTriggered(close)
        }
    }

    /// Starts the keepalive timers; a timeout closes with 1001.
    func startKeepalive(_ keepalive: Keepalive, context: ChannelHandlerContext, ping: ByteBuffer?) {
        keepalive.start(context: context, sendsPings: ping != nil) { [weak self] context, reason in
            guard let self else { return }
            self.perform(self.closing.closeRequested(WebSocketClose(code: .goingAway, reason: reason)), context: context)
        } ping: { context in
            if let ping { context.writeAndFlush(NIOAny(ping), promise: nil) }
        }
    }
}
