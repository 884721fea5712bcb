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
///
/// With permessage-deflate negotiated (RFC 7692), frames with RSV1 are accepted: a compressed
/// message is inflated by an `Inflater` for the server's direction, bounded by `maxMessageSize`
/// (1009 beyond it, 1007 for data that does not inflate), and a text message is UTF-8 checked
/// after inflation. Messages sent as `ClientSendRequest` events of `compressionMinBytes` or more go
/// out compressed by a `Deflater` for the client's direction when that makes the frame shorter;
/// otherwise plain, and then the compressor's window, which now holds bytes the server never saw,
/// is dropped (unless it is reset per message anyway). zlib state exists only from the first
/// compressed message in each direction.
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

    private let maxMessageSize: Int
    /// permessage-deflate, when the server accepted it (zlib streams made on first use).
    private let compression: ClientMessageCompression?

    /// The zlib memory the connection holds now (0 until it first compresses or inflates).
    var zlibMemoryBytes: Int { self.compression?.zlibMemoryBytes ?? 0 }

    init(
        maxMessageSize: Int, closeTimeout: TimeAmount, callbacks: ClientCallbacks,
        compression: PerMessageDeflateParameters? = nil, compressionMinBytes: Int = 64
    ) {
        self.assembler = RFC6455MessageAssembler(
            maxMessageSize: maxMessageSize,
            requiresMasking: false, acceptsCompressed: compression != nil)
        self.closeTimeout = closeTimeout
        self.callbacks = callbacks
        self.maxMessageSize = maxMessageSize
        self.compression = compression.map { ClientMessageCompression(parameters: $0, minBytes: compressionMinBytes) }
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
        case .compressedMessage(let isText, let payload):
            self.inflate(payload, isText: isText, context: context)
        }
    }

    /// A compressed message in: inflated within the size limit, then UTF-8 checked if text.
    private func inflate(_ payload: ByteBuffer, isText: Bool, context: ChannelHandlerContext) {
        guard let compression = self.compression else {
            // Not produced: without compression the assembler refuses RSV1.
            return self.perform(self.closing.protocolFailed(WebSocketClose(code: .protocolError, reason: "compressed message")), context: context)
        }
        switch compression.inflate(payload, isText: isText, maxMessageSize: self.maxMessageSize, allocator: context.channel.allocator) {
        case .message(let message):
            if self.closing.delivers { self.callbacks.onMessage(message) }
        case .fail(let close):
            self.perform(self.closing.protocolFailed(close), context: context)
        }
    }

    /// A message out: compressed when negotiated, large enough and shorter that way; masked.
    private func send(_ request: ClientSendRequest, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard self.closing.canSend else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        let opcode: RFC6455FrameEncoder.Opcode
        let payload: ByteBuffer
        switch request.message {
        case .text(let bytes): (opcode, payload) = (.text, bytes)
        case .binary(let bytes): (opcode, payload) = (.binary, bytes)
        }
        let allocator = context.channel.allocator
        let compressed = self.compression?.compressedFrame(opcode: opcode, payload: payload, maskingKey: makeMaskingKey(), allocator: allocator)
        let bytes = compressed ?? RFC6455FrameEncoder.frame(opcode: opcode, payload: payload, maskingKey: makeMaskingKey(), allocator: allocator)
        if request.flush {
            context.writeAndFlush(Self.wrapOutboundOut(bytes), promise: promise)
        } else {
            context.write(Self.wrapOutboundOut(bytes), promise: promise)
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
        if let send = event as? ClientSendRequest {
            return self.send(send, context: context, promise: promise)
        }
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
