import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
import WSGateConfig
import WSGateWire
@testable import WSGateCore

/// A room member on an `EmbeddedChannel`: the RFC 6455 frame handler and the session.
private final class Member {
    let channel = EmbeddedChannel()
    let metrics: GatewayMetrics

    init(rooms: RoomRegistry, metrics: GatewayMetrics, sendQueueBytes: Int) throws {
        self.metrics = metrics
        try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try self.channel.pipeline.syncOperations.addHandlers([
            RFC6455FrameHandler(
                maxMessageSize: 1 << 16, keepalive: Keepalive(pingIntervalSeconds: 0, idleTimeoutSeconds: 0),
                metrics: metrics, logger: Logger(label: "test")),
            WebSocketSessionHandler(
                dialect: .rfc6455(version: 13),
                target: .room(name: "r", historyLimit: 0, includeSender: true, announce: false),
                sendQueueBytes: sendQueueBytes, rooms: rooms, metrics: metrics, logger: Logger(label: "test")),
        ])
    }

    /// Every frame written so far, as (opcode, payload).
    func written() throws -> [(UInt8, [UInt8])] {
        var frames: [(UInt8, [UInt8])] = []
        while var buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
            while buffer.readableBytes >= 2 {
                let first = buffer.readInteger(as: UInt8.self)!
                var length = Int(buffer.readInteger(as: UInt8.self)! & 0x7F)
                if length == 126 { length = Int(buffer.readInteger(as: UInt16.self)!) }
                frames.append((first & 0x0F, buffer.readBytes(length: length)!))
            }
        }
        return frames
    }
}

@Suite struct WebSocketSessionHandlerTests {
    @Test func queuedFramesAreDiscardedInFavourOfTheCloseFrameForASlowConsumer() throws {
        let metrics = GatewayMetrics()
        let rooms = RoomRegistry(metrics: metrics)
        let member = try Member(rooms: rooms, metrics: metrics, sendQueueBytes: 1000)
        // The client stops reading: the channel takes no more (and says so, as a socket channel
        // does when its buffer passes the high watermark), so room frames queue in the session.
        member.channel.isWritable = false
        member.channel.pipeline.fireChannelWritabilityChanged()
        let publisher = RoomMember(
            id: 999_999, eventLoop: member.channel.embeddedEventLoop, dialect: .rfc6455(version: 13), includeSender: false, announces: false,
            sink: NullSink())
        let shared = rooms.join(publisher, room: "r", historyLimit: 0)
        for i in 0..<5 { shared.ordering.publish(.text("message \(i) " + String(repeating: "x", count: 200)), from: publisher.id, room: shared) }
        member.channel.embeddedEventLoop.run()
        let frames = try member.written()
        #expect(frames.count == 1, "nothing but the close frame was written: \(frames.map(\.0))")
        #expect(frames.first?.0 == 0x8)
        #expect(frames.first.map { Array($0.1.prefix(2)) } == [0x03, 0xF0], "close code 1008")
        #expect(metrics.slowConsumerCloses.load == 1)
        #expect(rooms.snapshot().first?.members == 1, "the slow member left the room")
    }

    @Test func queuedFramesGoOutInOrderOnceTheClientReadsAgain() throws {
        let metrics = GatewayMetrics()
        let rooms = RoomRegistry(metrics: metrics)
        let member = try Member(rooms: rooms, metrics: metrics, sendQueueBytes: 1 << 20)
        member.channel.isWritable = false
        member.channel.pipeline.fireChannelWritabilityChanged()
        let publisher = RoomMember(
            id: 999_998, eventLoop: member.channel.embeddedEventLoop, dialect: .rfc6455(version: 13), includeSender: false, announces: false,
            sink: NullSink())
        let shared = rooms.join(publisher, room: "r", historyLimit: 0)
        for i in 0..<3 { shared.ordering.publish(.text("m\(i)"), from: publisher.id, room: shared) }
        member.channel.embeddedEventLoop.run()
        #expect(try member.written().isEmpty, "held while the channel is not writable")
        member.channel.isWritable = true
        member.channel.pipeline.fireChannelWritabilityChanged()
        let frames = try member.written()
        #expect(frames.map { String(decoding: $0.1, as: UTF8.self) } == ["m0", "m1", "m2"])
        #expect(metrics.slowConsumerCloses.load == 0)
    }
}

/// The echo route on an `EmbeddedChannel`: NIO's frame decoder, the RFC 6455 frame handler, the session.
func makeEchoChannel() throws -> EmbeddedChannel {
    let metrics = GatewayMetrics()
    let channel = EmbeddedChannel()
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    // The production pipeline: the frame handler and the session call each other directly.
    var limits = LimitsConfiguration()
    limits.maxMessageBytes = 1 << 20
    limits.sendQueueBytes = 1 << 20
    limits.pingIntervalSeconds = 0
    limits.idleTimeoutSeconds = 0
    let session = WebSocketSessionHandler(
        dialect: .rfc6455(version: 13), target: .echo, sendQueueBytes: 1 << 20,
        rooms: RoomRegistry(metrics: metrics), metrics: metrics, logger: Logger(label: "test"))
    try channel.pipeline.syncOperations.addHandlers(
        WebSocketPipeline.handlers(
            dialect: .rfc6455(version: 13), limits: limits, compression: nil, session: session, metrics: metrics, logger: Logger(label: "test")))
    return channel
}

@Suite struct EchoSessionTests {
    private func outbound(_ channel: EmbeddedChannel) throws -> [ByteBuffer] {
        var buffers: [ByteBuffer] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { buffers.append(buffer) }
        return buffers
    }

    @Test func largePayloadIsEchoedAsAHeaderAndTheReceivedBytesUncopied() throws {
        let channel = try makeEchoChannel()
        let payload = ByteBuffer(bytes: (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try channel.writeInbound(RFC6455FrameEncoder.frame(opcode: .binary, payload: payload, maskingKey: (1, 2, 3, 4)))
        let buffers = try outbound(channel)
        #expect(buffers.count == 2)
        #expect(buffers.first.map { Array($0.readableBytesView) } == [0x82, 126, 0x4E, 0x20], "binary, 20,000 bytes")
        #expect(buffers.last == payload)
        var joined = ByteBuffer()
        for var buffer in buffers { joined.writeBuffer(&buffer) }
        #expect(joined == RFC6455FrameEncoder.frame(opcode: .binary, payload: payload), "the same bytes as one frame")
    }

    @Test func smallPayloadIsEchoedAsOneContiguousFrame() throws {
        let channel = try makeEchoChannel()
        let payload = ByteBuffer(string: String(repeating: "é", count: 50))
        try channel.writeInbound(RFC6455FrameEncoder.frame(opcode: .text, payload: payload, maskingKey: (9, 8, 7, 6)))
        let buffers = try outbound(channel)
        #expect(buffers == [RFC6455FrameEncoder.frame(opcode: .text, payload: payload)])
    }
}

private final class NullSink: RoomMemberSink {
    func roomWrite(_ frame: ByteBuffer) {}
    func roomFlush() {}
}
