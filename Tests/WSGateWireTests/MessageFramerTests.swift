import NIOCore
import Testing
import WSGateWire

/// Outbound framing by family: one encoding per family, shared.
struct MessageFramerTests {
    @Test func anOutboundFrameFitsInNIOAnysInlineStorage() {
        #expect(MemoryLayout<OutboundFrame>.size <= 24)
    }

    @Test func eachFamilyHasItsOwnBytes() {
        let framed = FramedMessage(.text("hi"), families: [FrameFamily.rfc6455, .hixieText])
        #expect(Array(framed.bytes(for: .rfc6455).readableBytesView) == [0x81, 0x02, 0x68, 0x69])
        #expect(Array(framed.bytes(for: .hixieText).readableBytesView) == [0x00, 0x68, 0x69, 0xFF])
    }

    @Test func binaryReachesHixieAsBase64Text() {
        let bytes = MessageFramer.frame(.binary(ByteBuffer(bytes: [0xFF, 0x00])), family: .hixieText).bytes
        #expect(Array(bytes.readableBytesView) == [0x00] + Array("/wA=".utf8) + [0xFF])
    }

    @Test func aFamilyNotEncodedUpFrontIsEncodedOnDemand() {
        let framed = FramedMessage(.text("x"), families: [.rfc6455])
        #expect(Array(framed.bytes(for: .hixieText).readableBytesView) == [0x00, 0x78, 0xFF])
    }

    @Test func theDialectPicksTheFamily() {
        #expect(FrameFamily(.hixie75) == .hixieText)
        #expect(FrameFamily(.hixie76) == .hixieText)
        #expect(FrameFamily(.rfc6455(version: 8)) == .rfc6455)
    }

    @Test func aCompressedFamilySetsRSV1AndInflatesBack() throws {
        let text = String(repeating: "{\"user\":\"ann\",\"text\":\"hello there\"} ", count: 20)
        let framed = FramedMessage(.text(text), families: [FrameFamily.rfc6455Deflate(windowBits: 12, minBytes: 64), .rfc6455])
        #expect(framed.compressions == 1, "one deflate for the compressed family")
        var bytes = framed.bytes(for: .rfc6455Deflate(windowBits: 12, minBytes: 64))
        let first = bytes.readInteger(as: UInt8.self)
        #expect(first == 0xC1, "FIN, RSV1, text")
        let second = bytes.readInteger(as: UInt8.self) ?? 0
        let length = second == 126 ? Int(bytes.readInteger(as: UInt16.self) ?? 0) : Int(second)
        #expect(length == bytes.readableBytes)
        #expect(length < text.utf8.count / 4, "chat-like text shrinks several times")
        let inflated = try Inflater(windowBits: 12, noContextTakeover: true).decompress(bytes, maxOutputBytes: 1 << 20)
        #expect(String(buffer: inflated) == text)
        #expect(Array(framed.bytes(for: .rfc6455).readableBytesView.prefix(1)) == [0x81], "the plain family stays plain")
    }

    @Test func shortOrIncompressibleMessagesGoOutPlainInACompressedFamily() {
        let family = FrameFamily.rfc6455Deflate(windowBits: 12, minBytes: 64)
        let short = MessageFramer.frame(.text("short"), family: family)
        #expect(!short.compressed)
        #expect(Array(short.bytes.readableBytesView) == [0x81, 0x05] + Array("short".utf8))
        var random = SystemRandomNumberGenerator()
        let noise = ByteBuffer(bytes: (0..<512).map { _ in UInt8.random(in: 0...255, using: &random) })
        let incompressible = MessageFramer.frame(.binary(noise), family: family)
        #expect(incompressible.compressed, "a deflate ran")
        #expect(incompressible.bytes.getInteger(at: 0, as: UInt8.self) == 0x82, "but it went out plain: RSV1 clear")
    }
}
