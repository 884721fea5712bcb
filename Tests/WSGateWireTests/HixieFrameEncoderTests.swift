import NIOCore
import Testing
import WSGateWire

@Suite struct HixieFrameEncoderTests {
    @Test func textFramesAreZeroThenUTF8ThenFF() {
        #expect(HixieFrameEncoder.textFrame("Hello") == ByteBuffer(bytes: [0x00, 0x48, 0x65, 0x6C, 0x6C, 0x6F, 0xFF]))
        #expect(HixieFrameEncoder.textFrame("") == ByteBuffer(bytes: [0x00, 0xFF]))
        #expect(HixieFrameEncoder.textFrame([0xC3, 0xA9] as [UInt8]) == ByteBuffer(bytes: [0x00, 0xC3, 0xA9, 0xFF]))
    }

    @Test func closeFrameIsFF00() {
        #expect(HixieFrameEncoder.closeFrame == ByteBuffer(bytes: [0xFF, 0x00]))
    }

    @Test func encodedFramesAreReadBackByTheParser() throws {
        var buffer = HixieFrameEncoder.textFrame("héllo €𝄞")
        buffer.writeImmutableBuffer(HixieFrameEncoder.textFrame(Array("x".utf8)))
        buffer.writeImmutableBuffer(HixieFrameEncoder.closeFrame)
        var parser = HixieFrameParser(dialect: .hixie76, maxMessageSize: 64)
        #expect(try parser.next(from: &buffer) == .text(ByteBuffer(string: "héllo €𝄞")))
        #expect(try parser.next(from: &buffer) == .text(ByteBuffer(string: "x")))
        #expect(try parser.next(from: &buffer) == .close)
        #expect(try parser.next(from: &buffer) == nil)
    }
}
