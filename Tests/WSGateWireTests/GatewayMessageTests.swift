import NIOCore
import Testing
import WSGateWire

@Suite(.serialized, .timeLimit(.minutes(1)))
struct GatewayMessageTests {
    @Test func aGatewayMessageFitsInNIOAnysInlineStorage() {
        #expect(MemoryLayout<GatewayMessage>.size <= 24)
    }

    @Test func thePayloadIsTheBytesOfTextOrBinary() {
        #expect(GatewayMessage.text("hé").payload == ByteBuffer(bytes: [0x68, 0xC3, 0xA9]))
        #expect(GatewayMessage.binary(ByteBuffer(bytes: [1, 2])).payload == ByteBuffer(bytes: [1, 2]))
        #expect(GatewayMessage.text("a") != GatewayMessage.binary(ByteBuffer(string: "a")))
    }
}
