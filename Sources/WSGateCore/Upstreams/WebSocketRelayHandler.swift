import Logging
import NIOCore
import NIOWebSocket
import WSGateWire

/// The client end of a WebSocket upstream (docs/SPEC.md "Upstreams, all forms"): relays
/// `GatewayMessage`s both ways between the client's frame handler (any dialect, which frames what
/// this writes) and the backend's `UpstreamFrameHandler` (RFC 6455 as a client). Close codes and
/// reasons pass both ways; each hop answers its own pings.
///
/// The backend's channel lives on the client's event loop, so both ends are touched from one
/// thread. Backpressure as for TCP bridges: when one side's channel is not writable, the other side
/// is not read; memory per relay is bounded by the two write watermarks and one message each way.
final class WebSocketRelayHandler: ChannelInboundHandler, FrameWriterUser, MessageReceiver {
    typealias InboundIn = GatewayMessage
    typealias OutboundOut = OutboundFrame

    private let upstream: Channel
    private var leftover: ByteBuffer?
    private let backend: UpstreamFrameHandler
    private let maxMessageBytes: Int
    private let metrics: GatewayMetrics
    private let logger: Logger
    private var context: ChannelHandlerContext?
    /// The client's frame handler, written to directly (set when the pipeline is built).
    var frameWriter: FrameWriter?
    private var isClosing = false

    /// `leftover`: what the backend sent after its 101, fed to the frame decoder first;
    /// `backendCompression`: permessage-deflate on the backend's hop, if the backend accepted it.
    init(
        upstream: Channel, leftover: ByteBuffer, maxMessageBytes: Int, backendCompression: ClientMessageCompression? = nil,
        metrics: GatewayMetrics, logger: Logger
    ) {
        self.upstream = upstream
        self.leftover = leftover
        self.maxMessageBytes = maxMessageBytes
        self.backend = UpstreamFrameHandler(maxMessageSize: maxMessageBytes, compression: backendCompression)
        self.metrics = metrics
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.backend.relay = self
        let pipeline = self.upstream.pipeline.syncOperations
        do {
            try pipeline.addHandler(self.backend)
            if let handshake = try? pipeline.handler(type: UpstreamHandshakeHandler.self) {
                pipeline.removeHandler(handshake, promise: nil)
            }
        } catch {
            context.close(promise: nil)
            return
        }
        // The client's frame handler goes in after us (the handlers are added last to first):
        // the backend's first messages wait for the next turn of the loop.
        context.eventLoop.assumeIsolated().execute {
            guard self.context != nil else { return }
            if let leftover = self.leftover {
                self.leftover = nil
                self.backend.readLeftover(leftover)
            }
            self.upstream.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.frameWriter = nil
    }

    /// Closes the upstream of a relay that never got into a pipeline.
    func discard() {
        self.upstream.close(promise: nil)
    }

    // MARK: Client → backend

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.backend.send(Self.unwrapInboundIn(data))
    }

    func receiveMessage(_ message: GatewayMessage) {
        guard self.context != nil else { return }
        self.backend.send(message)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.backend.flushIfNeeded()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let close = event as? WebSocketClose {
            self.clientClosed(close)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.clientClosed(WebSocketClose(code: .goingAway, reason: "client connection lost"))
        // Nothing may be written any more: the frame handler before us leaves the pipeline first,
        // and an unframed message must never reach the socket.
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.logger.debug("connection error, closing", metadata: ["wsgate.error": "\(error)"])
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // The client is slow: stop reading the backend until it catches up.
        self.upstream.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }

    /// The client's end: its code and reason go to the backend (1005 and 1006, which no frame may
    /// carry, as a close without a code), after every message written so far.
    private func clientClosed(_ close: WebSocketClose) {
        guard !self.isClosing else { return }
        self.isClosing = true
        var passed = close
        if let code = close.code, code.rawValue == 1005 || code.rawValue == 1006 || code.rawValue == 1015 {
            passed = WebSocketClose(code: nil, reason: nil)
        }
        self.backend.close(passed)
    }

    // MARK: Backend → client

    func backendMessage(_ message: GatewayMessage) {
        guard let context = self.context, !self.isClosing, context.channel.isActive else { return }
        self.writeFrame(OutboundFrame(message), context: context)
        self.metrics.messagesOut.add(1)
    }

    func backendReadComplete() {
        self.context?.flush()
    }

    func backendWritabilityChanged(isWritable: Bool) {
        // The backend is slow: stop reading the client until it catches up.
        self.context?.channel.setOption(ChannelOptions.autoRead, value: isWritable).whenFailure { _ in }
    }

    /// The backend's end: its code and reason go to the client (no code: 1000), after every
    /// message written so far.
    func backendClosed(_ close: WebSocketClose) {
        guard let context = self.context, !self.isClosing, context.channel.isActive else { return }
        self.isClosing = true
        context.flush()
        let code = close.code ?? .normalClosure
        context.triggerUserOutboundEvent(WebSocketCloseRequest(code: code, reason: close.reason ?? ""), promise: nil)
    }
}

@available(*, unavailable)
extension WebSocketRelayHandler: Sendable {}
