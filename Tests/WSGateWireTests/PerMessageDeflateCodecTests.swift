import NIOCore
import Testing
import WSGateWire

/// Test data and helpers for the permessage-deflate codec suites.
enum DeflateTestData {
    static func bytes(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

    static func buffer(_ hex: String) -> ByteBuffer {
        let digits = Array(hex.filter { !$0.isWhitespace })
        return ByteBuffer(bytes: stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! })
    }

    static func random(_ count: Int, _ random: inout SeededGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    /// Chat-like JSON: compressible, with repeats near and far.
    static func chat(_ count: Int, _ random: inout SeededGenerator) -> [UInt8] {
        let names = ["alice", "bob", "carol", "dave", "eve"]
        let words = ["hello", "gateway", "room", "message", "deflate", "window", "the", "a", "of", "websocket"]
        var text = ""
        while text.utf8.count < count {
            let body = (0..<Int.random(in: 1...12, using: &random)).map { _ in words.randomElement(using: &random)! }.joined(separator: " ")
            text += #"{"type":"chat","from":"\#(names.randomElement(using: &random)!)","seq":\#(Int.random(in: 0...99999, using: &random)),"text":"\#(body)"}"#
        }
        return Array(text.utf8.prefix(count))
    }

    /// A mix of messages: empty, tiny, random, repetitive, and some larger than a window.
    static func messages(seed: UInt64) -> [[UInt8]] {
        var random = SeededGenerator(state: seed)
        return [
            Array("Hello".utf8), [], [0x00], Self.chat(300, &random), Self.random(100, &random), Self.chat(5000, &random),
            [], Array(repeating: 0x61, count: 40_000), Self.random(70_000, &random), Self.chat(100_000, &random), Array("Hello".utf8),
        ]
    }

    /// `payload` cut at random places into up to `pieces` parts, some of them empty.
    static func split(_ payload: ByteBuffer, pieces: Int, _ random: inout SeededGenerator) -> [ByteBuffer] {
        var cuts = (0..<max(0, pieces - 1)).map { _ in Int.random(in: 0...payload.readableBytes, using: &random) }.sorted()
        cuts.append(payload.readableBytes)
        var parts: [ByteBuffer] = []
        var start = 0
        for cut in cuts {
            parts.append(payload.getSlice(at: payload.readerIndex + start, length: cut - start)!)
            start = cut
        }
        return parts
    }

    static func inflate(_ inflater: Inflater, _ payload: ByteBuffer, limit: Int = 1 << 24) -> Result<[UInt8], PerMessageDeflateError> {
        do throws(PerMessageDeflateError) {
            return .success(Self.bytes(try inflater.decompress(payload, maxOutputBytes: limit)))
        } catch {
            return .failure(error)
        }
    }
}

/// `Deflater` and `Inflater` (RFC 7692 section 7.2) with the RFC's own examples, round trips,
/// bombs and corrupt data.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct PerMessageDeflateCodecTests {
    typealias D = DeflateTestData
    static let hello = ByteBuffer(string: "Hello")

    // MARK: RFC 7692 section 7.2.3

    @Test func helloCompressesAsInSection7231() {
        #expect(D.bytes(Deflater().compress(Self.hello)) == [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        for windowBits in 9...15 {
            #expect(D.bytes(Deflater(windowBits: windowBits).compress(Self.hello)) == [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        }
    }

    @Test func helloTwiceSharesTheWindowAsInSection7232() {
        let deflater = Deflater()
        #expect(D.bytes(deflater.compress(Self.hello)) == [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        #expect(D.bytes(deflater.compress(Self.hello)) == [0xF2, 0x00, 0x11, 0x00, 0x00])
        let inflater = Inflater()
        #expect(D.inflate(inflater, D.buffer("f2 48 cd c9 c9 07 00")) == .success(Array("Hello".utf8)))
        #expect(D.inflate(inflater, D.buffer("f2 00 11 00 00")) == .success(Array("Hello".utf8)))
    }

