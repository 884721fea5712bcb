import NIOCore
import NIOEmbedded
import Testing
import WSGateWire

/// Writes `chunks` into a channel holding a `HixieFrameDecoder` and returns the frames read.
func decodeThroughChannel(
    _ chunks: [[UInt8]],
    dialect: HixieDialect,
    maxMessageSize: Int
) throws -> [HixieFrameParser.Frame] {
    let channel = EmbeddedChannel(
        handler: ByteToMessageHandler(HixieFrameDecoder(dialect: dialect, maxMessageSize: maxMessageSize)))
    defer { _ = try? channel.finish() }
    var frames: [HixieFrameParser.Frame] = []
    for chunk in chunks {
        try channel.writeInbound(ByteBuffer(bytes: chunk))
        while let frame = try channel.readInbound(as: HixieFrameParser.Frame.self) {
            frames.append(frame)
        }
    }
    return frames
}

@Suite struct HixieFrameDecoderTests {
    @Test func decoderGivesEveryFrameFromAnySplitOfTheInput() throws {
        let input: [UInt8] = [0x00] + Array("Hello".utf8) + [0xFF]
            + [0x80, 0x02, 0xFF, 0x00]  // discarded
            + [0x01, 0x61, 0xFF]  // discarded
            + [0x00, 0xFF]
            + [0xFF, 0x00]
        for chunks in splits(of: input) {
            let frames = try decodeThroughChannel(chunks, dialect: .hixie76, maxMessageSize: 64)
            #expect(frames == [.text(ByteBuffer(string: "Hello")), .text(ByteBuffer()), .close])
        }
    }

    @Test func decoderOnHixie75DiscardsFF00() throws {
        for chunks in splits(of: [0xFF, 0x00, 0x00, 0x61, 0xFF]) {
            let frames = try decodeThroughChannel(chunks, dialect: .hixie75, maxMessageSize: 64)
            #expect(frames == [.text(ByteBuffer(string: "a"))])
        }
    }

    @Test func decoderPassesWireErrorsUp() {
        #expect(throws: WireError.invalidUTF8) {
            try decodeThroughChannel([[0x00, 0xC3, 0x28, 0xFF]], dialect: .hixie76, maxMessageSize: 64)
        }
        #expect(throws: WireError.frameTooLarge(limit: 4)) {
            try decodeThroughChannel([[0x00, 0x61, 0x61], [0x61, 0x61, 0x61]], dialect: .hixie76, maxMessageSize: 4)
        }
    }
}
