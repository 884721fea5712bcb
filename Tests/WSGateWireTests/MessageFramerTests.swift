import NIOCore
import Testing
import WSGateWire

/// Outbound framing by family: one encoding per family, shared.
struct MessageFramerTests {
    @Test func anOutboundFrameFitsInNIOAnysInlineStorage() {
        #expect(MemoryLayout<OutboundFrame>.size <= 24)
    }

    @Test func eachFamilyHasItsOwnBytes() {
        let framed = FramedMessage(.text("hi"), families: FrameFamily.allCases)
        #expect(Array(framed.bytes(for: .rfc6455).readableBytesView) == [0x81, 0x02, 0x68, 0x69])
        #expect(Array(framed.bytes(for: .hixieText).readableBytesView) == [0x00, 0x68, 0x69, 0xFF])
    }

    @Test func binaryReachesHixieAsBase64Text() {
        let bytes = MessageFramer.frame(.binary(ByteBuffer(bytes: [0xFF, 0x00])), family: .hixieText)
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
}
