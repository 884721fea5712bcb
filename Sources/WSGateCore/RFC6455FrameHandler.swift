import Logging
import NIOCore
import NIOWebSocket
import WSGateWire

/// Speaks RFC 6455 after the handshake: frames in, normalized messages up; pings answered; the
/// closing handshake both ways; every protocol error turned into its close code (sections 5–7).
///
/// Sits after NIO's `WebSocketFrameDecoder`. Outbound, it passes encoded frames through and turns a
/// `WebSocketCloseRequest` into a close frame, then gives the peer `closeGracePeriod` to answer.
final class RFC6455FrameHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = GatewayMessage
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case open
        case closeSent
        case closed
    }

    private var state: State = .open
    private var assembler: RFC6455MessageAssembler
    private var closeTimer: Scheduled<Void>?
    private let closeGracePeriod: TimeAmount
    private let keepalive: Keepalive
    private let metrics: GatewayMetrics
    private let logger: Logger

    init(maxMessageSize: Int, keepalive: Keepalive, closeGracePeriod: TimeAmount = .seconds(5), metrics: GatewayMetrics, logger: Logger) {
        self.assembler = RFC6455MessageAssembler(maxMessageSize: maxMessageSize)
        self.keepalive = keepalive
        self.closeGracePeriod = closeGracePeriod
        self.metrics = metrics
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.keepalive.start(context: context, sendsPings: true) { [weak self] context, reason in
            self?.startClose(context: context, code: 1001, reason: reason)
        } ping: { context in
            context.writeAndFlush(Self.wrapOutboundOut(RFC6455FrameEncoder.frame(opcode: .ping, payload: ByteBuffer())), promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.closeTimer?.cancel()
        self.keepalive.stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        self.keepalive.sawTraffic()
        guard case .open = self.state else {
            if case .closeSent = self.state, frame.opcode == .connectionClose {
                self.state = .closed
                context.close(promise: nil)
            }
            return
        }
        switch self.assembler.receive(frame) {
        case .needMore:
            break
        case .message(let message):
            self.metrics.messagesIn.add(1)
            self.metrics.bytesIn.add(message.payload.readableBytes)
            context.fireChannelRead(Self.wrapInboundOut(message))
        case .ping(let payload):
            context.writeAndFlush(Self.wrapOutboundOut(RFC6455FrameEncoder.frame(opcode: .pong, payload: payload)), promise: nil)
        case .pong:
            self.keepalive.sawPong()
        case .peerClosed(let code, let reason):
            self.state = .closed
            context.fireChannelRead(Self.wrapInboundOut(.close(code: code, reason: reason)))
            let reply = RFC6455FrameEncoder.closeFrame(code: code)
            context.writeAndFlush(Self.wrapOutboundOut(reply)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .fail(let code, let reason):
            self.logger.debug("protocol error, closing", metadata: ["wsgate.close": "\(code)", "wsgate.reason": "\(reason)"])
            self.fail(context: context, code: code, reason: reason)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? NIOWebSocketError {
            let code: UInt16
            switch error {
            case .invalidFrameLength: code = 1009
            case .fragmentedControlFrame, .multiByteControlFrameLength: code = 1002
            }
            self.fail(context: context, code: code, reason: "\(error)")
            return
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .open = self.state else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        context.write(data, promise: promise)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let request = event as? WebSocketCloseRequest {
            self.startClose(context: context, code: request.code, reason: request.reason)
            promise?.succeed(())
            return
        }
        context.triggerUserOutboundEvent(event, promise: promise)
    }

    /// Sends our close frame and waits (at most the grace period) for the peer's.
    private func startClose(context: ChannelHandlerContext, code: UInt16, reason: String) {
        guard case .open = self.state else { return }
        self.state = .closeSent
        context.fireChannelRead(Self.wrapInboundOut(.close(code: code, reason: reason)))
        let frame = RFC6455FrameEncoder.closeFrame(code: code, reason: reason)
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
        self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.closeGracePeriod) {
            context.close(promise: nil)
        }
    }

    /// Fails the connection (section 7.1.7): our close frame, then the TCP close.
    private func fail(context: ChannelHandlerContext, code: UInt16, reason: String) {
        guard case .open = self.state else { return }
        self.state = .closed
        context.fireChannelRead(Self.wrapInboundOut(.close(code: code, reason: reason)))
        let frame = RFC6455FrameEncoder.closeFrame(code: code, reason: reason)
        context.writeAndFlush(Self.wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension RFC6455FrameHandler: Sendable {}
