import Logging
import NIOCore
import NIOWebSocket
import WSGateWire

/// Speaks RFC 6455 after the handshake: frames in, normalized messages up; pings answered; the
/// closing handshake both ways (`ClosingHandshake`); every protocol error turned into its close
/// code (sections 5–7).
///
/// Sits after NIO's `WebSocketFrameDecoder`. It owns outbound framing: sessions write
/// `OutboundFrame`s (messages, or bytes a room framed for this family) and it frames the
/// messages; a `WebSocketCloseRequest` becomes a close frame, then the peer has
/// `closeGracePeriod` to answer. The connection's end goes up once, as a `WebSocketClose` event.
final class RFC6455FrameHandler: ChannelDuplexHandler, ClosingHandshakePerformer {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = GatewayMessage
    typealias OutboundIn = OutboundFrame
    typealias OutboundOut = ByteBuffer

    /// Payloads from this size on go out as a header plus the payload's own buffer (gathered by
    /// writev, or one small TLS record more) instead of being copied behind a new header.
    static let separateHeaderThreshold = 8 * 1024

    var closing = ClosingHandshake(hasCloseFrame: true)
    private var assembler: RFC6455MessageAssembler
    var closeTimer: Scheduled<Void>?
    let closeGracePeriod: TimeAmount
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
        self.startKeepalive(self.keepalive, context: context, ping: RFC6455FrameEncoder.frame(opcode: .ping, payload: ByteBuffer()))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.closeTimer?.cancel()
        self.keepalive.stop()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.connectionLost(context: context)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        self.keepalive.sawTraffic()
        guard self.closing.delivers else {
            // Only our close's answer matters now.
            if self.closing.state == .closeSent, frame.opcode == .connectionClose {
                self.perform(self.closing.peerClosed(WebSocketClose(code: nil, reason: nil)), context: context)
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
        case .peerClosed(let close):
            self.perform(self.closing.peerClosed(close), context: context)
        case .fail(let close):
            self.logger.debug("protocol error, closing", metadata: ["wsgate.close": "\(close.code.map { "\($0)" } ?? "-")", "wsgate.reason": "\(close.reason ?? "")"])
            self.perform(self.closing.protocolFailed(close), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? NIOWebSocketError {
            self.perform(self.closing.protocolFailed(WebSocketClose(code: WebSocketCloseCode(error), reason: "\(error)")), context: context)
            return
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard self.closing.canSend else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        switch Self.unwrapOutboundIn(data) {
        case .framed(let bytes):
            context.write(Self.wrapOutboundOut(bytes), promise: promise)
        case .text(let payload):
            self.write(opcode: .text, payload: payload, context: context, promise: promise)
        case .binary(let payload):
            self.write(opcode: .binary, payload: payload, context: context, promise: promise)
        }
    }

    private func write(opcode: RFC6455FrameEncoder.Opcode, payload: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard payload.readableBytes >= Self.separateHeaderThreshold else {
            context.write(Self.wrapOutboundOut(RFC6455FrameEncoder.frame(opcode: opcode, payload: payload)), promise: promise)
            return
        }
        // Back to back in one call: nothing can come between the header and its payload.
        context.write(Self.wrapOutboundOut(RFC6455FrameEncoder.header(opcode: opcode, payloadLength: payload.readableBytes)), promise: nil)
        context.write(Self.wrapOutboundOut(payload), promise: promise)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        self.handleOutboundEvent(context: context, event: event, promise: promise)
    }

    func closeFrameBytes(_ close: WebSocketClose) -> ByteBuffer {
        RFC6455FrameEncoder.closeFrame(close)
    }
}

@available(*, unavailable)
extension RFC6455FrameHandler: Sendable {}