    @Test func withoutContextTakeoverEveryMessageStartsAfresh() {
        let deflater = Deflater(noContextTakeover: true)
        for _ in 0..<3 {
            #expect(D.bytes(deflater.compress(Self.hello)) == [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        }
        // The decompressor of a peer without context takeover forgets the window: a message
        // that refers back to the previous one is invalid for it.
        let inflater = Inflater(noContextTakeover: true)
        #expect(D.inflate(inflater, D.buffer("f2 48 cd c9 c9 07 00")) == .success(Array("Hello".utf8)))
        guard case .failure(.invalidData) = D.inflate(inflater, D.buffer("f2 00 11 00 00")) else {
            Issue.record("a back-reference into a dropped window must fail")
            return
        }
    }

    @Test func theUncompressedBlockOfSection7233Decompresses() {
        #expect(D.inflate(Inflater(), D.buffer("00 05 00 fa ff 48 65 6c 6c 6f 00")) == .success(Array("Hello".utf8)))
    }

    @Test func theFinalBlockOfSection7234DecompressesAndTheWindowCarriesOn() {
        let inflater = Inflater()
        #expect(D.inflate(inflater, D.buffer("f3 48 cd c9 c9 07 00 00")) == .success(Array("Hello".utf8)))
        #expect(D.inflate(inflater, D.buffer("f2 00 11 00 00")) == .success(Array("Hello".utf8)))
        // Without the empty block after it (not what 7.2.1 produces, but unambiguous).
        #expect(D.inflate(inflater, D.buffer("f3 48 cd c9 c9 07 00")) == .success(Array("Hello".utf8)))
        #expect(D.inflate(inflater, D.buffer("f2 00 11 00 00")) == .success(Array("Hello".utf8)))
    }

    @Test func anEmptyFinalFixedBlockIsAnEmptyMessage() {
        // 03 00: what some zlib bindings (PHP's) produce for an empty message, BFINAL set; the
        // next message goes on after it (section 7.2.1: "The next DEFLATE block follows").
        let inflater = Inflater()
        #expect(D.inflate(inflater, D.buffer("03 00")) == .success([]))
        #expect(D.inflate(inflater, D.buffer("f2 48 cd c9 c9 07 00")) == .success(Array("Hello".utf8)))
        #expect(D.inflate(inflater, D.buffer("03 00")) == .success([]))
        #expect(D.inflate(inflater, D.buffer("f2 00 11 00 00")) == .success(Array("Hello".utf8)))
    }

    @Test func theTwoBlocksOfSection7235Decompress() {
        #expect(D.inflate(Inflater(), D.buffer("f2 48 05 00 00 00 ff ff ca c9 c9 07 00")) == .success(Array("Hello".utf8)))
    }

    @Test func theFragmentedHelloOfSection721Decompresses() throws {
        // "Hello" compressed and sent in two frames, payloads f2 48 cd and c9 c9 07 00.
        let inflater = Inflater()
        #expect(D.bytes(try inflater.decompress(D.buffer("f2 48 cd"), D.buffer("c9 c9 07 00"), maxOutputBytes: 100)) == Array("Hello".utf8))
        var output = ByteBuffer()
        try inflater.decompressFragment(D.buffer("f2 48 cd"), isFinal: false, maxOutputBytes: 100, into: &output)
        try inflater.decompressFragment(D.buffer("c9 c9 07 00"), isFinal: true, maxOutputBytes: 100, into: &output)
        #expect(D.bytes(output) == Array("Hello".utf8))
    }

    // MARK: Empty messages (section 7.2.3.6)

    @Test func anEmptyMessageIsOneZeroByte() throws {
        let deflater = Deflater()
        #expect(D.bytes(deflater.compress(ByteBuffer())) == [0x00])
        #expect(D.bytes(deflater.compress(Self.hello)) == [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        #expect(D.bytes(deflater.compress(ByteBuffer())) == [0x00])
        #expect(D.bytes(deflater.compress(ByteBuffer())) == [0x00])
        #expect(D.bytes(deflater.compress(Self.hello)) == [0xF2, 0x00, 0x11, 0x00, 0x00])
        let inflater = Inflater()
        for payload in ["00", "f2 48 cd c9 c9 07 00", "00", "00", "f2 00 11 00 00", ""] {
            let expected = payload.count > 2 ? Array("Hello".utf8) : []
            #expect(D.inflate(inflater, D.buffer(payload)) == .success(expected), "\(payload)")
        }
        #expect(D.bytes(try inflater.decompress(fragments: [], maxOutputBytes: 0)) == [])
        #expect(D.bytes(try inflater.decompress(ByteBuffer(), ByteBuffer(), maxOutputBytes: 0)) == [])
    }

    // MARK: Round trips

    @Test(arguments: 9...15)
    func roundTripsAtEveryWindowSize(windowBits: Int) throws {
        var random = SeededGenerator(state: UInt64(windowBits) * 7919)
        for noContextTakeover in [false, true] {
            let deflater = Deflater(windowBits: windowBits, noContextTakeover: noContextTakeover)
            let whole = Inflater(windowBits: windowBits, noContextTakeover: noContextTakeover)
            let fragmented = Inflater(windowBits: windowBits, noContextTakeover: noContextTakeover)
            let larger = Inflater(windowBits: 15)  // a larger window always decodes a smaller one
            for message in D.messages(seed: UInt64(windowBits)) {
                let compressed = deflater.compress(ByteBuffer(bytes: message))
                #expect(D.bytes(try whole.decompress(compressed, maxOutputBytes: message.count)) == message)
                #expect(D.bytes(try larger.decompress(compressed, maxOutputBytes: message.count)) == message)
                let pieces = D.split(compressed, pieces: Int.random(in: 1...8, using: &random), &random)
                #expect(D.bytes(try fragmented.decompress(fragments: pieces, maxOutputBytes: message.count)) == message)
            }
        }
    }

    @Test func oneByteFragmentsAndEveryLevel() throws {
        var random = SeededGenerator(state: 0xB17E)
        let message = D.chat(3000, &random)
        for level in 0...9 {
            let deflater = Deflater(windowBits: 10, memLevel: 1 + level % 9, level: level)
            let inflater = Inflater(windowBits: 10)
            for _ in 0..<2 {
                let compressed = deflater.compress(ByteBuffer(bytes: message))
                var output = ByteBuffer()
                let bytes = D.bytes(compressed)
                for (index, byte) in bytes.enumerated() {
                    try inflater.decompressFragment(ByteBuffer(bytes: [byte]), isFinal: index == bytes.count - 1, maxOutputBytes: message.count, into: &output)
                }
                #expect(D.bytes(output) == message, "level \(level)")
            }
        }
    }

    @Test func compressionMakesChatSmallerAndContextTakeoverSmallerStill() {
        var random = SeededGenerator(state: 0xC4A7)
        let messages = (0..<50).map { _ in ByteBuffer(bytes: D.chat(200, &random)) }
        let total = messages.reduce(0) { $0 + $1.readableBytes }
        let takeover = Deflater(windowBits: 12)
        let fresh = Deflater(windowBits: 12, noContextTakeover: true)
        let withTakeover = messages.reduce(0) { $0 + takeover.compress($1).readableBytes }
        let without = messages.reduce(0) { $0 + fresh.compress($1).readableBytes }
        #expect(without < total)
        #expect(withTakeover < without)
    }

    @Test func aLargeMessageRoundTripsThroughTheGrowthPath() throws {
        var random = SeededGenerator(state: 0x2B16)
        let message = D.random(3 << 20, &random) + D.chat(1 << 20, &random)
        let compressed = Deflater().compress(ByteBuffer(bytes: message))
        #expect(D.bytes(try Inflater().decompress(compressed, maxOutputBytes: message.count)) == message)
    }

    @Test func compressAppendsAfterWhatTheBufferHolds() throws {
        var output = ByteBuffer(string: "head")
        Deflater().compress(Self.hello, appendingTo: &output)
        #expect(D.bytes(output) == Array("head".utf8) + [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        var inflated = ByteBuffer(string: "head")
        try Inflater().decompressFragment(D.buffer("f2 48 cd c9 c9 07 00"), isFinal: true, maxOutputBytes: 5, into: &inflated)
        #expect(D.bytes(inflated) == Array("headHello".utf8))
    }

    // MARK: Limits and bombs

    @Test func theLimitIsInclusive() {
        let message = [UInt8](repeating: 0x61, count: 10_000)
        let compressed = Deflater().compress(ByteBuffer(bytes: message))
        #expect(D.inflate(Inflater(), compressed, limit: 10_000) == .success(message))
        #expect(D.inflate(Inflater(), compressed, limit: 9_999) == .failure(.tooLarge(limit: 9_999)))
        #expect(D.inflate(Inflater(), Deflater().compress(Self.hello), limit: 0) == .failure(.tooLarge(limit: 0)))
        #expect(D.inflate(Inflater(), D.buffer("00"), limit: 0) == .success([]))
    }

    /// One message of 1 GiB of zeros, compressed: about 1 MiB (DEFLATE cannot beat ~1032:1, so
    /// 1 GiB never fits in 1 KiB; `aKilobyteBomb…` below is the 1 KiB case). Built from one
    /// compressed MiB repeated: with context takeover every further MiB compresses the same.
    static func gigabyteBomb() -> (payload: ByteBuffer, pieces: [ByteBuffer]) {
        let deflater = Deflater(level: 9)
        let mebibyte = ByteBuffer(repeating: 0, count: 1 << 20)
        let first = deflater.compress(mebibyte)
        let repeated = deflater.compress(mebibyte)
        precondition(D.bytes(deflater.compress(mebibyte)) == D.bytes(repeated), "the steady state repeats")
        let tail = ByteBuffer(bytes: [0x00, 0x00, 0xFF, 0xFF])
        var pieces = [first]
        for _ in 1..<1024 {
            pieces[pieces.count - 1].writeImmutableBuffer(tail)
            pieces.append(repeated)
        }
        var payload = ByteBuffer()
        for piece in pieces { payload.writeImmutableBuffer(piece) }
        return (payload, pieces)
    }

    @Test func aGigabyteBombStopsAtTheLimitQuickly() throws {
        let bomb = Self.gigabyteBomb()
        #expect(bomb.payload.readableBytes < 1_200_000)
        let limit = 1 << 20
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(D.inflate(Inflater(), bomb.payload, limit: limit) == .failure(.tooLarge(limit: limit)))
        }
        #expect(elapsed < .seconds(2), "\(elapsed)")
        // Frame by frame: the output holds at most limit + 1 bytes when it stops.
        let inflater = Inflater()
        var output = ByteBuffer()
        var thrown: PerMessageDeflateError?
        var framesRead = 0
        for (index, piece) in bomb.pieces.enumerated() {
            do throws(PerMessageDeflateError) {
                framesRead += 1
                try inflater.decompressFragment(piece, isFinal: index == bomb.pieces.count - 1, maxOutputBytes: limit, into: &output)
            } catch {
                thrown = error
                break
            }
        }
        #expect(thrown == .tooLarge(limit: limit))
        #expect(output.readableBytes <= limit + 1)
        #expect(framesRead == 2)
        #expect(output.capacity <= 2 * (limit + 1))
        // It really is bigger than 64 MiB.
        #expect(D.inflate(Inflater(), bomb.payload, limit: 64 << 20) == .failure(.tooLarge(limit: 64 << 20)))
    }

