import Logging
import NIOCore
import NIOWebSocket
import WSGateWire

/// Speaks RFC 6455 after the handshake: frames in, normalized messages up; pings answered; the
/// closing handshake both ways (`ClosingHandshake`); every protocol error turned into its close
/// code (sections 5–7).
///
/// Reads the connection's bytes itself (`RFC6455FrameReader`, frames cut in place and handed to
/// the assembler by a direct call) and hands messages to its `receiver` directly (or up the
/// pipeline when there is none). It owns outbound framing: sessions write
/// `OutboundFrame`s (messages, or bytes a room framed for this family) and it frames the
/// messages; a `WebSocketCloseRequest` becomes a close frame, then the peer has
/// `closeGracePeriod` to answer. The connection's end goes up once, as a `WebSocketClose` event.
///
/// With permessage-deflate negotiated, compressed messages are inflated (stopping at
/// `maxMessageSize`: close 1009; bad data: 1007) before their UTF-8 is checked, and messages
/// from `minBytes` on are compressed when that makes them shorter.
final class RFC6455FrameHandler: ChannelDuplexHandler, ClosingHandshakePerformer, RFC6455FrameReading {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = GatewayMessage
    typealias OutboundIn = OutboundFrame
    typealias OutboundOut = ByteBuffer

    /// Payloads from this size on go out as a header plus the payload's own buffer (gathered by
    /// writev, or one small TLS record more) instead of being copied behind a new header.
    static let separateHeaderThreshold = 8 * 1024

    var closing = ClosingHandshake(hasCloseFrame: true)
    private var reader: RFC6455FrameReader
    private var assembler: RFC6455MessageAssembler
    /// The handler above, handed messages directly (nil: up the pipeline); set with the pipeline.
    var receiver: MessageReceiver?
    var closeTimer: Scheduled<Void>?
    let closeGracePeriod: TimeAmount
    /// The keepalive timers; nil when the route has neither pings nor an idle timeout.
    private let keepalive: Keepalive?
    private let metrics: GatewayMetrics
    private let logger: Logger
    private var maxMessageSize: Int { self.assembler.maxMessageSize }
    /// The negotiated compression and its streams, created on the first compressed message in
    /// each direction (no zlib state before).
    private let compression: MessageCompression?
    /// Its place in the pipeline while it is in one (the session's direct writes go out from here).
    private var context: ChannelHandlerContext?

    /// The zlib memory this connection holds now (0 until it first compresses or inflates).
    var zlibMemoryBytes: Int { self.compression?.zlibMemoryBytes ?? 0 }

