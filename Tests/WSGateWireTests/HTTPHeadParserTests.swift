import NIOCore
import Testing
import WSGateWire

/// A reference wrapper, so that `#expect` can call the mutating `next` on it.
private final class ParserBox {
    var parser: HTTPHeadParser
    init(maxHeadSize: Int = HTTPHeadParser.defaultMaxHeadSize) { self.parser = HTTPHeadParser(maxHeadSize: maxHeadSize) }
    func next(from buffer: inout ByteBuffer) throws -> HTTPRequestHead? { try self.parser.next(from: &buffer) }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct HTTPHeadParserTests {
    static let request = "GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n"

    @Test func aCompleteHeadIsParsedIntoMethodTargetVersionAndHeaders() throws {
        let parser = ParserBox()
        var buffer = ByteBuffer(string: Self.request)
        let head = try #require(try parser.next(from: &buffer))
        #expect(head.method == "GET")
        #expect(head.target == "/chat?x=1")
        #expect(head.path == "/chat")
        #expect(head.minorVersion == 1)
        #expect(head.headers.map(\.name) == ["Host", "Upgrade", "Connection"])
        #expect(head.first("host") == "example.com")
        #expect(head.contains("connection", token: "upgrade"))
        #expect(buffer.readableBytes == 0)
    }

    @Test func everySplitOfTheInputGivesTheSameHead() throws {
        let bytes = Array(Self.request.utf8)
        let whole = ParserBox()
        var wholeBuffer = ByteBuffer(bytes: bytes)
        let expected = try #require(try whole.next(from: &wholeBuffer))
        for split in 0..<bytes.count {
            let parser = ParserBox()
            var buffer = ByteBuffer(bytes: bytes[0..<split])
            #expect(try parser.next(from: &buffer) == nil, "split at \(split) gave a head early")
            buffer.writeBytes(bytes[split...])
            let head = try parser.next(from: &buffer)
            #expect(head == expected, "split at \(split)")
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func byteByByteFeedingFindsTheEndOfTheHead() throws {
        let parser = ParserBox()
        var buffer = ByteBuffer()
        var result: HTTPRequestHead?
        for byte in Self.request.utf8 {
            #expect(result == nil)
            buffer.writeInteger(byte)
            result = try parser.next(from: &buffer)
        }
        #expect(result?.target == "/chat?x=1")
    }

    @Test func bytesAfterTheHeadAreLeftInTheBuffer() throws {
        let parser = ParserBox()
        var buffer = ByteBuffer(string: Self.request)
        let trailing: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x00, 0xFF, 0x0D, 0x0A]
        buffer.writeBytes(trailing)
        _ = try #require(try parser.next(from: &buffer))
        #expect(buffer.readBytes(length: buffer.readableBytes) == trailing)
    }

    @Test func aHeadWithoutEndPastSixteenKiBIsHeadTooLarge() throws {
        let parser = ParserBox()
        var buffer = ByteBuffer(string: "GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 16 * 1024) + "\r\n")
        #expect(throws: WireError.headTooLarge(limit: 16 * 1024)) { try parser.next(from: &buffer) }
    }

    @Test func aCompleteHeadLargerThanTheLimitIsHeadTooLarge() throws {
        let parser = ParserBox()
        var buffer = ByteBuffer(string: "GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 16 * 1024) + "\r\n\r\n")
        #expect(throws: WireError.headTooLarge(limit: 16 * 1024)) { try parser.next(from: &buffer) }
    }

    @Test func aHeadArrivingInPiecesIsRefusedOnceItPassesTheLimit() throws {
        let parser = ParserBox(maxHeadSize: 100)
        var buffer = ByteBuffer(string: "GET / HTTP/1.1\r\nX-A: " + String(repeating: "b", count: 60))
        #expect(try parser.next(from: &buffer) == nil)
        buffer.writeString(String(repeating: "c", count: 60))
        #expect(throws: WireError.headTooLarge(limit: 100)) { try parser.next(from: &buffer) }
    }

    @Test func aHeadJustUnderTheLimitIsAccepted() throws {
        let prefix = "GET / HTTP/1.1\r\nX: "
        let filler = String(repeating: "z", count: 16 * 1024 - prefix.utf8.count - 4)
        var buffer = ByteBuffer(string: prefix + filler + "\r\n\r\n")
        #expect(buffer.readableBytes == 16 * 1024)
        let parser = ParserBox()
        #expect(try parser.next(from: &buffer)?.first("X") == filler)
    }

    @Test(arguments: [
        "GET /\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 extra\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET / FTP/1.1\r\n\r\n",
        "\r\n\r\n",
        "GET /a\u{7F}b HTTP/1.1\r\n\r\n",
    ])
    func aMalformedRequestLineIsRefused(_ text: String) throws {
        let parser = ParserBox()
        var buffer = ByteBuffer(string: text)
        #expect(throws: WireError.malformedRequestLine) { try parser.next(from: &buffer) }
    }

    @Test func aNulByteInTheTargetIsAMalformedRequestLine() throws {
        let parser = ParserBox()
        var buffer = ByteBuffer(bytes: Array("GET /a".utf8) + [0x00] + Array("b HTTP/1.1\r\n\r\n".utf8))
        #expect(throws: WireError.malformedRequestLine) { try parser.next(from: &buffer) }
    }

    @Test func anHTTPVersionOtherThanOneIsUnsupported() throws {
        let parser = ParserBox()
        var buffer = ByteBuffer(string: "GET / HTTP/2.0\r\n\r\n")
        #expect(throws: WireError.unsupportedHTTPVersion) { try parser.next(from: &buffer) }
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nNoColonHere\r\n\r\n", 1),
        ("GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n", 2),
        ("GET / HTTP/1.1\r\nHost: x\r\n folded continuation\r\n\r\n", 2),
        ("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 1),
        ("GET / HTTP/1.1\r\nX: a\u{01}b\r\n\r\n", 1),
    ])
    func aMalformedHeaderLineIsRefusedWithItsNumber(_ text: String, _ line: Int) throws {
        let parser = ParserBox()
        var buffer = ByteBuffer(string: text)
        #expect(throws: WireError.malformedHeader(line: line)) { try parser.next(from: &buffer) }
    }

    @Test func bareLineFeedsAreAccepted() throws {
        let parser = ParserBox()
        var buffer = ByteBuffer(string: "GET /x HTTP/1.0\nHost: a\nX-Y:  spaced value \t\n\nrest")
        let head = try #require(try parser.next(from: &buffer))
        #expect(head.minorVersion == 0)
        #expect(head.first("x-y") == "spaced value")
        #expect(head.first("Host") == "a")
        #expect(buffer.readString(length: buffer.readableBytes) == "rest")
    }

    @Test func mixedLineEndingsEndTheHeadAtTheFirstEmptyLine() throws {
        let parser = ParserBox()
        var buffer = ByteBuffer(string: "GET / HTTP/1.1\r\nA: 1\n\r\nB")
        let head = try #require(try parser.next(from: &buffer))
        #expect(head.headers.count == 1)
        #expect(buffer.readString(length: buffer.readableBytes) == "B")
    }

    @Test func anIncompleteHeadNeedsMoreBytesAndConsumesNothing() throws {
        let parser = ParserBox()
        var buffer = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n")
        #expect(try parser.next(from: &buffer) == nil)
        #expect(buffer.readableBytes == 25)
    }
}