    @Test func aKilobyteBombOfAMebibyteStopsAtTheLimit() {
        let compressed = Deflater(level: 9).compress(ByteBuffer(repeating: 0, count: 1 << 20))
        #expect(compressed.readableBytes < 1100)
        #expect(D.inflate(Inflater(), compressed, limit: 1 << 20) == .success([UInt8](repeating: 0, count: 1 << 20)))
        #expect(D.inflate(Inflater(), compressed, limit: 64 << 10) == .failure(.tooLarge(limit: 64 << 10)))
    }

    // MARK: Corrupt data

    @Test func corruptDataIsInvalidData() {
        let corrupt = [
            "07",  // BTYPE 11, reserved
            "ff ff ff",  // the same
            "00 05 00 00 00 48",  // stored block whose NLEN is not ~LEN
            "f2 00 11 00 00",  // a back-reference before the start of the window
            "f2 48",  // stops inside a block: the tail then does not end one
            "f2 48 cd c9 c9 07",  // the same, one byte short
            "f3 48 cd c9 c9 07 00 ff",  // garbage after a final block
        ]
        for hex in corrupt {
            guard case .failure(.invalidData(let reason)) = D.inflate(Inflater(), D.buffer(hex)) else {
                Issue.record("\(hex) should be invalid")
                continue
            }
            #expect(!reason.isEmpty)
        }
    }

