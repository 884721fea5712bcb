import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
import WSGateWire
@testable import WSGateCore

/// Collects the messages the frame handler sends up the pipeline, and its close signals.
private final class MessageCollector: ChannelInboundHandler {
    typealias InboundIn = GatewayMessage
    var messages: [GatewayMessage] = []
    var closes: [WebSocketClose] = []
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.messages.append(Self.unwrapInboundIn(data))
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let close = event as? WebSocketClose { self.closes.append(close) }
    }
}

private let key: (UInt8, UInt8, UInt8, UInt8) = (0x37, 0xFA, 0x21, 0x3D)

private func clientFrame(_ opcode: RFC6455FrameEncoder.Opcode, _ payload: [UInt8], fin: Bool = true) -> ByteBuffer {
    RFC6455FrameEncoder.frame(opcode: opcode, payload: ByteBuffer(bytes: payload), fin: fin, maskingKey: key)
}

private func clientClose(_ code: UInt16, _ reason: String = "") -> ByteBuffer {
    RFC6455FrameEncoder.closeFrame(code: WebSocketCloseCode(rawValue: code), reason: reason, maskingKey: key)
}

/// An embedded RFC 6455 connection: NIO's frame decoder, the frame handler, a collector.
private final class Connection {
    let channel = EmbeddedChannel()
    let collector = MessageCollector()
    let metrics = GatewayMetrics()
    var loop: EmbeddedEventLoop { self.channel.embeddedEventLoop }

    init(maxMessageSize: Int = 1 << 16) throws {
        try self.channel.pipeline.syncOperations.addHandlers([
            RFC6455FrameHandler(
                maxMessageSize: maxMessageSize, keepalive: Keepalive(pingIntervalSeconds: 0, idleTimeoutSeconds: 0),
                metrics: self.metrics, logger: Logger(label: "test")),
            self.collector,
        ])
        try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    func send(_ buffers: ByteBuffer...) throws {
        for buffer in buffers { try self.channel.writeInbound(buffer) }
        self.loop.run()
    }

    /// Every byte written to the peer so far.
    func output() throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        return bytes
    }

