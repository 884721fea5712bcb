import NIOCore
import Testing
import WSGateWire

/// Frames of compressed messages (RFC 7692 section 6): RSV1 on the first frame only.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct PerMessageDeflateFrameTests {
    typealias D = DeflateTestData
    static let hello = ByteBuffer(string: "Hello")

    @Test func theFragmentedHelloOfSection721SetsRSV1OnTheFirstFrameOnly() {
        // "Hello" compressed and sent in two frames: 0x41 0x03 0xf2 0x48 0xcd, 0x80 0x04 0xc9 0xc9 0x07 0x00.
        let first = RFC6455FrameEncoder.compressedFrame(opcode: .text, payload: D.buffer("f2 48 cd"), fin: false)
        let second = RFC6455FrameEncoder.frame(opcode: .continuation, payload: D.buffer("c9 c9 07 00"))
        #expect(D.bytes(first) == [0x41, 0x03, 0xF2, 0x48, 0xCD])
        #expect(D.bytes(second) == [0x80, 0x04, 0xC9, 0xC9, 0x07, 0x00])
    }

    @Test func compressedFramesSetRSV1() {
        #expect(D.bytes(RFC6455FrameEncoder.compressedFrame(opcode: .text, payload: D.buffer("f2 48 cd c9 c9 07 00")))
            == [0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        #expect(D.bytes(RFC6455FrameEncoder.compressedHeader(opcode: .binary, payloadLength: 300)) == [0xC2, 0x7E, 0x01, 0x2C])
        #expect(D.bytes(RFC6455FrameEncoder.compressedMessageFrame(opcode: .text, message: Self.hello, deflater: Deflater()))
            == [0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        // Masked (client) frame: the masked payload is the same as masking the compressed bytes.
        let key: (UInt8, UInt8, UInt8, UInt8) = (0x37, 0xFA, 0x21, 0x3D)
        let masked = RFC6455FrameEncoder.compressedMessageFrame(opcode: .text, message: Self.hello, deflater: Deflater(), maskingKey: key)
        let expected = RFC6455FrameEncoder.compressedFrame(opcode: .text, payload: D.buffer("f2 48 cd c9 c9 07 00"), maskingKey: key)
        #expect(D.bytes(masked) == D.bytes(expected))
    }

    @Test func compressedMessageFramesUseEveryLengthForm() throws {
        var random = SeededGenerator(state: 0xF4A3)
        for count in [10, 200, 100_000] {
            let message = ByteBuffer(bytes: D.random(count, &random))  // incompressible: the frame is longer than the message
            let frame = RFC6455FrameEncoder.compressedMessageFrame(opcode: .binary, message: message, deflater: Deflater())
            let payload = Deflater().compress(message)
            #expect(D.bytes(frame) == D.bytes(RFC6455FrameEncoder.compressedFrame(opcode: .binary, payload: payload)))
            #expect(D.bytes(try Inflater().decompress(payload, maxOutputBytes: count)) == D.bytes(message))
        }
    }
}
