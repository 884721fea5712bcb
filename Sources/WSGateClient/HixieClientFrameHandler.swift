import NIOCore
import WSGateWire

/// The client end of a hixie-75/76 connection after the handshake: `0x00 … 0xFF` text frames become
/// text messages (`HixieFrameReader`: UTF-8 checked, `maxMessageSize` enforced, length-prefixed
/// frames discarded); hixie-76's closing handshake `0xFF 0x00` runs both ways through
/// `ClosingHandshake`. A framing error drops the connection (hixie has no close codes); `onClose`
/// gets no code.
final class HixieClientFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Never
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var closing: ClosingHandshake
    private var reader: HixieFrameReader
    private let closeTimeout: TimeAmount
    private var closeTimer: Scheduled<Void>?
    private let callbacks: ClientCallbacks

    init(dialect: HixieDialect, maxMessageSize: Int, closeTimeout: TimeAmount, callbacks: ClientCallbacks) {
        self.closing = ClosingHandshake(hasCloseFrame: dialect == .hixie76)
        self.reader = HixieFrameReader(dialect: dialect, maxMessageSize: maxMessageSize)
        self.closeTimeout = closeTimeout
        self.callbacks = callbacks
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.closeTimer?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.closeTimer?.cancel()
        if let close = self.closing.connectionLost() { self.callbacks.reportClose(close) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let incoming = Self.unwrapInboundIn(data)
        if self.closing.state == .closed { return }
        do {
            try self.reader.read(incoming) { frame in
                switch frame {
                case .text(let bytes):
                    if self.closing.delivers { self.callbacks.onMessage(.text(bytes)) }
                    return true
                case .close:
                    self.perform(self.closing.peerClosed(WebSocketClose(code: nil, reason: nil)), context: context)
                    return false
                }
            }
        } catch {
            _ = self.closing.connectionLost()
            self.callbacks.reportClose(WebSocketClose(code: nil, reason: "\(error)"))
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard self.closing.canSend else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        context.write(data, promise: promise)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is ClientCloseRequest else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        promise?.succeed(())
        // Reported when the server answers or the connection ends, not now.
        switch self.closing.closeRequested(WebSocketClose(code: nil, reason: nil)) {
        case .sendClose:
            context.writeAndFlush(Self.wrapOutboundOut(HixieFrameEncoder.closeFrame), promise: nil)
            self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.closeTimeout) {
                self.perform(self.closing.graceExpired(), context: context)
            }
        case .disconnect:
            context.close(promise: nil)
        case .none:
            break
        }
    }

    /// Does what the closing handshake decided; hixie-76's close frame is `0xFF 0x00`.
    private func perform(_ action: ClosingHandshake.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .sendClose(_, let thenDisconnect, let report):
            if let report { self.callbacks.reportClose(report) }
            let written = context.writeAndFlush(Self.wrapOutboundOut(HixieFrameEncoder.closeFrame))
            if thenDisconnect { written.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
        case .disconnect(let report):
            if let report { self.callbacks.reportClose(report) }
            self.closeTimer?.cancel()
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension HixieClientFrameHandler: Sendable {}
