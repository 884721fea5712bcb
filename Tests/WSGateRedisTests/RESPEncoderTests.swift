import NIOCore
import WSGateRedis
import XCTest

final class RESPEncoderTests: XCTestCase {
    func testCommandIsAnArrayOfBulkStrings() {
        XCTAssertEqual(RESPEncoder.encode(command: ["GET", "key"]).text, "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")
        XCTAssertEqual(RESPEncoder.encode(command: ["PING"]).text, "*1\r\n$4\r\nPING\r\n")
        XCTAssertEqual(RESPEncoder.encode(command: []).text, "*0\r\n")
    }

    func testEveryArgumentKind() {
        let command: [RESPArgument] = [
            "SET", RESPArgument(ByteBuffer(string: "k\r\n")), RESPArgument([0x00, 0xFF]), 42, -7, 0, "", "é",
            RESPArgument(Int.min),
        ]
        var expected = ByteBuffer(string: "*9\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$2\r\n")
        expected.writeBytes([0x00, 0xFF])
        expected.writeString("\r\n$2\r\n42\r\n$2\r\n-7\r\n$1\r\n0\r\n$0\r\n\r\n$2\r\né\r\n$20\r\n-9223372036854775808\r\n")
        XCTAssertEqual(RESPEncoder.encode(command: command), expected)
        XCTAssertEqual(RESPEncoder.encodedLength(command: command), expected.readableBytes)
    }

    func testByteBufferArgumentSendsOnlyItsReadableBytes() {
        var buffer = ByteBuffer(string: "xxvalue")
        buffer.moveReaderIndex(forwardBy: 2)
        XCTAssertEqual(RESPEncoder.encode(command: ["SET", "k", RESPArgument(buffer)]).text, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n")
    }

    func testPipelineInOneBuffer() {
        let commands: [[RESPArgument]] = [["PING"], ["SET", "a", 1], ["GET", "a"]]
        let buffer = RESPEncoder.encode(commands: commands)
        XCTAssertEqual(
            buffer.text,
            "*1\r\n$4\r\nPING\r\n" + "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n" + "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
        )
        var appended = ByteBuffer(string: "prefix")
        RESPEncoder.encode(commands: commands, into: &appended)
        XCTAssertEqual(appended.text, "prefix" + buffer.text)
        XCTAssertEqual(RESPEncoder.encode(commands: []).readableBytes, 0)
    }

    /// A command parses back (as a server would read it) to its arguments.
    func testCommandParsesBack() throws {
        var parser = RESPParser()
        let values = try parser.feed(RESPEncoder.encode(command: ["HSET", "h", "f", 12345]))
        XCTAssertEqual(values, [.array(["HSET", "h", "f", "12345"].map { RESPVectors.bulk($0) })])
    }

    /// Encoding any value and parsing it back gives the value: the canonical form of every vector.
    func testValuesRoundTrip() throws {
        for (_, value) in RESPVectors.all {
            var parser = RESPParser()
            XCTAssertEqual(try parser.feed(RESPEncoder.encode(value)), [value], "for \(value)")
        }
        let attributed = RESPValue.attribute(RESPVectors.attributePairs, RESPVectors.attributeValue)
        var attach = RESPParser(configuration: .init(attributes: .attach))
        XCTAssertEqual(try attach.feed(RESPEncoder.encode(attributed)), [attributed])
    }

    func testValueWireForms() {
        XCTAssertEqual(RESPEncoder.encode(RESPValue.simpleString("OK")).text, "+OK\r\n")
        XCTAssertEqual(RESPEncoder.encode(RESPValue.integer(-12)).text, ":-12\r\n")
        XCTAssertEqual(RESPEncoder.encode(RESPValue.bulkString(nil)).text, "$-1\r\n")
        XCTAssertEqual(RESPEncoder.encode(RESPValue.array(nil)).text, "*-1\r\n")
        XCTAssertEqual(RESPEncoder.encode(RESPValue.double(.infinity)).text, ",inf\r\n")
        XCTAssertEqual(RESPEncoder.encode(RESPValue.double(-.infinity)).text, ",-inf\r\n")
        XCTAssertEqual(RESPEncoder.encode(RESPValue.double(.nan)).text, ",nan\r\n")
        XCTAssertEqual(RESPEncoder.encode(RESPValue.double(1.5)).text, ",1.5\r\n")
        XCTAssertEqual(
            RESPEncoder.encode(RESPValue.verbatimString(format: "txt", text: ByteBuffer(string: "Some string"))).text,
            "=15\r\ntxt:Some string\r\n"
        )
        XCTAssertEqual(
            RESPEncoder.encode(RESPValue.push([RESPVectors.bulk("message"), RESPVectors.bulk("news"), RESPVectors.bulk("hi")])).text,
            ">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
        )
    }
}
