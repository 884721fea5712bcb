import NIOCore
import NIOPosix
import WSGateTLS

/// Opens the connection to a bridge's upstream, on the client's own event loop, before the
/// client's handshake is answered (docs/SPEC.md: a refused connection is 502, a timeout 504).
///
/// With `tls` (`tls://` and `wss://` upstreams) the TLS handshake on the gateway's OpenSSL client
/// is part of the connect: the future succeeds once it completed, and a certificate that does not
/// verify fails it with OpenSSL's reason. `timeoutMs` bounds the TCP connect and TLS together.
/// The upstream channel starts with reading off; the bridge turns it on once it is in place.
enum UpstreamConnector {
    /// Why a connect failed.
    enum Failure: Error, Equatable {
        case timeout
    }

    /// TLS to the upstream: the client context and the name to ask for and verify.
    struct TLS {
        var context: TLSContext
        var serverName: String
    }

    /// `unixPath`: a Unix-domain socket instead of `host:port`. `proxyHeader`: bytes written first,
    /// in the clear, before TLS (HAProxy's `send-proxy`).
    static func connect(
        host: String, port: Int, unixPath: String? = nil, timeoutMs: Int, tls: TLS? = nil, proxyHeader: [UInt8]? = nil, eventLoop: EventLoop
    ) -> EventLoopFuture<Channel> {
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(Int64(max(1, timeoutMs))))
            .channelOption(ChannelOptions.autoRead, value: false)
            .channelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .channelOption(
                ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 262_144))
        // TCP only: a Unix-domain socket refuses TCP_NODELAY.
        if unixPath == nil { bootstrap = bootstrap.channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1) }
        let connecting = unixPath.map { bootstrap.connect(unixDomainSocketPath: $0) } ?? bootstrap.connect(host: host, port: port)
        let connected = connecting
            .map { channel -> Channel in
                if let proxyHeader { channel.writeAndFlush(ByteBuffer(bytes: proxyHeader), promise: nil) }
                return channel
            }
            .flatMapErrorThrowing { error in
                if case ChannelError.connectTimeout = error { throw Failure.timeout }
                throw error
            }
        guard let tls else { return connected }
        let deadline = NIODeadline.now() + .milliseconds(Int64(max(1, timeoutMs)))
        return connected.flatMap { channel in
            let done = eventLoop.makePromise(of: Void.self)
            let timer = eventLoop.scheduleTask(deadline: deadline) { done.fail(Failure.timeout) }
            done.futureResult.whenComplete { _ in timer.cancel() }
            do {
                let waiter = TLSHandshakeWaiter(done: done)
                try channel.pipeline.syncOperations.addHandlers(
                    TLSHandler(context: tls.context, role: .client(serverName: tls.serverName)), waiter)
                done.futureResult.assumeIsolated().whenComplete { _ in channel.pipeline.syncOperations.removeHandler(waiter, promise: nil) }
                // Reading is off until the bridge is in place; the TLS handler asks for each read
                // it needs after this first one while it handshakes.
                channel.read()
            } catch {
                done.fail(error)
            }
            return done.futureResult.map { channel }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
    }
}

/// Waits in a new upstream channel for the end of its TLS handshake: completed, failed (OpenSSL's
/// reason) or the connection gone.
private final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let done: EventLoopPromise<Void>

    init(done: EventLoopPromise<Void>) {
        self.done = done
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompletedEvent { self.done.succeed(()) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.done.fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.done.fail(TLSError.handshakeFailed(reasons: ["the upstream closed the connection during the TLS handshake"]))
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension TLSHandshakeWaiter: Sendable {}