    @Test func aWindowSmallerThanThePeersFailsOnReferencesToEarlierMessages() {
        // The second message repeats the first, 1000 bytes back: a 1024-byte window (10 bits)
        // still has it, a 512-byte one (9 bits) does not. (Within one message zlib may reach
        // further back than its window, into the output it has just written.)
        var random = SeededGenerator(state: 0x51DE)
        let block = D.random(1000, &random)
        let deflater = Deflater(windowBits: 15)
        let first = deflater.compress(ByteBuffer(bytes: block))
        let second = deflater.compress(ByteBuffer(bytes: block))
        #expect(second.readableBytes < 20)
        let small = Inflater(windowBits: 9)
        #expect(D.inflate(small, first) == .success(block))
        #expect(D.inflate(small, second) == .failure(.invalidData(reason: "invalid distance too far back")))
        let enough = Inflater(windowBits: 10)
        #expect(D.inflate(enough, first) == .success(block))
        #expect(D.inflate(enough, second) == .success(block))
    }

    @Test func afterAnErrorTheInflaterStartsAfresh() {
        let inflater = Inflater()
        #expect(D.inflate(inflater, D.buffer("07")) == .failure(.invalidData(reason: "invalid block type")))
        #expect(D.inflate(inflater, D.buffer("f2 48 cd c9 c9 07 00")) == .success(Array("Hello".utf8)))
        #expect(D.inflate(inflater, Deflater().compress(ByteBuffer(repeating: 1, count: 100)), limit: 10) == .failure(.tooLarge(limit: 10)))
        #expect(D.inflate(inflater, D.buffer("f2 48 cd c9 c9 07 00")) == .success(Array("Hello".utf8)))
        var output = ByteBuffer()
        try? inflater.decompressFragment(D.buffer("f2 48"), isFinal: false, maxOutputBytes: 100, into: &output)
        inflater.abandonMessage()
        #expect(D.inflate(inflater, D.buffer("f2 48 cd c9 c9 07 00")) == .success(Array("Hello".utf8)))
    }

