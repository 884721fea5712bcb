import NIOCore
import WSGateWire

/// Sits first in a WebSocket backend's channel during the gateway's handshake with it: writes the
/// request, reads the answer (`ClientHandshakeResponseParser`), and reports it once, with the bytes
/// that followed it (frames the backend sent right after its 101). After that it passes everything
/// on, until the relay's handlers are in place and it removes itself.
final class UpstreamHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What happened: the answer and what came after it, or why there is none.
    enum Result {
        case answered(ClientHandshakeResponse, leftover: ByteBuffer)
        case failed(String)
    }

    private let request: ByteBuffer
    private var parser = ClientHandshakeResponseParser(tokenLength: 0)
    private var onResult: ((Result) -> Void)?

    init(request: ByteBuffer, onResult: @escaping (Result) -> Void) {
        self.request = request
        self.onResult = onResult
    }

    func handlerAdded(context: ChannelHandlerContext) {
        context.writeAndFlush(Self.wrapOutboundOut(self.request), promise: nil)
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.onResult != nil else { return context.fireChannelRead(data) }
        var bytes = Self.unwrapInboundIn(data)
        do {
            guard let (response, leftover) = try self.parser.feed(&bytes) else { return }
            var answered = response
            if answered.status != 101 { answered.body = String(buffer: leftover) }
            // Until the relay is in place (or the client is answered), read nothing more.
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            self.report(.answered(answered, leftover: leftover))
        } catch {
            self.report(.failed("unreadable handshake answer: \(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.report(.failed("closed the connection during the handshake"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.report(.failed("\(error)"))
        context.close(promise: nil)
    }

    /// The answer did not come in time: nothing more is reported.
    func cancel() {
        self.onResult = nil
    }

    private func report(_ result: Result) {
        guard let onResult = self.onResult else { return }
        self.onResult = nil
        onResult(result)
    }
}

@available(*, unavailable)
extension UpstreamHandshakeHandler: Sendable {}
