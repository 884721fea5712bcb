import Logging
import NIOCore
import WSGateWire

/// Speaks hixie-75/76 after the handshake: `0x00 … 0xFF` text frames up as normalized messages,
/// the hixie-76 closing handshake `0xFF 0x00` both ways, and any error as a dropped connection
/// (hixie has no close codes).
///
/// Outbound it passes encoded frames through; a `WebSocketCloseRequest` becomes `0xFF 0x00`
/// (hixie-76, then at most `closeGracePeriod` for the answer) or a TCP close (hixie-75).
final class HixieFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = GatewayMessage
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case open
        case closeSent
        case closed
    }

    private var state: State = .open
    private var reader: HixieFrameReader
    private let dialect: HixieDialect
    private var closeTimer: Scheduled<Void>?
    private let closeGracePeriod: TimeAmount
    private let keepalive: Keepalive
    private let metrics: GatewayMetrics
    private let logger: Logger

    init(dialect: HixieDialect, maxMessageSize: Int, keepalive: Keepalive, closeGracePeriod: TimeAmount = .seconds(5), metrics: GatewayMetrics, logger: Logger) {
        self.dialect = dialect
        self.reader = HixieFrameReader(dialect: dialect, maxMessageSize: maxMessageSize)
        self.keepalive = keepalive
        self.closeGracePeriod = closeGracePeriod
        self.metrics = metrics
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.keepalive.start(context: context, sendsPings: false) { [weak self] context, reason in
            self?.startClose(context: context, reason: reason)
        } ping: { _ in }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.closeTimer?.cancel()
        self.keepalive.stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let incoming = Self.unwrapInboundIn(data)
        self.keepalive.sawTraffic()
        if case .closed = self.state { return }
        do {
            try self.reader.read(incoming) { frame in
                switch frame {
                case .text(let bytes):
                    guard case .open = self.state else { return true }
                    self.metrics.messagesIn.add(1)
                    self.metrics.bytesIn.add(bytes.readableBytes)
                    context.fireChannelRead(Self.wrapInboundOut(.text(bytes)))
                    return true
                case .close:
                    self.receivedClose(context: context)
                    return false
                }
            }
        } catch {
            self.logger.debug("hixie framing error, dropping", metadata: ["wsgate.reason": "\(error)"])
            self.state = .closed
            context.fireChannelRead(Self.wrapInboundOut(.close(code: nil, reason: "\(error)")))
            context.close(promise: nil)
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
        if let request = event as? WebSocketCloseRequest {
            self.startClose(context: context, reason: request.reason)
            promise?.succeed(())
            return
        }
        context.triggerUserOutboundEvent(event, promise: promise)
    }

    private func receivedClose(context: ChannelHandlerContext) {
        switch self.state {
        case .open:
            self.state = .closed
            context.fireChannelRead(Self.wrapInboundOut(.close(code: nil, reason: nil)))
            context.writeAndFlush(Self.wrapOutboundOut(HixieFrameEncoder.closeFrame)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .closeSent:
            self.state = .closed
            context.close(promise: nil)
        case .closed:
            break
        }
    }

    private func startClose(context: ChannelHandlerContext, reason: String) {
        guard case .open = self.state else { return }
        context.fireChannelRead(Self.wrapInboundOut(.close(code: nil, reason: reason)))
        switch self.dialect {
        case .hixie75:
            self.state = .closed
            context.close(promise: nil)
        case .hixie76:
            self.state = .closeSent
            context.writeAndFlush(Self.wrapOutboundOut(HixieFrameEncoder.closeFrame), promise: nil)
            self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.closeGracePeriod) {
                context.close(promise: nil)
            }
        }
    }
}

@available(*, unavailable)
extension HixieFrameHandler: Sendable {}
