import NIOCore
import NIOWebSocket
import WSGateWire

/// What a completed opening handshake established.
struct ClientHandshakeResult: Sendable {
    var subprotocol: String?
    var headers: [(String, String)]
    var compression: PerMessageDeflateParameters?
}

/// Sends the opening handshake as soon as the channel is active (over TLS, `TLSHandler` holds it
/// until its own handshake is done), reads and validates the answer, then installs the dialect's
/// frame handler, hands it the bytes that followed the answer, and removes itself.
///
/// `promise` is completed exactly once: with the result, or with the reason the handshake failed
/// (the channel is then closed).
final class ClientHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let request: ClientHandshakeRequest
    private var parser: ClientHandshakeResponseParser
    private let promise: EventLoopPromise<ClientHandshakeResult>
    private let callbacks: ClientCallbacks
    private var hasSentRequest = false
    private var isDone = false

    init(request: ClientHandshakeRequest, promise: EventLoopPromise<ClientHandshakeResult>, callbacks: ClientCallbacks) {
        self.request = request
        self.parser = ClientHandshakeResponseParser(tokenLength: request.tokenLength)
        self.promise = promise
        self.callbacks = callbacks
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.sendRequest(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.fail(.connectionClosedDuringHandshake, context: nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.sendRequest(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.fail(.connectionClosedDuringHandshake, context: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.isDone = true
        self.promise.fail(error)
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.isDone else { return }
        var bytes = Self.unwrapInboundIn(data)
        let parsed: (ClientHandshakeResponse, leftover: ByteBuffer)?
        do {
            parsed = try self.parser.feed(&bytes)
        } catch {
            return self.fail(.malformedResponse(error), context: context)
        }
        guard let parsed else { return }
        var response = parsed.0
        let leftover = parsed.leftover
        if response.status != 101 {
            response.body = String(buffer: leftover)
        }
        let agreement: ClientHandshakeRequest.Agreement
        do {
            agreement = try self.request.validate(response)
        } catch {
            return self.fail(error, context: context)
        }
        self.isDone = true
        let configuration = self.request.configuration
        let handlers: [ChannelHandler]
        switch configuration.dialect {
        case .rfc6455:
            // A compressed frame may be a little longer than the message it inflates to.
            let frameLimit = agreement.compression == nil
                ? configuration.maxMessageSize : RFC6455MessageAssembler.compressedWireLimit(configuration.maxMessageSize)
            handlers = [
                ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: min(frameLimit, Int(UInt32.max)))),
                RFC6455ClientFrameHandler(
                    maxMessageSize: configuration.maxMessageSize, closeTimeout: configuration.closeTimeout, callbacks: self.callbacks,
                    compression: agreement.compression, compressionMinBytes: configuration.compressionMinBytes),
            ]
        case .hixie75, .hixie76:
            handlers = [
                HixieClientFrameHandler(
                    dialect: configuration.dialect == .hixie75 ? .hixie75 : .hixie76,
                    maxMessageSize: configuration.maxMessageSize, closeTimeout: configuration.closeTimeout,
                    callbacks: self.callbacks),
            ]
        }
        do {
            try context.pipeline.syncOperations.addHandlers(handlers, position: .after(self))
        } catch {
            self.promise.fail(error)
            context.close(promise: nil)
            return
        }
        self.promise.succeed(ClientHandshakeResult(
            subprotocol: agreement.subprotocol, headers: response.headers.map { ($0.name, $0.value) },
            compression: agreement.compression))
        if leftover.readableBytes > 0 {
            context.fireChannelRead(Self.wrapInboundOut(leftover))
            context.fireChannelReadComplete()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func sendRequest(context: ChannelHandlerContext) {
        guard !self.hasSentRequest else { return }
        self.hasSentRequest = true
        context.writeAndFlush(Self.wrapOutboundOut(self.request.bytes), promise: nil)
    }

    private func fail(_ error: WebSocketClientError, context: ChannelHandlerContext?) {
        guard !self.isDone else { return }
        self.isDone = true
        self.promise.fail(error)
        context?.close(promise: nil)
    }
}

@available(*, unavailable)
extension ClientHandshakeHandler: Sendable {}
