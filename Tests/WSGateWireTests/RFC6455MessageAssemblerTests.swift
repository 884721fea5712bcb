import NIOCore
import NIOWebSocket
import Testing
import WSGateWire

/// Frames as NIO's decoder hands them over: masked with a key, data still masked.
private func frame(
    _ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false, rsv2: Bool = false, rsv3: Bool = false,
    masked: Bool = true
) -> WebSocketFrame {
    var data = ByteBuffer(bytes: payload)
    let key: WebSocketMaskingKey? = masked ? WebSocketMaskingKey([0x37, 0xFA, 0x21, 0x3D]) : nil
    if let key { data.webSocketMask(key) }
    return WebSocketFrame(fin: fin, rsv1: rsv1, rsv2: rsv2, rsv3: rsv3, opcode: opcode, maskKey: key, data: data)
}

private func frame(_ opcode: WebSocketOpcode, _ text: String, fin: Bool = true) -> WebSocketFrame {
    frame(opcode, Array(text.utf8), fin: fin)
}

private func closePayload(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
    [UInt8(code >> 8), UInt8(code & 0xFF)] + reason
}

private func failCode(_ action: RFC6455MessageAssembler.Action) -> UInt16? {
    if case .fail(let close) = action { return close.code?.rawValue }
    return nil
}

