import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
import WSGateWire
@testable import WSGateCore

/// permessage-deflate in the RFC 6455 frame handler, on an EmbeddedChannel: compressed messages
/// in (inflated within the limit, UTF-8 checked after), compressed messages out, the RSV1 rules.
struct CompressionFrameHandlerTests {
    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = GatewayMessage
        var messages: [GatewayMessage] = []
        var closes: [WebSocketClose] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { self.messages.append(Self.unwrapInboundIn(data)) }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let close = event as? WebSocketClose { self.closes.append(close) }
        }
    }

    private static let key: (UInt8, UInt8, UInt8, UInt8) = (0x11, 0x22, 0x33, 0x44)
    private static let parameters = PerMessageDeflateParameters(
        serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 12, clientMaxWindowBits: 12)

    private struct Connection {
        let channel = EmbeddedChannel()
        let collector = Collector()
        let metrics = GatewayMetrics()
        let handler: RFC6455FrameHandler

        init(maxMessageSize: Int = 1 << 16, minBytes: Int = 64) throws {
            self.handler = RFC6455FrameHandler(
                maxMessageSize: maxMessageSize, keepalive: Keepalive(pingIntervalSeconds: 0, idleTimeoutSeconds: 0),
                compression: MessageCompression(parameters: CompressionFrameHandlerTests.parameters, minBytes: minBytes, compressions: self.metrics.compressions),
                metrics: self.metrics, logger: Logger(label: "test"))
            try self.channel.pipeline.syncOperations.addHandlers([
                self.handler, self.collector,
            ])
            try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        func send(_ buffers: ByteBuffer...) throws {
            for buffer in buffers { try self.channel.writeInbound(buffer) }
            self.channel.embeddedEventLoop.run()
        }

        func output() throws -> [UInt8] {
            var bytes: [UInt8] = []
            while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
            return bytes
        }
    }

    /// A client's compressed text message (masked, RSV1), compressed like a browser would.
    private func compressedClientFrame(_ text: String, deflater: Deflater) -> ByteBuffer {
        RFC6455FrameEncoder.compressedMessageFrame(opcode: .text, message: ByteBuffer(string: text), deflater: deflater, maskingKey: Self.key)
    }

    @Test func compressedMessagesAreInflatedWithContextTakeover() throws {
        let connection = try Connection()
        let deflater = Deflater(windowBits: 12, noContextTakeover: false)
        let text = String(repeating: "hello compressed world ", count: 30)
        try connection.send(self.compressedClientFrame(text, deflater: deflater), self.compressedClientFrame(text, deflater: deflater))
        #expect(connection.collector.messages == [.text(text), .text(text)])
        #expect(connection.collector.closes.isEmpty)
    }

    @Test func aFragmentedCompressedMessageHasRSV1OnItsFirstFrameOnly() throws {
        let connection = try Connection()
        let compressed = Deflater(windowBits: 12, noContextTakeover: true).compress(ByteBuffer(string: "fragmented and compressed, fragmented and compressed"))
        var first = compressed
        let head = first.readSlice(length: compressed.readableBytes / 2)!
        try connection.send(
            RFC6455FrameEncoder.compressedFrame(opcode: .text, payload: head, fin: false, maskingKey: Self.key),
            RFC6455FrameEncoder.frame(opcode: .ping, payload: ByteBuffer(string: "in between"), maskingKey: Self.key),
            RFC6455FrameEncoder.frame(opcode: .continuation, payload: first, fin: true, maskingKey: Self.key))
        #expect(connection.collector.messages == [.text("fragmented and compressed, fragmented and compressed")])
    }

    @Test func rsv1OnAContinuationOrAControlFrameIs1002() throws {
        let connection = try Connection()
        try connection.send(RFC6455FrameEncoder.compressedFrame(opcode: .text, payload: ByteBuffer(bytes: [0x00]), fin: false, maskingKey: Self.key))
        var continuation = RFC6455FrameEncoder.frame(opcode: .continuation, payload: ByteBuffer(bytes: [0x00]), maskingKey: Self.key)
        continuation.setInteger(UInt8(0xC0), at: 0)
        try connection.send(continuation)
        #expect(connection.collector.closes.map(\.code) == [1002])
        let other = try Connection()
        var ping = RFC6455FrameEncoder.frame(opcode: .ping, payload: ByteBuffer(), maskingKey: Self.key)
        ping.setInteger(UInt8(0xC9), at: 0)
        try other.send(ping)
        #expect(other.collector.closes.map(\.code) == [1002])
    }

    @Test func aMessageThatInflatesPastTheLimitIs1009AndStopsThere() throws {
        let connection = try Connection(maxMessageSize: 64 * 1024)
        let bomb = String(repeating: "a", count: 10 << 20)  // 10 MiB of one letter: about 10 KiB compressed
        let frame = self.compressedClientFrame(bomb, deflater: Deflater(windowBits: 12, noContextTakeover: true))
        #expect(frame.readableBytes < 64 * 1024, "it is under the limit on the wire")
        try connection.send(frame)
        #expect(connection.collector.messages.isEmpty)
        #expect(connection.collector.closes.map(\.code) == [1009])
    }

    @Test func dataThatDoesNotInflateIs1007AndSoIsBadUTF8Inside() throws {
        let connection = try Connection()
        try connection.send(RFC6455FrameEncoder.compressedFrame(opcode: .text, payload: ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF]), maskingKey: Self.key))
        #expect(connection.collector.closes.map(\.code) == [1007])
        let other = try Connection()
        let invalid = Deflater(windowBits: 12, noContextTakeover: true).compress(ByteBuffer(bytes: [0x41, 0xC3, 0x28]))
        try other.send(RFC6455FrameEncoder.compressedFrame(opcode: .text, payload: invalid, maskingKey: Self.key))
        #expect(other.collector.closes.map(\.code) == [1007])
    }

    @Test func messagesFromMinBytesGoOutCompressedShorterOnesPlain() throws {
        let connection = try Connection(minBytes: 64)
        let long = String(repeating: "compress me please ", count: 20)
        connection.channel.write(OutboundFrame.text(ByteBuffer(string: long)), promise: nil)
        connection.channel.write(OutboundFrame.text(ByteBuffer(string: "tiny")), promise: nil)
        connection.channel.flush()
        var out = ByteBuffer(bytes: try connection.output())
        let first = out.readInteger(as: UInt8.self)
        #expect(first == 0xC1, "FIN, RSV1, text")
        let length = Int(out.readInteger(as: UInt8.self) ?? 0)
        let payload = out.readSlice(length: length)!
        let inflated = try Inflater(windowBits: 12, noContextTakeover: false).decompress(payload, maxOutputBytes: 1 << 20)
        #expect(String(buffer: inflated) == long)
        #expect(Array(out.readableBytesView) == [0x81, 0x04] + Array("tiny".utf8), "under compression_min_bytes: plain")
        #expect(connection.metrics.compressions.load == 1)
    }

    @Test func noZlibStateUntilTheFirstCompressedMessage() throws {
        let connection = try Connection()
        try connection.send(RFC6455FrameEncoder.frame(opcode: .text, payload: ByteBuffer(string: "plain"), maskingKey: Self.key))
        #expect(connection.collector.messages == [.text("plain")])
        #expect(connection.handler.zlibMemoryBytes == 0, "a connection that sends nothing compressed holds no zlib state")
        try connection.send(self.compressedClientFrame(String(repeating: "x", count: 200), deflater: Deflater(windowBits: 12, noContextTakeover: true)))
        #expect(connection.handler.zlibMemoryBytes > 0)
        _ = try connection.channel.finish()
        #expect(connection.handler.zlibMemoryBytes == 0, "released with the handler")
    }
}