    var isOpen: Bool { self.channel.isActive }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct RFC6455FrameHandlerTests {
    @Test func aPingIsAnsweredByAPongWithTheSamePayload() throws {
        let connection = try Connection()
        try connection.send(clientFrame(.ping, Array("ping!".utf8)))
        #expect(try connection.output() == [0x8A, 0x05] + Array("ping!".utf8))
        #expect(connection.isOpen)
        #expect(connection.collector.messages.isEmpty)
    }

    @Test func aMaskedTextFrameGoesUpAsATextMessage() throws {
        let connection = try Connection()
        try connection.send(clientFrame(.text, Array("Hello".utf8)))
        #expect(connection.collector.messages == [.text("Hello")])
        #expect(connection.metrics.messagesIn.load == 1)
        #expect(connection.metrics.bytesIn.load == 5)
        #expect(try connection.output().isEmpty)
    }

    @Test func fragmentsWithAnInterleavedPingBecomeOneMessageAndAPong() throws {
        let connection = try Connection()
        try connection.send(
            clientFrame(.text, Array("Hel".utf8), fin: false), clientFrame(.ping, [1]), clientFrame(.continuation, Array("lo".utf8)))
        #expect(connection.collector.messages == [.text("Hello")])
        #expect(try connection.output() == [0x8A, 0x01, 0x01])
    }

    @Test func framesSplitAcrossReadsAreDecoded() throws {
        let connection = try Connection()
        let bytes = Array(clientFrame(.binary, [UInt8](repeating: 9, count: 300)).readableBytesView)
        for byte in bytes { try connection.channel.writeInbound(ByteBuffer(bytes: [byte])) }
        connection.loop.run()
        #expect(connection.collector.messages == [.binary(ByteBuffer(repeating: 9, count: 300))])
    }

    @Test func aCloseIsEchoedWithItsCodeAndTheChannelCloses() throws {
        let connection = try Connection()
        try connection.send(clientClose(1000, "bye"))
        #expect(try connection.output() == [0x88, 0x02, 0x03, 0xE8])
        #expect(!connection.isOpen)
        #expect(connection.collector.messages.isEmpty)
        #expect(connection.collector.closes == [WebSocketClose(code: 1000, reason: "bye")])
    }

    @Test func anEmptyCloseIsAnsweredWithAnEmptyClose() throws {
        let connection = try Connection()
        try connection.send(RFC6455FrameEncoder.frame(opcode: .close, payload: ByteBuffer(), maskingKey: key))
        #expect(try connection.output() == [0x88, 0x00])
        #expect(!connection.isOpen)
    }

    @Test func anUnmaskedFrameIsAnsweredWithClose1002AndTheChannelCloses() throws {
        let connection = try Connection()
        try connection.send(RFC6455FrameEncoder.frame(opcode: .text, payload: ByteBuffer(string: "Hello")))
        let out = try connection.output()
        #expect(Array(out.prefix(4)) == [0x88, out[1], 0x03, 0xEA])
        #expect(Int(out[1]) == out.count - 2)
        #expect(!connection.isOpen)
        #expect(connection.collector.messages.isEmpty)
        #expect(connection.collector.closes.map(\.code) == [1002], "one close signal went up, with its code")
    }

    @Test func invalidUTF8IsAnsweredWithClose1007() throws {
        let connection = try Connection()
        try connection.send(clientFrame(.text, [0x41, 0xF4], fin: false), clientFrame(.continuation, [0x90, 0x80, 0x80]))
        let out = try connection.output()
        #expect(Array(out.prefix(1) + out.dropFirst(2).prefix(2)) == [0x88, 0x03, 0xEF])
        #expect(!connection.isOpen)
        #expect(connection.collector.messages.isEmpty)
        #expect(connection.collector.closes.map(\.code) == [1007])
    }

    @Test func aFrameOverTheLimitIsAnsweredWithClose1009() throws {
        let connection = try Connection(maxMessageSize: 100)
        try connection.send(clientFrame(.binary, [UInt8](repeating: 0, count: 101)))
        let out = try connection.output()
        #expect(Array(out.prefix(1) + out.dropFirst(2).prefix(2)) == [0x88, 0x03, 0xF1])
        #expect(!connection.isOpen)
    }

    @Test func aFragmentedMessageOverTheLimitIsAnsweredWithClose1009() throws {
        let connection = try Connection(maxMessageSize: 100)
        try connection.send(clientFrame(.binary, [UInt8](repeating: 0, count: 60), fin: false), clientFrame(.continuation, [UInt8](repeating: 0, count: 60)))
        let out = try connection.output()
        #expect(Array(out.prefix(1) + out.dropFirst(2).prefix(2)) == [0x88, 0x03, 0xF1])
        #expect(!connection.isOpen)
    }

    @Test func reservedBitsAreAnsweredWithClose1002() throws {
        let connection = try Connection()
        var frame = clientFrame(.text, Array("x".utf8))
        frame.setInteger(UInt8(0x81 | 0x40), at: frame.readerIndex)
        try connection.send(frame)
        let out = try connection.output()
        #expect(Array(out.prefix(1) + out.dropFirst(2).prefix(2)) == [0x88, 0x03, 0xEA])
        #expect(!connection.isOpen)
    }

    @Test func anInvalidCloseCodeIsAnsweredWithClose1002() throws {
        let connection = try Connection()
        try connection.send(clientClose(1005))
        let out = try connection.output()
        #expect(Array(out.prefix(1) + out.dropFirst(2).prefix(2)) == [0x88, 0x03, 0xEA])
        #expect(!connection.isOpen)
    }

    @Test func nothingIsReadAfterTheConnectionFailed() throws {
        let connection = try Connection()
        try connection.send(
            RFC6455FrameEncoder.frame(opcode: .text, payload: ByteBuffer(string: "unmasked")), clientFrame(.text, Array("later".utf8)))
        #expect(!connection.collector.messages.contains(.text("later")))
    }

    @Test func aCloseRequestSendsACloseFrameAndWaitsForThePeersClose() throws {
        let connection = try Connection()
        connection.channel.pipeline.triggerUserOutboundEvent(WebSocketCloseRequest(code: 1001, reason: "going away"), promise: nil)
        connection.loop.run()
        let out = try connection.output()
        #expect(Array(out.prefix(4)) == [0x88, 12, 0x03, 0xE9])
        #expect(String(decoding: out.dropFirst(4), as: UTF8.self) == "going away")
        #expect(connection.isOpen)
        // writes after our close are refused
        let write = connection.channel.writeAndFlush(RFC6455FrameEncoder.message(.text("late")))
        connection.loop.run()
        #expect(throws: (any Error).self) { try write.wait() }
        try connection.send(clientClose(1001))
        #expect(!connection.isOpen)
    }

    @Test func aCloseRequestClosesTheChannelAfterTheGracePeriodWithoutAnAnswer() throws {
        let connection = try Connection()
        connection.channel.pipeline.triggerUserOutboundEvent(WebSocketCloseRequest(code: 1008, reason: "slow consumer"), promise: nil)
        connection.loop.run()
        _ = try connection.output()
        connection.loop.advanceTime(by: .seconds(4))
        #expect(connection.isOpen)
        connection.loop.advanceTime(by: .seconds(2))
        #expect(!connection.isOpen)
    }
}
