import Logging
import NIOCore
import WSGateWire

/// Speaks hixie-75/76 after the handshake: `0x00 … 0xFF` text frames up as normalized messages,
/// the hixie-76 closing handshake `0xFF 0x00` both ways (`ClosingHandshake`), and any error as a
/// dropped connection (hixie has no close codes).
///
/// It owns outbound framing: messages become text frames (binary as base64 text), bytes a room
/// framed for this family pass through; a `WebSocketCloseRequest` becomes `0xFF 0x00` (hixie-76,
/// then at most `closeGracePeriod` for the answer) or a TCP close (hixie-75). The connection's end
/// goes up once, as a `WebSocketClose` event.
final class HixieFrameHandler: ChannelDuplexHandler, ClosingHandshakePerformer {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = GatewayMessage
    typealias OutboundIn = OutboundFrame
    typealias OutboundOut = ByteBuffer

    var closing: ClosingHandshake
    private var reader: HixieFrameReader
    var closeTimer: Scheduled<Void>?
    let closeGracePeriod: TimeAmount
    /// The keepalive timers; nil when the route has neither pings nor an idle timeout.
    private let keepalive: Keepalive?
    private let metrics: GatewayMetrics
    private let logger: Logger
    /// Its place in the pipeline while it is in one (the session's direct writes go out from here).
    private var context: ChannelHandlerContext?
    /// The handler above, handed messages directly (nil: up the pipeline); set with the pipeline.
    var receiver: MessageReceiver?

    init(dialect: HixieDialect, maxMessageSize: Int, keepalive: Keepalive?, closeGracePeriod: TimeAmount = .seconds(5), metrics: GatewayMetrics, logger: Logger) {
        self.closing = ClosingHandshake(hasCloseFrame: dialect == .hixie76)
        self.reader = HixieFrameReader(dialect: dialect, maxMessageSize: maxMessageSize)
        self.keepalive = keepalive
        self.closeGracePeriod = closeGracePeriod
        self.metrics = metrics
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let keepalive = self.keepalive { self.startKeepalive(keepalive, context: context, ping: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.receiver = nil
        self.closeTimer?.cancel()
        self.keepalive?.stop()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.connectionLost(context: context)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let incoming = Self.unwrapInboundIn(data)
        self.keepalive?.sawTraffic()
        if self.closing.state == .closed { return }
        do {
            try self.reader.read(incoming) { frame in
                switch frame {
                case .text(let bytes):
                    guard self.closing.delivers else { return true }
                    self.metrics.messagesIn.add(1)
                    self.metrics.bytesIn.add(bytes.readableBytes)
                    self.passOn(.text(bytes), to: self.receiver, context: context)
                    return true
                case .close:
                    self.perform(self.closing.peerClosed(WebSocketClose(code: nil, reason: nil)), context: context)
                    return false
                }
            }
        } catch {
            self.logger.debug("hixie framing error, dropping", metadata: ["wsgate.reason": "\(error)"])
            // Hixie has no close codes: the connection is dropped, not closed with a frame.
            if let close = self.closing.connectionLost() { context.fireUserInboundEventTriggered(WebSocketClose(code: close.code, reason: "\(error)")) }
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard self.closing.canSend else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        context.write(Self.wrapOutboundOut(Self.bytes(of: Self.unwrapOutboundIn(data))), promise: promise)
    }

    /// The session's direct write (`FrameWriter`): as `write` with an `OutboundFrame`, no promise.
    func writeFrame(_ frame: OutboundFrame) {
        guard let context = self.context, self.closing.canSend else { return }
        context.write(Self.wrapOutboundOut(Self.bytes(of: frame)), promise: nil)
    }

    private static func bytes(of frame: OutboundFrame) -> ByteBuffer {
        switch frame {
        case .framed(let framed): return framed
        case .text(let payload): return MessageFramer.frame(.text(payload), family: .hixieText).bytes
        case .binary(let payload): return MessageFramer.frame(.binary(payload), family: .hixieText).bytes
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        self.handleOutboundEvent(context: context, event: event, promise: promise)
    }

    /// hixie-76's close frame is `0xFF 0x00`, whatever the code.
    func closeFrameBytes(_ close: WebSocketClose) -> ByteBuffer {
        HixieFrameEncoder.closeFrame
    }
}

@available(*, unavailable)
extension HixieFrameHandler: Sendable {}