    init(
        maxMessageSize: Int, keepalive: Keepalive?, compression: MessageCompression? = nil,
        closeGracePeriod: TimeAmount = .seconds(5), metrics: GatewayMetrics, logger: Logger
    ) {
        let assembler = RFC6455MessageAssembler(maxMessageSize: maxMessageSize, acceptsCompressed: compression != nil)
        self.assembler = assembler
        self.reader = RFC6455FrameReader(for: assembler)
        self.compression = compression
        self.keepalive = keepalive
        self.closeGracePeriod = closeGracePeriod
        self.metrics = metrics
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let keepalive = self.keepalive { self.startKeepalive(keepalive, context: context, ping: RFC6455FrameEncoder.frame(opcode: .ping, payload: ByteBuffer())) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.receiver = nil
        self.reader.discard()
        self.closeTimer?.cancel()
        self.keepalive?.stop()
        self.compression?.inflater = nil
        self.compression?.deflater = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.connectionLost(context: context)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.readFrames(Self.unwrapInboundIn(data), context: context)
    }

    var isClosed: Bool { self.closing.state == .closed }
    func appendRead(_ bytes: ByteBuffer) { self.reader.append(bytes) }
    func nextFrame() throws(NIOWebSocketError) -> RFC6455Frame? { try self.reader.next() }
    func discardRead() { self.reader.discard() }

    func framingFailed(_ close: WebSocketClose, context: ChannelHandlerContext) {
        self.perform(self.closing.protocolFailed(close), context: context)
    }

    func received(_ frame: RFC6455Frame, context: ChannelHandlerContext) {
        // A whole frame is traffic (a byte every few seconds inside one frame is not: idle_timeout_s).
        self.keepalive?.sawTraffic()
        guard self.closing.delivers else {
            // Only our close's answer matters now.
            if self.closing.state == .closeSent, frame.opcode == 0x8 {
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
            self.passOn(message, to: self.receiver, context: context)
        case .compressedMessage(let isText, let payload):
            self.inflate(payload, isText: isText, context: context)
        case .ping(let payload):
            context.writeAndFlush(Self.wrapOutboundOut(RFC6455FrameEncoder.frame(opcode: .pong, payload: payload)), promise: nil)
        case .pong:
            self.keepalive?.sawPong()
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
        self.write(Self.unwrapOutboundIn(data), context: context, promise: promise)
    }

    /// The session's direct write (`FrameWriter`): as `write` with an `OutboundFrame`, no promise.
    func writeFrame(_ frame: OutboundFrame) {
        guard let context = self.context, self.closing.canSend else { return }
        self.write(frame, context: context, promise: nil)
    }

    private func write(_ frame: OutboundFrame, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        switch frame {
        case .framed(let bytes):
            context.write(Self.wrapOutboundOut(bytes), promise: promise)
        case .text(let payload):
            self.write(opcode: .text, payload: payload, context: context, promise: promise)
        case .binary(let payload):
            self.write(opcode: .binary, payload: payload, context: context, promise: promise)
        }
    }

    /// A compressed message in: inflated within the size limit, then UTF-8 checked if text.
    private func inflate(_ payload: ByteBuffer, isText: Bool, context: ChannelHandlerContext) {
        guard let compression = self.compression else { return }
        let inflater = compression.inflater ?? compression.parameters.makeInflater(role: .server)
        compression.inflater = inflater
        let message: ByteBuffer
        do {
            message = try inflater.decompress(payload, maxOutputBytes: self.maxMessageSize)
        } catch {
            let close: WebSocketClose
            switch error {
            case .tooLarge: close = WebSocketClose(code: .messageTooBig, reason: "message over \(self.maxMessageSize) bytes once inflated")
            case .invalidData: close = WebSocketClose(code: .invalidPayload, reason: "compressed data that does not inflate")
            case .zlibFailure: close = WebSocketClose(code: .internalError, reason: "zlib failed")
            }
            self.logger.debug("compressed message refused", metadata: ["wsgate.close": "\(close.code.map { "\($0)" } ?? "-")", "wsgate.reason": "\(close.reason ?? "")"])
            return self.perform(self.closing.protocolFailed(close), context: context)
        }
        if isText, !message.withUnsafeReadableBytes({ UTF8Validator.isValid($0) }) {
            return self.perform(self.closing.protocolFailed(WebSocketClose(code: .invalidPayload, reason: "invalid UTF-8 in a text message")), context: context)
        }
        self.metrics.messagesIn.add(1)
        self.metrics.bytesIn.add(message.readableBytes)
        self.passOn(isText ? .text(message) : .binary(message), to: self.receiver, context: context)
    }

    private func write(opcode: RFC6455FrameEncoder.Opcode, payload: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        if let compression = self.compression, payload.readableBytes >= compression.minBytes {
            let deflater = compression.deflater ?? compression.parameters.makeDeflater(
                role: .server, memLevel: SharedDeflaters.memLevel(windowBits: compression.parameters.serverMaxWindowBits))
            compression.deflater = deflater
            let frame = RFC6455FrameEncoder.compressedMessageFrame(opcode: opcode, message: payload, deflater: deflater)
            compression.compressions.add(1)
            let plainLength = RFC6455FrameEncoder.headerLength(payloadLength: payload.readableBytes, masked: false) + payload.readableBytes
            if frame.readableBytes < plainLength {
                context.write(Self.wrapOutboundOut(frame), promise: promise)
                return
            }
            // It would not shrink: out plain, and the window that now holds bytes the peer never
            // inflated is dropped (a new compressor starts empty, which any peer can follow).
            if !compression.parameters.serverNoContextTakeover { compression.deflater = nil }
        }
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
