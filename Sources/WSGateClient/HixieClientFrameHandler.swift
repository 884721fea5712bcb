import NIOCore
import WSGateWire

/// The client end of a hixie-75/76 connection after the handshake: `0x00 … 0xFF` text frames become
/// text messages (`HixieFrameParser`: UTF-8 checked, `maxMessageSize` enforced, length-prefixed
/// frames discarded); hixie-76's closing handshake `0xFF 0x00` is answered, or awaited after we sent
/// ours. A framing error drops the connection (hixie has no close codes); `onClose` gets `nil, nil`.
final class HixieClientFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Never
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
    private let closeTimeout: TimeAmount
    private var closeTimer: Scheduled<Void>?
    private let callbacks: ClientCallbacks

    init(dialect: HixieDialect, maxMessageSize: Int, closeTimeout: TimeAmount, callbacks: ClientCallbacks) {
        self.dialect = dialect
        self.reader = HixieFrameReader(dialect: dialect, maxMessageSize: maxMessageSize)
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

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let incoming = Self.unwrapInboundIn(data)
        if case .closed = self.state { return }
        do {
            try self.reader.read(incoming) { frame in
                switch frame {
                case .text(let bytes):
                    if case .open = self.state { self.callbacks.onMessage(.text(bytes)) }
                    return true
                case .close:
                    self.receivedClose(context: context)
                    return false
                }
            }
        } catch {
            self.state = .closed
            self.callbacks.reportClose(code: nil, reason: "\(error)")
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
        guard event is ClientCloseRequest else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        promise?.succeed(())
        guard case .open = self.state else { return }
        switch self.dialect {
        case .hixie75:
            self.state = .closed
            context.close(promise: nil)
        case .hixie76:
            self.state = .closeSent
            context.writeAndFlush(Self.wrapOutboundOut(HixieFrameEncoder.closeFrame), promise: nil)
            self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.closeTimeout) {
                context.close(promise: nil)
            }
        }
    }

    private func receivedClose(context: ChannelHandlerContext) {
        switch self.state {
        case .open:
            self.state = .closed
            context.writeAndFlush(Self.wrapOutboundOut(HixieFrameEncoder.closeFrame)).assumeIsolated().whenComplete { _ in
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
}

@available(*, unavailable)
extension HixieClientFrameHandler: Sendable {}
