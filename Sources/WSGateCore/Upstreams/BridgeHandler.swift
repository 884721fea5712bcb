import Logging
import NIOCore
import WSGateConfig
import WSGateWire

/// The WebSocket end of an upstream bridge: messages to TCP bytes and back, with backpressure both
/// ways and ordered closes (docs/SPEC.md "Upstream bridges").
///
/// The upstream channel lives on the client's event loop, so both ends are touched from one
/// thread. When either side cannot keep up (its channel is not writable), reading from the other
/// side stops; memory per bridge is bounded by the two channels' write watermarks.
final class BridgeHandler: ChannelInboundHandler, FrameWriterUser, MessageReceiver {
    typealias InboundIn = GatewayMessage
    typealias OutboundOut = OutboundFrame

    private let upstream: Channel
    private let encoding: BridgeEncoding
    private let dialect: WebSocketDialect
    private let metrics: GatewayMetrics
    private let logger: Logger
    private var context: ChannelHandlerContext?
    /// The client's frame handler, written to directly (set when the pipeline is built).
    var frameWriter: FrameWriter?
    private var utf8Tail: [UInt8] = []
    private var isClosing = false
    private var upstreamNeedsFlush = false

    init(upstream: Channel, encoding: BridgeEncoding, dialect: WebSocketDialect, metrics: GatewayMetrics, logger: Logger) {
        self.upstream = upstream
        self.encoding = encoding
        self.dialect = dialect
        self.metrics = metrics
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        do {
            try self.upstream.pipeline.syncOperations.addHandler(UpstreamRelayHandler(bridge: self))
        } catch {
            context.close(promise: nil)
            return
        }
        self.upstream.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
    }

    /// Closes the upstream of a bridge that never got into a pipeline.
    func discard() {
        self.upstream.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.frameWriter = nil
    }

    // MARK: Client → upstream

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received(Self.unwrapInboundIn(data), context: context)
    }

    func receiveMessage(_ message: GatewayMessage) {
        guard let context = self.context else { return }
        self.received(message, context: context)
    }

    private func received(_ message: GatewayMessage, context: ChannelHandlerContext) {
        guard let bytes = BridgeCodec.upstreamBytes(for: message, encoding: self.encoding) else {
            self.logger.info("bridge: text that is not base64, closing")
            context.triggerUserOutboundEvent(WebSocketCloseRequest(code: .invalidPayload, reason: "invalid base64"), promise: nil)
            self.clientClosed()
            return
        }
        if bytes.readableBytes > 0 {
            self.upstream.write(bytes, promise: nil)
            self.upstreamNeedsFlush = true
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.upstreamNeedsFlush {
            self.upstreamNeedsFlush = false
            self.upstream.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.clientClosed()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is WebSocketClose {
            self.clientClosed()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.logger.debug("connection error, closing", metadata: ["wsgate.error": "\(error)"])
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // The client is slow: stop reading the upstream until it catches up.
        self.upstream.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }

    /// The client is gone or closing: the upstream gets every byte written so far, then a FIN.
    private func clientClosed() {
        guard !self.isClosing else { return }
        self.isClosing = true
        let upstream = self.upstream
        upstream.writeAndFlush(ByteBuffer()).whenComplete { _ in
            upstream.close(mode: .output, promise: nil)
            // The upstream may never close its side: do not keep it forever.
            upstream.eventLoop.scheduleTask(in: .seconds(5)) { upstream.close(promise: nil) }
        }
    }

    // MARK: Upstream → client

    func upstreamRead(_ buffer: ByteBuffer) {
        guard let context = self.context, !self.isClosing else { return }
        let message: GatewayMessage
        switch self.encoding {
        case .binary:
            // Large payloads leave as header + this buffer (the frame handler's choice): not copied.
            message = .binary(buffer)
        case .base64:
            message = .text(ByteBuffer(string: Base64.encode(buffer)))
        case .text:
            var bytes = self.utf8Tail
            bytes.append(contentsOf: buffer.readableBytesView)
            let (complete, tail) = BridgeCodec.completeUTF8Prefix(bytes)
            let valid = bytes[0..<complete].withUnsafeBytes { UTF8Validator.isValid($0) }
            guard valid else {
                self.logger.info("bridge: upstream sent bytes that are not UTF-8, closing 1007")
                context.triggerUserOutboundEvent(WebSocketCloseRequest(code: .invalidPayload, reason: "upstream sent invalid UTF-8"), promise: nil)
                self.clientClosed()
                return
            }
            self.utf8Tail = Array(bytes[complete..<(complete + tail)])
            guard complete > 0 else { return }
            message = .text(ByteBuffer(bytes: bytes[0..<complete]))
        }
        self.writeFrame(OutboundFrame(message), context: context)
        self.metrics.messagesOut.add(1)
    }

    func upstreamReadComplete() {
        self.context?.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        // The upstream is slow: stop reading the client until it catches up.
        self.context?.channel.setOption(ChannelOptions.autoRead, value: isWritable).whenFailure { _ in }
    }

    func upstreamClosed() {
        guard let context = self.context, !self.isClosing else { return }
        self.isClosing = true
        context.flush()
        if !self.utf8Tail.isEmpty {
            // The upstream ended inside a UTF-8 sequence: those bytes can never become text.
            self.logger.info("bridge: upstream closed inside a UTF-8 sequence, closing 1007")
            context.triggerUserOutboundEvent(WebSocketCloseRequest(code: .invalidPayload, reason: "upstream sent truncated UTF-8"), promise: nil)
            return
        }
        context.triggerUserOutboundEvent(WebSocketCloseRequest(code: .normalClosure, reason: "upstream closed"), promise: nil)
    }
}

@available(*, unavailable)
extension BridgeHandler: Sendable {}
