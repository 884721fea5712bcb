import NIOCore
import NIOWebSocket
import WSGateWire

/// The client end of an RFC 6455 connection after the handshake: server frames (unmasked, decoded by
/// NIO's `WebSocketFrameDecoder`) become messages through `RFC6455MessageAssembler`; pings are answered
/// with masked pongs; the closing handshake runs both ways through `ClosingHandshake`.
///
/// Outbound it passes already encoded (masked) frames through while open and refuses them once a
/// close was sent. A masked frame from the server, or any rule the assembler enforces, fails the
/// connection with the code the assembler names (1002, 1007, 1009).
final class RFC6455ClientFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = Never
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var closing = ClosingHandshake(hasCloseFrame: true)
    private var assembler: RFC6455MessageAssembler
    private let closeTimeout: TimeAmount
    private var closeTimer: Scheduled<Void>?
    private let callbacks: ClientCallbacks

    init(maxMessageSize: Int, closeTimeout: TimeAmount, callbacks: ClientCallbacks) {
        self.assembler = RFC6455MessageAssembler(maxMessageSize: maxMessageSize, requiresMasking: false)
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

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Decoder errors: a frame over the size limit (1009) or a malformed header (1002).
        let code = (error as? NIOWebSocketError).map(WebSocketCloseCode.init) ?? .protocolError
        self.perform(self.closing.protocolFailed(WebSocketClose(code: code, reason: "\(error)")), context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        guard self.closing.state != .closed else { return }
        if frame.maskKey != nil {
            return self.perform(
                self.closing.protocolFailed(WebSocketClose(code: .protocolError, reason: "server frames must not be masked")), context: context)
        }
        switch self.assembler.receive(frame) {
        case .needMore, .pong:
            break
        case .message(let message):
            if self.closing.delivers { self.callbacks.onMessage(message) }
        case .ping(let payload):
            guard self.closing.canSend else { return }
            let pong = RFC6455FrameEncoder.frame(opcode: .pong, payload: payload, maskingKey: makeMaskingKey(), allocator: context.channel.allocator)
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
        case .peerClosed(let close):
            self.callbacks.reportClose(close)  // the server's code, also after our own close
            self.perform(self.closing.peerClosed(close), context: context)
        case .fail(let close):
            self.perform(self.closing.protocolFailed(close), context: context)
        case .compressedMessage:
            // Not produced: this client offers no compression (the assembler refuses RSV1).
            self.perform(self.closing.protocolFailed(WebSocketClose(code: .protocolError, reason: "compressed message")), context: context)
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
        guard let request = event as? ClientCloseRequest else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        promise?.succeed(())
        // Our own close is reported when the server answers (its code), or when the connection ends.
        switch self.closing.closeRequested(WebSocketClose(code: request.code, reason: request.reason)) {
        case .sendClose(let frame, _, _):
            self.sendClose(frame, context: context).whenComplete { _ in }
            self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.closeTimeout) {
                self.perform(self.closing.graceExpired(), context: context)
            }
        case .none, .disconnect:
            break
        }
    }

    @discardableResult
    private func sendClose(_ close: WebSocketClose, context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        let frame = RFC6455FrameEncoder.closeFrame(close, maskingKey: makeMaskingKey(), allocator: context.channel.allocator)
        return context.writeAndFlush(Self.wrapOutboundOut(frame))
    }

    /// Does what the closing handshake decided.
    private func perform(_ action: ClosingHandshake.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .sendClose(let frame, let thenDisconnect, let report):
            if let report { self.callbacks.reportClose(report) }
            let written = self.sendClose(frame, context: context)
            if thenDisconnect {
                // The server closes TCP first (section 7.1.1); we follow once our answer is out.
                written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        case .disconnect(let report):
            if let report { self.callbacks.reportClose(report) }
            self.closeTimer?.cancel()
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension RFC6455ClientFrameHandler: Sendable {}
