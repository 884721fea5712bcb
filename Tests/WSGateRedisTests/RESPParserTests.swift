import NIOCore
import NIOEmbedded
import WSGateRedis
import XCTest

final class RESPParserTests: XCTestCase {
    private func parse(_ chunks: [String], configuration: RESPParser.Configuration = .init()) throws -> [RESPValue] {
        var parser = RESPParser(configuration: configuration)
        var values: [RESPValue] = []
        for chunk in chunks { values += try parser.feed(ByteBuffer(string: chunk)) }
        XCTAssertTrue(parser.isAtValueBoundary, "bytes left after \(chunks)")
        return values
    }

    private func parse(bytes: [UInt8], splits: [Int], configuration: RESPParser.Configuration = .init()) throws -> [RESPValue] {
        var parser = RESPParser(configuration: configuration)
        var values: [RESPValue] = []
        var start = 0
        for end in splits + [bytes.count] {
            values += try parser.feed(ByteBuffer(bytes: bytes[start..<end]))
            start = end
        }
        return values
    }

    private func assertError(
        _ input: String, _ expected: RESPProtocolError, configuration: RESPParser.Configuration = .init(),
        file: StaticString = #filePath, line: UInt = #line
    ) {
        var parser = RESPParser(configuration: configuration)
        do {
            let values = try parser.feed(ByteBuffer(string: input))
            XCTFail("\(input.debugDescription) parsed as \(values), expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, "for \(input.debugDescription)", file: file, line: line)
        }
        // The parser stays failed.
        XCTAssertThrowsError(try parser.feed(ByteBuffer(string: "+OK\r\n")), file: file, line: line) {
            XCTAssertEqual($0 as? RESPProtocolError, expected, file: file, line: line)
        }
    }

    // MARK: - Vectors

    func testRESP2Vectors() throws {
        for (bytes, expected) in RESPVectors.resp2 {
            XCTAssertEqual(try parse([bytes]), [expected], "for \(bytes.debugDescription)")
        }
    }

    func testRESP3Vectors() throws {
        for (bytes, expected) in RESPVectors.resp3 {
            XCTAssertEqual(try parse([bytes]), [expected], "for \(bytes.debugDescription)")
        }
    }

    func testAttributesAreSkippedByDefault() throws {
        XCTAssertEqual(try parse([RESPVectors.attributeBytes]), [RESPVectors.attributeValue])
    }

    func testAttributesAttached() throws {
        let attach = RESPParser.Configuration(attributes: .attach)
        XCTAssertEqual(
            try parse([RESPVectors.attributeBytes], configuration: attach),
            [.attribute(RESPVectors.attributePairs, RESPVectors.attributeValue)]
        )
        // An attribute before an element of an array belongs to that element.
        let inArray = "*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n"
        XCTAssertEqual(try parse([inArray]), [.array([.integer(1), .integer(2)])])
        XCTAssertEqual(
            try parse([inArray], configuration: attach),
            [.array([.integer(1), .attribute([RESPPair(key: .simpleString("ttl"), value: .integer(3600))], .integer(2))])]
        )
        // Attributes after attributes are one set of attributes; an empty one is allowed.
        XCTAssertEqual(
            try parse(["|1\r\n+a\r\n:1\r\n|0\r\n|1\r\n+b\r\n:2\r\n+OK\r\n"], configuration: attach),
            [.attribute([RESPPair(key: .simpleString("a"), value: .integer(1)), RESPPair(key: .simpleString("b"), value: .integer(2))], .simpleString("OK"))]
        )
        XCTAssertEqual(try parse(["|0\r\n|0\r\n+OK\r\n"]), [.simpleString("OK")])
        XCTAssertEqual(RESPValue.attribute([], .integer(1)).int, 1, "the helpers look through attributes")
    }

    func testManyValuesInOneRead() throws {
        let all = RESPVectors.all
        XCTAssertEqual(try parse([all.map(\.0).joined()]), all.map(\.1))
    }

    // MARK: - Read boundaries

    func testEveryVectorSplitAtEveryPosition() throws {
        for (text, expected) in RESPVectors.all {
            let bytes = Array(text.utf8)
            for split in 0...bytes.count {
                XCTAssertEqual(try parse(bytes: bytes, splits: [split]), [expected], "\(text.debugDescription) split at \(split)")
            }
        }
    }

    func testEveryVectorByteByByte() throws {
        for (text, expected) in RESPVectors.all {
            let bytes = Array(text.utf8)
            XCTAssertEqual(try parse(bytes: bytes, splits: Array(0..<bytes.count)), [expected], "\(text.debugDescription) byte by byte")
        }
    }

    func testAllVectorsInOneStreamSplitAtEveryPosition() throws {
        let all = RESPVectors.all
        let bytes = Array(all.map(\.0).joined().utf8)
        let expected = all.map(\.1)
        for split in 0...bytes.count {
            XCTAssertEqual(try parse(bytes: bytes, splits: [split]), expected, "split at \(split)")
        }
        XCTAssertEqual(try parse(bytes: bytes, splits: Array(0..<bytes.count)), expected, "byte by byte")
    }

    /// `next(from:)` on a buffer the caller keeps (as `RESPValueDecoder` does with NIO's cumulation buffer).
    func testCallerOwnedBufferByteByByte() throws {
        let all = RESPVectors.all
        var parser = RESPParser()
        var cumulation = ByteBuffer()
        var values: [RESPValue] = []
        for byte in all.map(\.0).joined().utf8 {
            cumulation.writeInteger(byte)
            while let value = try parser.next(from: &cumulation) { values.append(value) }
            if cumulation.readerIndex > 16 { cumulation.discardReadBytes() }
        }
        XCTAssertEqual(values, all.map(\.1))
        XCTAssertEqual(cumulation.readableBytes, 0)
    }

    func testPartialValueIsHeldUntilComplete() throws {
        var parser = RESPParser()
        XCTAssertEqual(try parser.feed(ByteBuffer(string: "*2\r\n$5\r\nhel")), [])
        XCTAssertFalse(parser.isAtValueBoundary)
        XCTAssertEqual(try parser.feed(ByteBuffer(string: "lo\r\n:7\r\n+O")), [.array([RESPVectors.bulk("hello"), .integer(7)])])
        XCTAssertEqual(try parser.feed(ByteBuffer(string: "K\r\n")), [.simpleString("OK")])
        XCTAssertTrue(parser.isAtValueBoundary)
    }

    /// Parses a bulk string of `size` bytes (and a value after it) fed in 1000-byte reads; the time it took.
    private func timeBulkInSmallReads(size: Int) throws -> Duration {
        var wire = ByteBuffer(string: "$\(size)\r\n")
        wire.writeRepeatingByte(UInt8(ascii: "x"), count: size - 1)
        wire.writeString("y\r\n:1\r\n")
        var parser = RESPParser()
        var values: [RESPValue] = []
        let elapsed = try ContinuousClock().measure {
            while wire.readableBytes > 0 {
                let piece = wire.readSlice(length: min(1000, wire.readableBytes))!
                values += try parser.feed(piece)
            }
        }
        XCTAssertEqual(values.count, 2)
        guard case .bulkString(let payload?) = values.first else {
            XCTFail("not a bulk string: \(values)")
            return elapsed
        }
        XCTAssertEqual(payload.readableBytes, size)
        XCTAssertEqual(payload.getInteger(at: payload.readerIndex + size - 1, as: UInt8.self), UInt8(ascii: "y"))
        XCTAssertEqual(values.last, .integer(1))
        return elapsed
    }

    /// A 10 MiB bulk string in 1000-byte reads takes linear time: about ten times 1 MiB's (a parser
    /// that rescans or recopies the buffered bytes on each read takes a hundred times, ~50 GB of copies).
    func testLargeBulkStringInSmallReadsIsLinear() throws {
        let oneMiB = try (0..<3).map { _ in try timeBulkInSmallReads(size: 1024 * 1024) }.min()!
        let tenMiB = try timeBulkInSmallReads(size: 10 * 1024 * 1024)
        XCTAssertLessThan(tenMiB, Duration.seconds(2), "10 MiB in 1000-byte reads took \(tenMiB)")
        XCTAssertLessThan(tenMiB, max(oneMiB, .milliseconds(5)) * 30, "10 MiB: \(tenMiB), 1 MiB: \(oneMiB)")
    }

    /// The same through NIO's `ByteToMessageHandler` cumulation buffer.
    func testLargeBulkStringThroughTheDecoderIsLinear() throws {
        let size = 10 * 1024 * 1024
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RESPValueDecoder()))
        var wire = ByteBuffer(string: "$\(size)\r\n")
        wire.writeRepeatingByte(UInt8(ascii: "z"), count: size)
        wire.writeString("\r\n")
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            while wire.readableBytes > 0 {
                try channel.writeInbound(wire.readSlice(length: min(1000, wire.readableBytes))!)
            }
        }
        let value = try channel.readInbound(as: RESPValue.self)
        XCTAssertEqual(value?.bytes?.readableBytes, size)
        XCTAssertNil(try channel.readInbound(as: RESPValue.self))
        XCTAssertLessThan(elapsed, Duration.seconds(3), "10 MiB in 1000-byte reads took \(elapsed)")
        _ = try channel.finish()
    }

    // MARK: - Malformed input

    func testMalformedLines() {
        assertError("?abc\r\n", .unknownType(UInt8(ascii: "?")))
        assertError("hello\r\n", .unknownType(UInt8(ascii: "h")))
        assertError("+OK\r\n\r\n", .unknownType(0x0D))
        assertError("+OK\n", .invalidLineTerminator)
        assertError("+OK\rX\n", .invalidLineTerminator)
        assertError(":1\n\r", .invalidLineTerminator)
        assertError("$3\nabc\r\n", .invalidLineTerminator)
    }

    func testMalformedNumbers() {
        assertError(":12a\r\n", .invalidInteger("12a"))
        assertError(":\r\n", .invalidInteger(""))
        assertError(":-\r\n", .invalidInteger("-"))
        assertError(": 1\r\n", .invalidInteger(" 1"))
        assertError(":1.5\r\n", .invalidInteger("1.5"))
        assertError(":9223372036854775808\r\n", .invalidInteger("9223372036854775808"))
        assertError(":-9223372036854775809\r\n", .invalidInteger("-9223372036854775809"))
        assertError("$abc\r\n", .invalidLength("abc"))
        assertError("$\r\n", .invalidLength(""))
        assertError("$+3\r\nabc\r\n", .invalidLength("+3"))
        assertError("*1x\r\n", .invalidLength("1x"))
        assertError(",abc\r\n", .invalidDouble("abc"))
        assertError(",\r\n", .invalidDouble(""))
        assertError(",1.2.3\r\n", .invalidDouble("1.2.3"))
        assertError(",infinity\r\n", .invalidDouble("infinity"))
        assertError("(12a\r\n", .invalidBigNumber("12a"))
        assertError("(\r\n", .invalidBigNumber(""))
        assertError("#x\r\n", .invalidBoolean("x"))
        assertError("#tt\r\n", .invalidBoolean("tt"))
        assertError("#\r\n", .invalidBoolean(""))
        assertError("_x\r\n", .invalidNull)
    }

    func testNegativeLengths() {
        assertError("$-2\r\n", .negativeLength(-2))
        assertError("*-5\r\n", .negativeLength(-5))
        assertError("%-1\r\n", .negativeLength(-1))
        assertError("~-1\r\n", .negativeLength(-1))
        assertError(">-1\r\n", .negativeLength(-1))
        assertError("|-1\r\n", .negativeLength(-1))
        assertError("!-1\r\n", .negativeLength(-1))
        assertError("=-1\r\n", .negativeLength(-1))
    }

    func testMalformedBulkValues() {
        assertError("$3\r\nabcXY", .missingBulkTerminator)
        assertError("$3\r\nabcd\r\n", .missingBulkTerminator)
        assertError("=3\r\ntxt\r\n", .invalidVerbatimString)
        assertError("=5\r\ntxt;a\r\n", .invalidVerbatimString)
        assertError("*2\r\n$1\r\na\r\n$1\r\nbc\r\n", .missingBulkTerminator)
    }

    /// The error also comes when the bad byte arrives in a later read.
    func testMalformedInputAcrossReads() {
        var parser = RESPParser()
        XCTAssertEqual(try parser.feed(ByteBuffer(string: "*2\r\n:1\r\n$3\r\nab")), [])
        XCTAssertThrowsError(try parser.feed(ByteBuffer(string: "cde"))) {
            XCTAssertEqual($0 as? RESPProtocolError, .missingBulkTerminator)
        }
        var lines = RESPParser()
        XCTAssertEqual(try lines.feed(ByteBuffer(string: "+OK\r")), [])
        XCTAssertThrowsError(try lines.feed(ByteBuffer(string: "+"))) {
            XCTAssertEqual($0 as? RESPProtocolError, .invalidLineTerminator)
        }
    }

    // MARK: - Bounds

    func testBulkLengthBound() throws {
        assertError("$536870913\r\n", .bulkTooLong(length: 536_870_913, maximum: 536_870_912))
        assertError("$99999999999\r\n", .bulkTooLong(length: 99_999_999_999, maximum: 536_870_912))
        let small = RESPParser.Configuration(maximumBulkLength: 10)
        XCTAssertEqual(try parse(["$10\r\n0123456789\r\n"], configuration: small), [RESPVectors.bulk("0123456789")])
        assertError("$11\r\n", .bulkTooLong(length: 11, maximum: 10), configuration: small)
        assertError("!11\r\n", .bulkTooLong(length: 11, maximum: 10), configuration: small)
        assertError("=11\r\n", .bulkTooLong(length: 11, maximum: 10), configuration: small)
    }

    func testNestingBound() throws {
        let nested64 = String(repeating: "*1\r\n", count: 64) + ":1\r\n"
        let values = try parse([nested64])
        var depth = 0
        var value = values[0]
        while case .array(let elements?) = value {
            depth += 1
            value = elements[0]
        }
        XCTAssertEqual(depth, 64)
        assertError(String(repeating: "*1\r\n", count: 65), .nestingTooDeep(maximum: 64))
        let shallow = RESPParser.Configuration(maximumDepth: 3)
        XCTAssertEqual(try parse(["*1\r\n%1\r\n~0\r\n:1\r\n"], configuration: shallow).count, 1)
        assertError("*1\r\n%1\r\n~1\r\n>0\r\n", .nestingTooDeep(maximum: 3), configuration: shallow)
        assertError("*1\r\n*1\r\n*1\r\n|1\r\n", .nestingTooDeep(maximum: 3), configuration: shallow)
        // A million nested arrays (a stack overflow for a recursive parser) stop at the bound.
        var parser = RESPParser()
        XCTAssertThrowsError(try parser.feed(ByteBuffer(string: String(repeating: "*1\r\n", count: 1_000_000))))
    }

    func testAggregateLengthBound() throws {
        let small = RESPParser.Configuration(maximumAggregateLength: 10)
        assertError("*11\r\n", .aggregateTooLong(count: 11, maximum: 10), configuration: small)
        assertError("%11\r\n", .aggregateTooLong(count: 11, maximum: 10), configuration: small)
        assertError("*9223372036854775807\r\n", .aggregateTooLong(count: .max, maximum: Int(UInt32.max)))
        // A huge declared count reserves nothing up front: it just waits for its elements.
        var parser = RESPParser()
        XCTAssertEqual(try parser.feed(ByteBuffer(string: "*4000000000\r\n:1\r\n")), [])
    }

    /// Bounds at their largest values do not overflow.
    func testUnboundedConfiguration() throws {
        let unbounded = RESPParser.Configuration(
            maximumBulkLength: .max, maximumDepth: .max, maximumLineLength: .max, maximumAggregateLength: .max)
        var parser = RESPParser(configuration: unbounded)
        XCTAssertEqual(try parser.feed(ByteBuffer(string: "$9223372036854775807\r\nabc")), [])
        var lines = RESPParser(configuration: unbounded)
        XCTAssertEqual(try lines.feed(ByteBuffer(string: "+" + String(repeating: "a", count: 100_000) + "\r\n")).count, 1)
        var aggregates = RESPParser(configuration: unbounded)
        XCTAssertThrowsError(try aggregates.feed(ByteBuffer(string: "%9223372036854775807\r\n"))) {
            XCTAssertEqual($0 as? RESPProtocolError, .aggregateTooLong(count: .max, maximum: .max / 2))
        }
    }

    func testLineLengthBound() throws {
        let long = String(repeating: "a", count: 64 * 1024)
        XCTAssertEqual(try parse(["+" + long + "\r\n"]), [.simpleString(long)])
        assertError("+" + long + "a\r\n", .lineTooLong(maximum: 64 * 1024))
        assertError("+" + long + "aa", .lineTooLong(maximum: 64 * 1024))
        // Without a CRLF, the bound is hit while the line is still arriving.
        var parser = RESPParser()
        XCTAssertEqual(try parser.feed(ByteBuffer(string: "-" + String(repeating: "e", count: 60_000))), [])
        XCTAssertThrowsError(try parser.feed(ByteBuffer(string: String(repeating: "e", count: 10_000)))) {
            XCTAssertEqual($0 as? RESPProtocolError, .lineTooLong(maximum: 64 * 1024))
        }
    }

    /// Random bytes (from a RESP-heavy alphabet) in random reads: values or a typed error, never a crash.
    func testRandomInputNeverCrashes() {
        var random = SplitMix64(seed: 0x5EED)
        let alphabet = Array("+-:$*_#,(!=%~|>\r\n0123456789-1tfnaxi.e:".utf8)
        var failures = 0
        for _ in 0..<3000 {
            let length = Int(random.next() % 64)
            let bytes = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            var parser = RESPParser(configuration: .init(maximumBulkLength: 1 << 20, maximumDepth: 8))
            var start = 0
            do {
                while start < bytes.count {
                    let end = min(bytes.count, start + 1 + Int(random.next() % 8))
                    _ = try parser.feed(ByteBuffer(bytes: bytes[start..<end]))
                    start = end
                }
            } catch {
                failures += 1
            }
        }
        XCTAssertGreaterThan(failures, 0)
    }
}
