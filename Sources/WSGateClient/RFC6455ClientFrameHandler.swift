import NIOCore
import NIOWebSocket
import WSGateWire

/// The client end of an RFC 6455 connection after the handshake: server frames (unmasked, decoded by
/// NIO's `WebSocketFrameDecoder`) become messages through `RFC6455MessageAssembler`; pings are answered
/// with masked pongs; the closing handshake runs both ways (section 5.5.1, 7.1).
///
/// Outbound it passes already encoded (masked) frames through while open and refuses them once a
/// close was sent. A masked frame from the server, or any rule the assembler enforces, fails the
/// connection with the code the assembler names (1002, 1007, 1009).
final class RFC6455ClientFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = Never
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case open
        case closeSent
        case closed
    }

    private var state: State = .open
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
        self.state = .closed
        self.closeTimer?.cancel()
        self.callbacks.reportClose(code: nil, reason: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Decoder errors: a frame over the size limit (1009) or a malformed header (1002).
        let code: UInt16 = (error as? NIOWebSocketError) == .invalidFrameLength ? 1009 : 1002
        self.fail(context: context, code: code, reason: "\(error)")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        guard case .closed = self.state else {
            if frame.maskKey != nil {
                return self.fail(context: context, code: 1002, reason: "server frames must not be masked")
            }
            switch self.assembler.receive(frame) {
            case .needMore, .pong:
                break
            case .message(let message):
                if case .open = self.state { self.callbacks.onMessage(message) }
            case .ping(let payload):
                guard case .open = self.state else { return }
                let pong = RFC6455FrameEncoder.frame(
                    opcode: .pong, payload: payload, maskingKey: makeMaskingKey(), allocator: context.channel.allocator)
                context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
            case .peerClosed(let code, let reason):
                self.receivedClose(context: context, code: code, reason: reason)
            case .fail(let code, let reason):
                self.fail(context: context, code: code, reason: reason)
            }
            return
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .open = self.state else {
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
        guard case .open = self.state else { return }
        self.state = .closeSent
        let frame = RFC6455FrameEncoder.closeFrame(
            code: request.code, reason: request.reason, maskingKey: makeMaskingKey(), allocator: context.channel.allocator)
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
        self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.closeTimeout) {
            context.close(promise: nil)
        }
    }

    private func receivedClose(context: ChannelHandlerContext, code: UInt16?, reason: String?) {
        self.callbacks.reportClose(code: code, reason: reason)
        switch self.state {
        case .open:
            // Echo the code (section 5.5.1), then close: the server closes TCP first, we follow.
            self.state = .closed
            let frame = RFC6455FrameEncoder.closeFrame(
                code: code, reason: nil, maskingKey: makeMaskingKey(), allocator: context.channel.allocator)
            context.writeAndFlush(Self.wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .closeSent:
            self.state = .closed
            self.closeTimer?.cancel()
            context.close(promise: nil)
        case .closed:
            break
        }
    }

    private func fail(context: ChannelHandlerContext, code: UInt16, reason: String) {
        self.callbacks.reportClose(code: code, reason: reason)
        let wasOpen: Bool
        switch self.state {
        case .open: wasOpen = true
        case .closeSent, .closed: wasOpen = false
        }
        self.state = .closed
        guard wasOpen else {
            context.close(promise: nil)
            return
        }
        let frame = RFC6455FrameEncoder.closeFrame(
            code: code, reason: reason, maskingKey: makeMaskingKey(), allocator: context.channel.allocator)
        context.writeAndFlush(Self.wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension RFC6455ClientFrameHandler: Sendable {}
