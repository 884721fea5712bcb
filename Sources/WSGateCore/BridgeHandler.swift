import Logging
import NIOCore
import WSGateConfig
import WSGateWire

/// The WebSocket end of an upstream bridge: messages to TCP bytes and back, with backpressure both
/// ways and ordered closes (SPEC "Upstream bridges").
///
/// The upstream channel lives on the client's event loop, so both ends are touched from one
/// thread. When either side cannot keep up (its channel is not writable), reading from the other
/// side stops; memory per bridge is bounded by the two channels' write watermarks.
final class BridgeHandler: ChannelInboundHandler {
    typealias InboundIn = GatewayMessage
    typealias OutboundOut = ByteBuffer

    private let upstream: Channel
    private let encoding: BridgeEncoding
    private let dialect: WebSocketDialect
    private let metrics: GatewayMetrics
    private let logger: Logger
    private var context: ChannelHandlerContext?
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

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Client → upstream

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = Self.unwrapInboundIn(data)
        if case .close = message {
            self.clientClosed()
            return
        }
        guard let bytes = BridgeCodec.upstreamBytes(for: message, encoding: self.encoding) else {
            self.logger.info("bridge: text that is not base64, closing")
            context.triggerUserOutboundEvent(WebSocketCloseRequest(code: 1007, reason: "invalid base64"), promise: nil)
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
        self.upstream.writeAndFlush(ByteBuffer()).whenComplete { _ in
            self.upstream.close(mode: .output, promise: nil)
            // The upstream may never close its side: do not keep it forever.
            self.upstream.eventLoop.scheduleTask(in: .seconds(5)) { self.upstream.close(promise: nil) }
        }
    }

    // MARK: Upstream → client

    fileprivate func upstreamRead(_ buffer: ByteBuffer) {
        guard let context = self.context, !self.isClosing else { return }
        let message: GatewayMessage
        switch self.encoding {
        case .binary where !self.dialect.isHixie:
            // Header and payload as two writes (gathered by writev): the upstream's bytes are not copied.
            let header = RFC6455FrameEncoder.header(opcode: .binary, payloadLength: buffer.readableBytes)
            context.write(Self.wrapOutboundOut(header), promise: nil)
            context.write(Self.wrapOutboundOut(buffer), promise: nil)
            self.metrics.messagesOut.add(1)
            return
        case .binary:
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
                context.triggerUserOutboundEvent(WebSocketCloseRequest(code: 1007, reason: "upstream sent invalid UTF-8"), promise: nil)
                self.clientClosed()
                return
            }
            self.utf8Tail = Array(bytes[complete..<(complete + tail)])
            guard complete > 0 else { return }
            message = .text(ByteBuffer(bytes: bytes[0..<complete]))
        }
        context.write(Self.wrapOutboundOut(MessageEncoding.frame(for: message, dialect: self.dialect)), promise: nil)
        self.metrics.messagesOut.add(1)
    }

    fileprivate func upstreamReadComplete() {
        self.context?.flush()
    }

    fileprivate func upstreamWritabilityChanged(isWritable: Bool) {
        // The upstream is slow: stop reading the client until it catches up.
        self.context?.channel.setOption(ChannelOptions.autoRead, value: isWritable).whenFailure { _ in }
    }

    fileprivate func upstreamClosed() {
        guard let context = self.context, !self.isClosing else { return }
        self.isClosing = true
        context.flush()
        if !self.utf8Tail.isEmpty {
            // The upstream ended inside a UTF-8 sequence: those bytes can never become text.
            self.logger.info("bridge: upstream closed inside a UTF-8 sequence, closing 1007")
            context.triggerUserOutboundEvent(WebSocketCloseRequest(code: 1007, reason: "upstream sent truncated UTF-8"), promise: nil)
            return
        }
        context.triggerUserOutboundEvent(WebSocketCloseRequest(code: 1000, reason: "upstream closed"), promise: nil)
    }
}

@available(*, unavailable)
extension BridgeHandler: Sendable {}

/// Sits in the upstream channel and hands its events to the bridge (same event loop).
final class UpstreamRelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let bridge: BridgeHandler

    init(bridge: BridgeHandler) {
        self.bridge = bridge
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.bridge.upstreamRead(Self.unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.bridge.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.bridge.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.bridge.upstreamClosed()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension UpstreamRelayHandler: Sendable {}
