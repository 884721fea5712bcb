import NIOCore
import Synchronization

/// Bytes read from and written to the socket by the connections that share it (see
/// `WebSocketClientConfiguration.wireCounter`): what travels on the wire, TLS records and
/// WebSocket frame headers included, TCP/IP headers not.
public final class WireByteCounter: Sendable {
    private let readCount = Atomic<Int>(0)
    private let writtenCount = Atomic<Int>(0)

    public init() {}

    /// Bytes read from the socket so far.
    public var bytesRead: Int { self.readCount.load(ordering: .relaxed) }
    /// Bytes handed to the socket for writing so far.
    public var bytesWritten: Int { self.writtenCount.load(ordering: .relaxed) }

    func addRead(_ count: Int) { self.readCount.add(count, ordering: .relaxed) }
    func addWritten(_ count: Int) { self.writtenCount.add(count, ordering: .relaxed) }
}

/// The first handler of a counted client's pipeline (before TLS): counts and passes everything on.
final class WireByteCountingHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let counter: WireByteCounter

    init(counter: WireByteCounter) {
        self.counter = counter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.counter.addRead(Self.unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.counter.addWritten(Self.unwrapOutboundIn(data).readableBytes)
        context.write(data, promise: promise)
    }
}

@available(*, unavailable)
extension WireByteCountingHandler: Sendable {}
