import NIOCore
import Testing
import WSGateWire

/// Every way to cut `bytes` in two, and `bytes` one at a time.
func splits(of bytes: [UInt8]) -> [[[UInt8]]] {
    var result = (0...bytes.count).map { [Array(bytes[..<$0]), Array(bytes[$0...])] }
    result.append(bytes.map { [$0] })
    return result
}

/// Feeds `chunks` in turn to one parser and returns every frame it gives.
func parseFrames(
    _ chunks: [[UInt8]],
    dialect: HixieDialect,
    maxMessageSize: Int
) throws(WireError) -> [HixieFrameParser.Frame] {
    var parser = HixieFrameParser(dialect: dialect, maxMessageSize: maxMessageSize)
    var buffer = ByteBuffer()
    var frames: [HixieFrameParser.Frame] = []
    for chunk in chunks {
        buffer.writeBytes(chunk)
        while let frame = try parser.next(from: &buffer) {
            frames.append(frame)
        }
    }
    return frames
}

/// Expects `bytes`, cut in every way, to give `frames`.
func expectFrames(
    _ bytes: [UInt8], _ frames: [HixieFrameParser.Frame], dialect: HixieDialect, maxMessageSize: Int = 64,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for chunks in splits(of: bytes) {
        do {
            let parsed = try parseFrames(chunks, dialect: dialect, maxMessageSize: maxMessageSize)
            #expect(parsed == frames, "cut into \(chunks.map(\.count))", sourceLocation: sourceLocation)
        } catch {
            Issue.record("cut into \(chunks.map(\.count)): \(error)", sourceLocation: sourceLocation)
        }
    }
}

/// Expects `bytes`, cut in every way, to be refused with `error`.
func expectRefusal(
    _ bytes: [UInt8], _ error: WireError, dialect: HixieDialect, maxMessageSize: Int = 64,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for chunks in splits(of: bytes) {
        #expect(throws: error, "cut into \(chunks.map(\.count))", sourceLocation: sourceLocation) {
            try parseFrames(chunks, dialect: dialect, maxMessageSize: maxMessageSize)
        }
    }
}

func text(_ string: String) -> HixieFrameParser.Frame { .text(ByteBuffer(string: string)) }

@Suite struct HixieFrameParserTests {
    static let both: [HixieDialect] = [.hixie75, .hixie76]

    @Test(arguments: both)
    func textFramesAreReadFromAnySplit(dialect: HixieDialect) {
        expectFrames([0x00] + Array("Hello".utf8) + [0xFF], [text("Hello")], dialect: dialect)
        let three: [UInt8] = [0x00, 0xFF, 0x00, 0x61, 0xFF, 0x00, 0x62, 0x63, 0xFF]
        expectFrames(three, [text(""), text("a"), text("bc")], dialect: dialect)
        expectFrames([0x00] + Array("héllo €𝄞".utf8) + [0xFF], [text("héllo €𝄞")], dialect: dialect)
    }

    @Test func hixie76ClosingHandshakeIsReadFromAnySplit() {
        expectFrames([0xFF, 0x00], [.close], dialect: .hixie76)
        expectFrames([0x00, 0x61, 0xFF, 0xFF, 0x00], [text("a"), .close], dialect: .hixie76)
        // Section 5.3: type 0xFF with length 0 closes, however the zero length is written.
        expectFrames([0xFF, 0x80, 0x00], [.close], dialect: .hixie76)
    }

    @Test func hixie75HasNoClosingHandshakeSoFF00IsAnEmptyFrameDiscarded() {
        expectFrames([0xFF, 0x00, 0x00, 0x61, 0xFF], [text("a")], dialect: .hixie75)
    }

    @Test(arguments: both)
    func lengthPrefixedFramesAreDiscardedFromAnySplit(dialect: HixieDialect) {
        expectFrames([0x80, 0x03, 0x01, 0xFF, 0x02, 0x00, 0x61, 0xFF], [text("a")], dialect: dialect)
        expectFrames([0x80, 0x00, 0x00, 0x62, 0xFF], [text("b")], dialect: dialect)
        // 0x81 0x01 is 1 * 128 + 1 = 129 bytes, which may hold 0x00 and 0xFF.
        let body = (0..<129).map { UInt8(truncatingIfNeeded: $0 * 7) }
        expectFrames([0x81, 0x81, 0x01] + body + [0x00, 0x63, 0xFF], [text("c")], dialect: dialect, maxMessageSize: 129)
        // Type 0xFF with a length other than 0 is data, not a close, in both dialects.
        expectFrames([0xFF, 0x02, 0xAA, 0xBB, 0x00, 0x64, 0xFF], [text("d")], dialect: dialect)
    }

    @Test(arguments: both)
    func otherTypesWithTheHighBitClearAreReadToFFAndDiscarded(dialect: HixieDialect) {
        expectFrames([0x01, 0x61, 0x62, 0xFF, 0x7F, 0xFF, 0x00, 0x63, 0xFF], [text("c")], dialect: dialect)
        expectFrames([0x42, 0xC3, 0x28, 0xFF, 0xFF, 0x00], dialect == .hixie76 ? [.close] : [], dialect: dialect)
    }