    @Test func randomBytesNeverCrash() {
        var random = SeededGenerator(state: 0xBAD5EED)
        var valid = 0
        for round in 0..<3000 {
            let inflater = Inflater(windowBits: 9 + round % 7, noContextTakeover: round % 2 == 0)
            for _ in 0..<3 {
                let payload = ByteBuffer(bytes: D.random(Int.random(in: 0...64, using: &random), &random))
                switch D.inflate(inflater, payload, limit: 4096) {
                case .success: valid += 1
                case .failure(.invalidData), .failure(.tooLarge): break
                case .failure(let other): Issue.record("\(other)")
                }
            }
        }
        #expect(valid > 0)
    }

    @Test func flippedBitsInRealMessagesAreCaughtOrDecodeToSomething() {
        var random = SeededGenerator(state: 0xF11B)
        let message = D.chat(2000, &random)
        let compressed = D.bytes(Deflater().compress(ByteBuffer(bytes: message)))
        for _ in 0..<500 {
            var bytes = compressed
            let index = Int.random(in: 0..<bytes.count, using: &random)
            bytes[index] ^= 1 << UInt8.random(in: 0...7, using: &random)
            switch D.inflate(Inflater(), ByteBuffer(bytes: bytes), limit: 1 << 20) {
            case .success, .failure(.invalidData), .failure(.tooLarge): break
            case .failure(let other): Issue.record("\(other)")
            }
        }
    }

    // MARK: Memory

    @Test func zlibStateIsAllocatedLazilyAndSizedAsDocumented() throws {
        for (windowBits, memLevel) in [(9, 1), (10, 3), (12, 8), (15, 8), (15, 9)] {
            let deflater = Deflater(windowBits: windowBits, memLevel: memLevel)
            #expect(deflater.zlibMemoryBytes == 0)
            _ = deflater.compress(ByteBuffer())
            #expect(deflater.zlibMemoryBytes == 0)
            _ = deflater.compress(Self.hello)
            let estimate = Deflater.memoryBytes(windowBits: windowBits, memLevel: memLevel)
            #expect(abs(deflater.zlibMemoryBytes - estimate) < 1024, "\(windowBits)/\(memLevel): \(deflater.zlibMemoryBytes) vs \(estimate)")
            let inflater = Inflater(windowBits: windowBits)
            #expect(inflater.zlibMemoryBytes == 0)
            _ = try inflater.decompress(Deflater(windowBits: windowBits).compress(Self.hello), maxOutputBytes: 5)
            let inflateEstimate = Inflater.memoryBytes(windowBits: windowBits)
            #expect(abs(inflater.zlibMemoryBytes - inflateEstimate) < 1024, "\(windowBits): \(inflater.zlibMemoryBytes) vs \(inflateEstimate)")
        }
    }
}
