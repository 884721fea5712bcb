import NIOCore
import NIOWebSocket
import Testing

@testable import WSGateWire

/// `RFC6455FrameReader` with RFC 6455's own examples (section 5.7), every split of them, and the
/// checks it shares with NIO's decoder.
@Suite struct RFC6455FrameReaderTests {
    /// Section 5.7's frames, byte for byte.
    static let unmaskedHello: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    static let maskedHello: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    static let fragmentedHello: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]
    static let unmaskedPing: [UInt8] = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    static let maskedPong: [UInt8] = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]

    private func frames(_ chunks: [[UInt8]], maxFrameSize: Int = 1 << 20) throws -> [RFC6455Frame] {
        var reader = RFC6455FrameReader(maxFrameSize: maxFrameSize)
        var out: [RFC6455Frame] = []
        for chunk in chunks {
            reader.append(ByteBuffer(bytes: chunk))
            while let frame = try reader.next() { out.append(frame) }
        }
        #expect(reader.pendingBytes == 0)
        return out
    }

    private func unmasked(_ frame: RFC6455Frame) -> [UInt8] {
        guard let key = frame.maskKey else { return Array(frame.data.readableBytesView) }
        return Array(WebSocketMasking.maskedCopy(of: frame.data, key: key).readableBytesView)
    }

    @Test func theSpecsSingleFramesReadAsTheSpecSays() throws {
        let hello = try frames([Self.unmaskedHello])
        #expect(hello.count == 1)
        #expect(hello[0].fin && hello[0].opcode == 0x1 && hello[0].maskKey == nil)
        #expect(String(decoding: unmasked(hello[0]), as: UTF8.self) == "Hello")

        let masked = try frames([Self.maskedHello])
        #expect(masked.count == 1)
        #expect(masked[0].maskKey.map { [$0.0, $0.1, $0.2, $0.3] } == [0x37, 0xfa, 0x21, 0x3d])
        #expect(String(decoding: unmasked(masked[0]), as: UTF8.self) == "Hello")

        let ping = try frames([Self.unmaskedPing])
        #expect(ping.count == 1 && ping[0].opcode == 0x9 && ping[0].fin)
        let pong = try frames([Self.maskedPong])
        #expect(pong.count == 1 && pong[0].opcode == 0xA && String(decoding: unmasked(pong[0]), as: UTF8.self) == "Hello")
    }

    @Test func aFragmentedMessageIsTwoFramesThatTheAssemblerJoins() throws {
        let parts = try frames([Self.fragmentedHello])
        #expect(parts.map(\.opcode) == [0x1, 0x0])
        #expect(parts.map(\.fin) == [false, true])
        var assembler = RFC6455MessageAssembler(maxMessageSize: 100, requiresMasking: false)
        #expect(assembler.receive(parts[0]) == .needMore)
        #expect(assembler.receive(parts[1]) == .message(.text(ByteBuffer(string: "Hello"))))
    }

    @Test func theSixteenAndSixtyFourBitLengthsRead() throws {
        let small = [UInt8](repeating: 0xAB, count: 256)
        let large = [UInt8](repeating: 0xCD, count: 65536)
        let read = try frames([[0x82, 0x7E, 0x01, 0x00] + small + [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00] + large])
        #expect(read.count == 2)
        #expect(read.map(\.length) == [256, 65536])
        #expect(read.allSatisfy { $0.opcode == 0x2 && $0.fin })
        #expect(unmasked(read[0]) == small)
        #expect(unmasked(read[1]) == large)
    }

    @Test func everySplitOfEveryExampleReadsTheSame() throws {
        let stream = Self.unmaskedHello + Self.maskedHello + Self.fragmentedHello + Self.unmaskedPing + Self.maskedPong
            + [0x82, 0x7E, 0x00, 0x80] + [UInt8](repeating: 7, count: 128)
        let whole = try frames([stream])
        #expect(whole.count == 7)
        for cut in 1..<stream.count {
            let split = try frames([Array(stream[..<cut]), Array(stream[cut...])])
            #expect(split.map(\.firstByte) == whole.map(\.firstByte), "cut at \(cut)")
            #expect(split.map(unmasked) == whole.map(unmasked), "cut at \(cut)")
        }
        let byteByByte = try frames(stream.map { [$0] })
        #expect(byteByByte.map(unmasked) == whole.map(unmasked))
    }

    @Test func aFrameOverTheLimitIsRefusedFromItsHeaderAlone() {
        var reader = RFC6455FrameReader(maxFrameSize: 1000)
        reader.append(ByteBuffer(bytes: [0x82, 0xFE, 0x03, 0xE9]))  // 1001 bytes announced, none sent
        #expect(throws: NIOWebSocketError.invalidFrameLength) { try reader.next() }
        var qword = RFC6455FrameReader(maxFrameSize: 1000)
        qword.append(ByteBuffer(bytes: [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0]))  // the 64-bit length's top bit
        #expect(throws: NIOWebSocketError.invalidFrameLength) { try qword.next() }
        var exact = RFC6455FrameReader(maxFrameSize: 3)
        exact.append(ByteBuffer(bytes: [0x82, 0x03, 1, 2, 3]))
        #expect((try? exact.next())??.length == 3)
    }

    @Test func controlFramesMustBeWholeAndShort() {
        var fragmented = RFC6455FrameReader(maxFrameSize: 1 << 20)
        fragmented.append(ByteBuffer(bytes: [0x09, 0x00]))  // a ping without FIN
        #expect(throws: NIOWebSocketError.fragmentedControlFrame) { try fragmented.next() }
        var long = RFC6455FrameReader(maxFrameSize: 1 << 20)
        long.append(ByteBuffer(bytes: [0x89, 0x7E, 0x00, 0x7E]))  // a 126-byte ping
        #expect(throws: NIOWebSocketError.multiByteControlFrameLength) { try long.next() }
    }

    @Test func aStreamThatAlwaysEndsMidFrameKeepsBoundedStorage() throws {
        var reader = RFC6455FrameReader(maxFrameSize: 1 << 20)
        // 261-byte frames in 1000-byte reads: a read ends on a frame boundary only every 261,000
        // bytes, so without compaction the waiting bytes would keep growing far past the bound.
        let frame: [UInt8] = [0x82, 0x7E, 0x01, 0x01] + [UInt8](repeating: 1, count: 257)
        var stream: [UInt8] = []
        for _ in 0..<2_000 { stream += frame }
        var read = 0
        var index = 0
        var largest = 0
        while index < stream.count {
            let end = min(stream.count, index + 1000)
            reader.append(ByteBuffer(bytes: stream[index..<end]))
            index = end
            while let next = try reader.next() {
                #expect(next.length == 257)
                read += 1
            }
            largest = max(largest, reader.heldCapacity)
        }
        #expect(read == 2_000)
        #expect(largest <= 4 * RFC6455FrameReader.compactionThreshold, "storage held: \(largest)")
    }
}