    @Test(arguments: both)
    func textThatIsNotUTF8IsRefused(dialect: HixieDialect) {
        // A bad continuation, an overlong form, a surrogate, past U+10FFFF, a cut sequence, a lone continuation.
        let bads: [[UInt8]] = [
            [0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80],
        ]
        for bad in bads {
            expectRefusal([0x00, 0x61] + bad + [0xFF], .invalidUTF8, dialect: dialect)
        }
    }

    @Test(arguments: both)
    func textUpToTheLimitIsAcceptedAndOneByteMoreIsRefused(dialect: HixieDialect) {
        let limit = 8
        let fits = [UInt8](repeating: 0x61, count: limit)
        expectFrames([0x00] + fits + [0xFF], [.text(ByteBuffer(bytes: fits))], dialect: dialect, maxMessageSize: limit)
        let tooLong = [0x00] + fits + [0x61, 0xFF]
        expectRefusal(tooLong, .frameTooLarge(limit: limit), dialect: dialect, maxMessageSize: limit)
        // No terminator at all: refused as soon as limit + 1 bytes are in, without waiting for more.
        expectRefusal([0x00] + fits + [0x61], .frameTooLarge(limit: limit), dialect: dialect, maxMessageSize: limit)
        expectFrames([0x00, 0xFF], [text("")], dialect: dialect, maxMessageSize: 0)
        expectRefusal([0x00, 0x61], .frameTooLarge(limit: 0), dialect: dialect, maxMessageSize: 0)
    }

    @Test(arguments: both)
    func discardedTextFramesHaveTheSameLimit(dialect: HixieDialect) {
        let limit = 8
        let fits = [UInt8](repeating: 0x61, count: limit)
        expectFrames([0x05] + fits + [0xFF], [], dialect: dialect, maxMessageSize: limit)
        expectRefusal([0x05] + fits + [0x61], .frameTooLarge(limit: limit), dialect: dialect, maxMessageSize: limit)
    }

    @Test(arguments: both)
    func aLengthOverTheLimitIsRefusedBeforeItsBodyArrives(dialect: HixieDialect) {
        expectFrames([0x80, 0x0A] + [UInt8](repeating: 0, count: 10), [], dialect: dialect, maxMessageSize: 10)
        expectRefusal([0x80, 0x0B], .frameTooLarge(limit: 10), dialect: dialect, maxMessageSize: 10)
        expectRefusal([0x80, 0x81], .frameTooLarge(limit: 10), dialect: dialect, maxMessageSize: 10)  // at least 128
        let endless = [0x80] + [UInt8](repeating: 0xFF, count: 12)
        expectRefusal(endless, .frameTooLarge(limit: .max), dialect: dialect, maxMessageSize: .max)
    }

    @Test func anUnfinishedTextFrameStaysInTheBufferAndFinishesLater() throws {
        var parser = HixieFrameParser(dialect: .hixie76, maxMessageSize: 64)
        var buffer = ByteBuffer(bytes: [0x00, 0x61, 0x62])
        #expect(try parser.next(from: &buffer) == nil)
        #expect(buffer.readableBytes == 2)
        buffer.writeBytes([0x63, 0xFF, 0x00])
        #expect(try parser.next(from: &buffer) == text("abc"))
        #expect(try parser.next(from: &buffer) == nil)
        #expect(buffer.readableBytes == 0)  // the next frame's type byte was taken
        buffer.writeBytes([0xFF])
        #expect(try parser.next(from: &buffer) == text(""))
    }

    @Test func discardedBytesAreConsumedAsTheyArrive() throws {
        var parser = HixieFrameParser(dialect: .hixie76, maxMessageSize: 1 << 20)
        var buffer = ByteBuffer(bytes: [0x80, 0x84, 0x00] + [UInt8](repeating: 0x61, count: 100))
        #expect(try parser.next(from: &buffer) == nil)
        #expect(buffer.readableBytes == 0)
        buffer.writeBytes([0x01] + [UInt8](repeating: 0x61, count: 100))
        #expect(try parser.next(from: &buffer) == nil)
        #expect(buffer.readableBytes == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func aLargeFrameFedByteByByteIsScannedOnce() throws {
        // Rescanning would make this quadratic: 2^17 bytes one at a time would take minutes.
        let size = 1 << 17
        var parser = HixieFrameParser(dialect: .hixie76, maxMessageSize: size)
        var buffer = ByteBuffer(bytes: [0x00])
        for _ in 0..<size {
            buffer.writeInteger(0x61 as UInt8)
            guard try parser.next(from: &buffer) == nil else {
                Issue.record("a frame before the terminator")
                return
            }
        }
        buffer.writeInteger(0xFF as UInt8)
        #expect(try parser.next(from: &buffer) == .text(ByteBuffer(repeating: 0x61, count: size)))
    }
}
