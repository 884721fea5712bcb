import NIOCore
import Testing
import WSGateWire

@Suite(.serialized, .timeLimit(.minutes(1)))
struct RFC6455FrameEncoderTests {
    static func bytes(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

    @Test func anUnmaskedTextFrameMatchesTheSection57Example() {
        let frame = RFC6455FrameEncoder.frame(opcode: .text, payload: ByteBuffer(string: "Hello"))
        #expect(Self.bytes(frame) == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
    }

    @Test func aMaskedTextFrameMatchesTheSection57Example() {
        let frame = RFC6455FrameEncoder.frame(opcode: .text, payload: ByteBuffer(string: "Hello"), maskingKey: (0x37, 0xFA, 0x21, 0x3D))
        #expect(Self.bytes(frame) == [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    @Test func aFragmentedUnmaskedTextMessageMatchesTheSection57Example() {
        let first = RFC6455FrameEncoder.frame(opcode: .text, payload: ByteBuffer(string: "Hel"), fin: false)
        let second = RFC6455FrameEncoder.frame(opcode: .continuation, payload: ByteBuffer(string: "lo"))
        #expect(Self.bytes(first) == [0x01, 0x03, 0x48, 0x65, 0x6C])
        #expect(Self.bytes(second) == [0x80, 0x02, 0x6C, 0x6F])
    }

    @Test func pingAndPongFramesMatchTheSection57Examples() {
        #expect(Self.bytes(RFC6455FrameEncoder.frame(opcode: .ping, payload: ByteBuffer(string: "Hello")))
            == [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(Self.bytes(RFC6455FrameEncoder.frame(opcode: .pong, payload: ByteBuffer(string: "Hello"), maskingKey: (0x37, 0xFA, 0x21, 0x3D)))
            == [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    @Test func a256ByteBinaryFrameUsesTheSixteenBitLength() {
        let payload = (0..<256).map { UInt8($0 & 0xFF) }
        let bytes = Self.bytes(RFC6455FrameEncoder.frame(opcode: .binary, payload: ByteBuffer(bytes: payload)))
        #expect(Array(bytes.prefix(4)) == [0x82, 0x7E, 0x01, 0x00])
        #expect(Array(bytes.dropFirst(4)) == payload)
    }

    @Test func a64KiBBinaryFrameUsesTheSixtyFourBitLength() {
        let payload = [UInt8](repeating: 0xAB, count: 65536)
        let bytes = Self.bytes(RFC6455FrameEncoder.frame(opcode: .binary, payload: ByteBuffer(bytes: payload)))
        #expect(Array(bytes.prefix(10)) == [0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00])
        #expect(bytes.count == 65536 + 10)
        #expect(Array(bytes.dropFirst(10)) == payload)
    }

    @Test func lengthFormBoundariesAreTheShortestForm() {
        #expect(RFC6455FrameEncoder.headerLength(payloadLength: 125, masked: false) == 2)
        #expect(RFC6455FrameEncoder.headerLength(payloadLength: 126, masked: false) == 4)
        #expect(RFC6455FrameEncoder.headerLength(payloadLength: 65535, masked: false) == 4)
        #expect(RFC6455FrameEncoder.headerLength(payloadLength: 65536, masked: false) == 10)
        #expect(RFC6455FrameEncoder.headerLength(payloadLength: 0, masked: true) == 6)
        let f125 = Self.bytes(RFC6455FrameEncoder.frame(opcode: .binary, payload: ByteBuffer(repeating: 1, count: 125)))
        #expect(f125[1] == 125 && f125.count == 127)
        let f126 = Self.bytes(RFC6455FrameEncoder.frame(opcode: .binary, payload: ByteBuffer(repeating: 1, count: 126)))
        #expect(Array(f126[1...3]) == [0x7E, 0x00, 0x7E] && f126.count == 130)
        let f65535 = Self.bytes(RFC6455FrameEncoder.frame(opcode: .binary, payload: ByteBuffer(repeating: 1, count: 65535)))
        #expect(Array(f65535[1...3]) == [0x7E, 0xFF, 0xFF])
    }

    @Test func aMaskedLongFrameUnmasksBackToThePayload() {
        let payload = (0..<300).map { UInt8(($0 * 7) & 0xFF) }
        let key: (UInt8, UInt8, UInt8, UInt8) = (1, 2, 3, 4)
        let bytes = Self.bytes(RFC6455FrameEncoder.frame(opcode: .binary, payload: ByteBuffer(bytes: payload), maskingKey: key))
        #expect(Array(bytes.prefix(8)) == [0x82, 0xFE, 0x01, 0x2C, 1, 2, 3, 4])
        let masked = Array(bytes.dropFirst(8))
        let keyBytes: [UInt8] = [1, 2, 3, 4]
        #expect(masked.enumerated().map { $0.element ^ keyBytes[$0.offset % 4] } == payload)
    }

    @Test func aCloseFrameCarriesTheCodeThenTheReason() {
        #expect(Self.bytes(RFC6455FrameEncoder.closeFrame(code: 1000, reason: "bye")) == [0x88, 0x05, 0x03, 0xE8, 0x62, 0x79, 0x65])
        #expect(Self.bytes(RFC6455FrameEncoder.closeFrame(code: 1009)) == [0x88, 0x02, 0x03, 0xF1])
        #expect(Self.bytes(RFC6455FrameEncoder.closeFrame(code: nil)) == [0x88, 0x00])
        #expect(Self.bytes(RFC6455FrameEncoder.closeFrame(WebSocketClose(code: .policyViolation, reason: nil))) == [0x88, 0x02, 0x03, 0xF0])
    }

    @Test func aLongCloseReasonIsCutToFitInOneHundredTwentyFiveBytesWithoutBreakingUTF8() {
        let reason = String(repeating: "é", count: 100)  // 200 bytes
        let bytes = Self.bytes(RFC6455FrameEncoder.closeFrame(code: 1001, reason: reason))
        #expect(bytes[0] == 0x88)
        #expect(Int(bytes[1]) <= 125)
        #expect(Int(bytes[1]) == bytes.count - 2)
        let reasonBytes = Array(bytes.dropFirst(4))
        #expect(reasonBytes.count == 122)  // 123 would split a two-byte character
        #expect(String(validating: reasonBytes, as: UTF8.self) != nil)
    }

    @Test func messagesBecomeOneUnfragmentedFrameOfTheirKind() {
        #expect(Self.bytes(RFC6455FrameEncoder.message(.text("hi"))) == [0x81, 0x02, 0x68, 0x69])
        #expect(Self.bytes(RFC6455FrameEncoder.message(.binary(ByteBuffer(bytes: [0, 255])))) == [0x82, 0x02, 0x00, 0xFF])
        #expect(Self.bytes(RFC6455FrameEncoder.message(.text(""))) == [0x81, 0x00])
    }
}
