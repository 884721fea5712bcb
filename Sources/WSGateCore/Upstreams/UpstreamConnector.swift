import NIOCore
import NIOPosix

/// Opens the TCP connection to a bridge's upstream, on the client's own event loop, before the
/// client's handshake is answered (docs/SPEC.md: a refused connection is 502, a timeout 504).
///
/// The upstream channel starts with reading off; the bridge turns it on once it is in place.
enum UpstreamConnector {
    /// Why a connect failed.
    enum Failure: Error, Equatable {
        case timeout
    }

    static func connect(host: String, port: Int, timeoutMs: Int, eventLoop: EventLoop) -> EventLoopFuture<Channel> {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(Int64(max(1, timeoutMs))))
            .channelOption(ChannelOptions.autoRead, value: false)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .channelOption(
                ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 262_144))
            .connect(host: host, port: port)
            .flatMapErrorThrowing { error in
                if case ChannelError.connectTimeout = error { throw Failure.timeout }
                throw error
            }
    }
}