/// A reference wrapper, so that `#expect` can call the mutating `receive` on it.
private final class AssemblerBox {
    var assembler: RFC6455MessageAssembler
    init(maxMessageSize: Int, requiresMasking: Bool = true) {
        self.assembler = RFC6455MessageAssembler(maxMessageSize: maxMessageSize, requiresMasking: requiresMasking)
    }
    func receive(_ frame: WebSocketFrame) -> RFC6455MessageAssembler.Action { self.assembler.receive(frame) }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct RFC6455MessageAssemblerTests {
    @Test func aMaskedTextFrameIsAMessage() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.text, "Hello")) == .message(.text("Hello")))
    }

    @Test func aMaskedBinaryFrameIsAMessage() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.binary, [0, 1, 0xFF])) == .message(.binary(ByteBuffer(bytes: [0, 1, 0xFF]))))
    }

    @Test func anEmptyTextMessageIsAMessage() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.text, "")) == .message(.text("")))
    }

    @Test func anUnmaskedFrameFromAClientFailsWith1002() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(failCode(assembler.receive(frame(.text, Array("Hello".utf8), masked: false))) == 1002)
    }

    @Test func unmaskedFramesAreAcceptedWhenMaskingIsNotRequired() {
        let assembler = AssemblerBox(maxMessageSize: 1024, requiresMasking: false)
        #expect(assembler.receive(frame(.text, Array("Hello".utf8), masked: false)) == .message(.text("Hello")))
    }

    @Test func fragmentsAreAssembledIntoOneMessage() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.text, "Hel", fin: false)) == .needMore)
        #expect(assembler.receive(frame(.continuation, "l", fin: false)) == .needMore)
        #expect(assembler.receive(frame(.continuation, "o")) == .message(.text("Hello")))
        // and the assembler is ready for the next message
        #expect(assembler.receive(frame(.binary, [9], fin: false)) == .needMore)
        #expect(assembler.receive(frame(.continuation, [8])) == .message(.binary(ByteBuffer(bytes: [9, 8]))))
    }

    @Test func controlFramesMayComeBetweenFragments() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.text, "Hel", fin: false)) == .needMore)
        #expect(assembler.receive(frame(.ping, "p")) == .ping(ByteBuffer(string: "p")))
        #expect(assembler.receive(frame(.pong, "q")) == .pong)
        #expect(assembler.receive(frame(.continuation, "lo")) == .message(.text("Hello")))
    }

    @Test func aPingIsAnsweredWithItsPayload() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.ping, [1, 2, 3])) == .ping(ByteBuffer(bytes: [1, 2, 3])))
        #expect(assembler.receive(frame(.ping, [])) == .ping(ByteBuffer()))
        let full = [UInt8](repeating: 7, count: 125)
        #expect(assembler.receive(frame(.ping, full)) == .ping(ByteBuffer(bytes: full)))
    }

    @Test func aCloseCarriesItsCodeAndReason() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.connectionClose, closePayload(1000, Array("bye".utf8)))) == .peerClosed(WebSocketClose(code: 1000, reason: "bye")))
        let other = AssemblerBox(maxMessageSize: 1024)
        #expect(other.receive(frame(.connectionClose, closePayload(4999))) == .peerClosed(WebSocketClose(code: 4999, reason: "")))
    }

    @Test func anEmptyCloseHasNoCode() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.connectionClose, [])) == .peerClosed(WebSocketClose(code: nil, reason: nil)))
    }

    @Test func aOneByteCloseBodyFailsWith1002() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(failCode(assembler.receive(frame(.connectionClose, [0x03]))) == 1002)
    }

    @Test(arguments: [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] as [UInt16])
    func invalidCloseCodesFailWith1002(_ code: UInt16) {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(failCode(assembler.receive(frame(.connectionClose, closePayload(code)))) == 1002)
    }

    @Test(arguments: [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] as [UInt16])
    func validCloseCodesAreAccepted(_ code: UInt16) {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.connectionClose, closePayload(code))) == .peerClosed(WebSocketClose(code: WebSocketCloseCode(rawValue: code), reason: "")))
    }

    @Test func aCloseReasonThatIsNotUTF8FailsWith1007() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(failCode(assembler.receive(frame(.connectionClose, closePayload(1000, [0xCE, 0xBA, 0xED, 0xA0, 0x80])))) == 1007)
    }

    @Test func invalidUTF8InATextFrameFailsWith1007() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(failCode(assembler.receive(frame(.text, [0x48, 0xC0, 0x80]))) == 1007)
    }

    @Test func aTextMessageEndingInsideASequenceFailsWith1007() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(failCode(assembler.receive(frame(.text, [0x48, 0xE2, 0x82]))) == 1007)
    }

    @Test func aCharacterSplitAcrossFragmentsIsValid() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        #expect(assembler.receive(frame(.text, [0x41, euro[0]], fin: false)) == .needMore)
        #expect(assembler.receive(frame(.continuation, [euro[1]], fin: false)) == .needMore)
        #expect(assembler.receive(frame(.continuation, [euro[2], 0x42])) == .message(.text("A€B")))
    }

    @Test func invalidUTF8InALaterFragmentFailsWith1007AtThatFragment() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.text, [0x41, 0xF4], fin: false)) == .needMore)
        #expect(failCode(assembler.receive(frame(.continuation, [0x90], fin: false))) == 1007)  // > U+10FFFF
    }

    @Test func invalidUTF8FailsFastBeforeTheMessageEnds() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(failCode(assembler.receive(frame(.text, [0x41, 0xED, 0xA0, 0x80], fin: false))) == 1007)
    }

    @Test func aFragmentedTextEndingInsideASequenceFailsWith1007() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.text, [0x41], fin: false)) == .needMore)
        #expect(failCode(assembler.receive(frame(.continuation, [0xC3]))) == 1007)
    }

    @Test func binaryPayloadsAreNotCheckedForUTF8() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.binary, [0xC0, 0xFF])) == .message(.binary(ByteBuffer(bytes: [0xC0, 0xFF]))))
    }

    @Test(arguments: [WebSocketOpcode.ping, .pong, .connectionClose])
    func aControlFrameOver125BytesFailsWith1002(_ opcode: WebSocketOpcode) {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(failCode(assembler.receive(frame(opcode, [UInt8](repeating: 0x41, count: 126)))) == 1002)
    }

    @Test(arguments: [WebSocketOpcode.ping, .pong, .connectionClose])
    func aFragmentedControlFrameFailsWith1002(_ opcode: WebSocketOpcode) {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(failCode(assembler.receive(frame(opcode, [], fin: false))) == 1002)
    }

    @Test(arguments: [(true, false, false), (false, true, false), (false, false, true)])
    func reservedBitsFailWith1002(_ bits: (Bool, Bool, Bool)) {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        let f = frame(.text, Array("x".utf8), rsv1: bits.0, rsv2: bits.1, rsv3: bits.2)
        #expect(failCode(assembler.receive(f)) == 1002)
    }

    @Test(arguments: [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] as [UInt8])
    func reservedOpcodesFailWith1002(_ code: UInt8) throws {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        let opcode = try #require(WebSocketOpcode(encodedWebSocketOpcode: code))
        #expect(failCode(assembler.receive(frame(opcode, [1]))) == 1002)
    }

    @Test func aContinuationWithNothingToContinueFailsWith1002() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(failCode(assembler.receive(frame(.continuation, "x"))) == 1002)
    }

    @Test func aNewDataFrameInsideAFragmentedMessageFailsWith1002() {
        let assembler = AssemblerBox(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.text, "a", fin: false)) == .needMore)
        #expect(failCode(assembler.receive(frame(.text, "b"))) == 1002)
        let binary = AssemblerBox(maxMessageSize: 1024)
        #expect(binary.receive(frame(.binary, [1], fin: false)) == .needMore)
        #expect(failCode(binary.receive(frame(.binary, [2]))) == 1002)
    }

    @Test func aMessageAtTheLimitIsAcceptedAndOneByteMoreFailsWith1009() {
        let assembler = AssemblerBox(maxMessageSize: 16)
        let sixteen = [UInt8](repeating: 0x61, count: 16)
        #expect(assembler.receive(frame(.binary, sixteen)) == .message(.binary(ByteBuffer(bytes: sixteen))))
        #expect(failCode(assembler.receive(frame(.binary, sixteen + [0x61]))) == 1009)
    }

    @Test func fragmentsThatTogetherPassTheLimitFailWith1009() {
        let assembler = AssemblerBox(maxMessageSize: 16)
        #expect(assembler.receive(frame(.text, [UInt8](repeating: 0x61, count: 10), fin: false)) == .needMore)
        #expect(failCode(assembler.receive(frame(.continuation, [UInt8](repeating: 0x61, count: 7)))) == 1009)
    }
}
