import NIOCore
import WSGateAuth
import XCTest

final class ProxyProtocolTests: XCTestCase {
    static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    /// Feeds `bytes` cut at `splits`; the header and the bytes after it (the client's data).
    private func parse(_ bytes: [UInt8], splits: [Int] = []) throws(ProxyProtocolError) -> (ProxyHeader, [UInt8])? {
        var parser = ProxyProtocolParser()
        var start = 0
        for end in splits + [bytes.count] where end >= start {
            let chunk = Array(bytes[start..<end])
            start = end
            switch try parser.feed(chunk) {
            case .needMore:
                continue
            case .header(let header, let consumed):
                return (header, Array(chunk[consumed...]) + Array(bytes[end...]))
            }
        }
        return nil
    }

    /// Every split point (one cut, and byte by byte) gives the same header and the same remainder.
    private func assertEverySplit(
        _ bytes: [UInt8], _ expected: ProxyHeader, remainder: [UInt8] = [], file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let whole = try XCTUnwrap(try parse(bytes), "needMore for the whole input", file: file, line: line)
        XCTAssertEqual(whole.0, expected, file: file, line: line)
        XCTAssertEqual(whole.1, remainder, file: file, line: line)
        for cut in 0...bytes.count {
            let result = try XCTUnwrap(try parse(bytes, splits: [cut]), "split at \(cut)", file: file, line: line)
            XCTAssertEqual(result.0, expected, "split at \(cut)", file: file, line: line)
            XCTAssertEqual(result.1, remainder, "split at \(cut)", file: file, line: line)
        }
        let bytewise = try XCTUnwrap(try parse(bytes, splits: Array(0..<bytes.count)), file: file, line: line)
        XCTAssertEqual(bytewise.0, expected, file: file, line: line)
        XCTAssertEqual(bytewise.1, remainder, file: file, line: line)
    }

    private func assertRefused(
        _ bytes: [UInt8], _ expected: ProxyProtocolError, parser: ProxyProtocolParser = ProxyProtocolParser(),
        file: StaticString = #filePath, line: UInt = #line
    ) {
        // Whole, and byte by byte: the error comes at the latest when the input ends, never a header.
        for bytewise in [false, true] {
            var parser = parser
            var outcome: String = "needMore"
            do {
                if bytewise {
                    for byte in bytes {
                        if case .header(let header, _) = try parser.feed([byte]) { outcome = "\(header)"; break }
                    }
                } else if case .header(let header, _) = try parser.feed(bytes) {
                    outcome = "\(header)"
                }
                XCTFail("\(outcome), expected \(expected)", file: file, line: line)
            } catch {
                XCTAssertEqual(error, expected, file: file, line: line)
                XCTAssertThrowsError(try parser.feed([0x41]), file: file, line: line)
            }
        }
    }

    private func tcp4(_ source: String, _ sourcePort: UInt16, _ destination: String, _ destinationPort: UInt16, version: Int) -> ProxyHeader {
        ProxyHeader(
            source: ProxyEndpoint(address: source, port: sourcePort),
            destination: ProxyEndpoint(address: destination, port: destinationPort), family: .tcp4, isLocal: false, version: version)
    }

    private func tcp6(_ source: String, _ sourcePort: UInt16, _ destination: String, _ destinationPort: UInt16, version: Int) -> ProxyHeader {
        ProxyHeader(
            source: ProxyEndpoint(address: source, port: sourcePort),
            destination: ProxyEndpoint(address: destination, port: destinationPort), family: .tcp6, isLocal: false, version: version)
    }

    // MARK: v1

    func testV1TCP4EverySplit() throws {
        try assertEverySplit(
            Array("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\nGET / HTTP/1.1\r\n".utf8), tcp4("1.2.3.4", 1111, "5.6.7.8", 2222, version: 1),
            remainder: Array("GET / HTTP/1.1\r\n".utf8))
        try assertEverySplit(
            Array("PROXY TCP4 255.255.255.255 0.0.0.0 65535 0\r\n".utf8), tcp4("255.255.255.255", 65535, "0.0.0.0", 0, version: 1))
    }

    func testV1TCP6EverySplit() throws {
        try assertEverySplit(
            Array("PROXY TCP6 2001:DB8::1 ::1 4711 443\r\n\u{16}".utf8), tcp6("2001:db8::1", 4711, "::1", 443, version: 1), remainder: [0x16])
        // The longest possible line: 107 bytes.
        let longest = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"
        XCTAssertEqual(longest.utf8.count, 104)
        try assertEverySplit(
            Array(longest.utf8),
            tcp6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, version: 1))
    }

    func testV1Unknown() throws {
        let unknown = ProxyHeader(source: nil, destination: nil, family: .unknown, isLocal: false, version: 1)
        try assertEverySplit(Array("PROXY UNKNOWN\r\nX".utf8), unknown, remainder: Array("X".utf8))
        // Anything after UNKNOWN up to the CRLF is ignored (the spec).
        try assertEverySplit(Array("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n".utf8), unknown)
    }

    func testV1Malformed() {
        assertRefused(Array("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\n".utf8), .v1Malformed("LF without CR"))
        assertRefused(Array("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\rX".utf8), .v1Malformed("CR without LF"))
        assertRefused(Array("PROXY TCP4  1.2.3.4 5.6.7.8 1111 2222\r\n".utf8), .v1Malformed("field count"))
        assertRefused(Array("PROXY TCP4 1.2.3.4 5.6.7.8 1111\r\n".utf8), .v1Malformed("field count"))
        assertRefused(Array("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222 \r\n".utf8), .v1Malformed("field count"))
        assertRefused(Array("PROXY TCP5 1.2.3.4 5.6.7.8 1111 2222\r\n".utf8), .v1Malformed("protocol"))
        assertRefused(Array("PROXY tcp4 1.2.3.4 5.6.7.8 1111 2222\r\n".utf8), .v1Malformed("protocol"))
        assertRefused(Array("PROXY UNKNOWNX\r\n".utf8), .v1Malformed("protocol"))
        assertRefused(Array("PROXY TCP4 1.2.3.256 5.6.7.8 1111 2222\r\n".utf8), .v1Malformed("source address"))
        assertRefused(Array("PROXY TCP4 01.2.3.4 5.6.7.8 1111 2222\r\n".utf8), .v1Malformed("source address"))
        assertRefused(Array("PROXY TCP4 ::1 5.6.7.8 1111 2222\r\n".utf8), .v1Malformed("source address"))
        assertRefused(Array("PROXY TCP6 1.2.3.4 ::1 1111 2222\r\n".utf8), .v1Malformed("source address"))
        assertRefused(Array("PROXY TCP4 1.2.3.4 5.6.7 1111 2222\r\n".utf8), .v1Malformed("destination address"))
        assertRefused(Array("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2222\r\n".utf8), .v1Malformed("source port"))
        assertRefused(Array("PROXY TCP4 1.2.3.4 5.6.7.8 01111 2222\r\n".utf8), .v1Malformed("source port"))
        assertRefused(Array("PROXY TCP4 1.2.3.4 5.6.7.8 1111 -1\r\n".utf8), .v1Malformed("destination port"))
        assertRefused(Array("PROXY TCP4 1.2.3.4 5.6.7.8 1111 +22\r\n".utf8), .v1Malformed("destination port"))
        assertRefused(Array("PROXY\r\n".utf8), .notProxyProtocol)
        assertRefused(Array("proxy TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n".utf8), .notProxyProtocol)
    }

    func testV1TooLong() {
        // 107 bytes without a line end is refused as soon as the 107th arrives.
        let line = "PROXY UNKNOWN " + String(repeating: "x", count: 93)
        XCTAssertEqual(line.utf8.count, 107)
        assertRefused(Array(line.utf8), .v1TooLong)
        assertRefused(Array((line + "\r\n").utf8), .v1TooLong)
        // 105 + CRLF = 107 is still fine.
        let fits = "PROXY UNKNOWN " + String(repeating: "x", count: 91) + "\r\n"
        XCTAssertEqual(fits.utf8.count, 107)
        var parser = ProxyProtocolParser()
        XCTAssertEqual(try parser.feed(Array(fits.utf8)), .header(ProxyHeader(source: nil, destination: nil, family: .unknown, isLocal: false, version: 1), consumed: 107))
    }

    func testNotProxyProtocolIsRefusedAtTheFirstByteThatTellsIt() {
        var http = ProxyProtocolParser()
        XCTAssertThrowsError(try http.feed(Array("G".utf8))) { XCTAssertEqual($0 as? ProxyProtocolError, .notProxyProtocol) }
        var tls = ProxyProtocolParser()
        XCTAssertThrowsError(try tls.feed([0x16, 0x03, 0x01])) { XCTAssertEqual($0 as? ProxyProtocolError, .notProxyProtocol) }
        var almost = ProxyProtocolParser()
        XCTAssertEqual(try almost.feed(Array("PROX".utf8)), .needMore)
        XCTAssertThrowsError(try almost.feed(Array("Y-".utf8))) { XCTAssertEqual($0 as? ProxyProtocolError, .notProxyProtocol) }
        var empty = ProxyProtocolParser()
        XCTAssertEqual(try empty.feed([UInt8]()), .needMore)
    }

    // MARK: v2

    func testV2TCP4EverySplit() throws {
        // HAProxy's own send-proxy-v2 output, captured: 172.19.0.1:42578 -> 172.19.0.3:80, then a request.
        let bytes: [UInt8] = Self.signature + [0x21, 0x11, 0x00, 0x0C, 0xAC, 0x13, 0x00, 0x01, 0xAC, 0x13, 0x00, 0x03, 0xA6, 0x52, 0x00, 0x50]
            + Array("GET / HTTP/1.1\r\n".utf8)
        try assertEverySplit(bytes, tcp4("172.19.0.1", 42578, "172.19.0.3", 80, version: 2), remainder: Array("GET / HTTP/1.1\r\n".utf8))
    }

    func testV2TCP6EverySplit() throws {
        var bytes = Self.signature + [0x21, 0x21, 0x00, 0x24]
        bytes += [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [0x01]  // 2001:db8::1
        bytes += [UInt8](repeating: 0, count: 15) + [0x01]  // ::1
        bytes += [0x12, 0x67, 0x01, 0xBB]  // 4711, 443
        try assertEverySplit(bytes, tcp6("2001:db8::1", 4711, "::1", 443, version: 2))
    }

    func testV2TLVsAreSkipped() throws {
        var bytes = Self.signature + [0x21, 0x11, 0x00, 0x0C + 7 + 5]
        bytes += [10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0x00, 0x50]
        bytes += [0x01, 0x00, 0x04] + Array("h2c!".utf8)  // PP2_TYPE_ALPN
        bytes += [0x04, 0x00, 0x02, 0xAA, 0xBB]  // PP2_TYPE_NOOP
        try assertEverySplit(bytes + [0xEE], tcp4("10.0.0.1", 12345, "10.0.0.2", 80, version: 2), remainder: [0xEE])
    }

    func testV2LocalAndUnspec() throws {
        let local = ProxyHeader(source: nil, destination: nil, family: .unknown, isLocal: true, version: 2)
        try assertEverySplit(Self.signature + [0x20, 0x00, 0x00, 0x00, 0x99], local, remainder: [0x99])
        // LOCAL with an address block: the block is skipped, the addresses ignored.
        try assertEverySplit(Self.signature + [0x20, 0x11, 0x00, 0x0C] + [UInt8](repeating: 7, count: 12), local)
        // PROXY over AF_UNSPEC, UDP and UNIX: nothing to believe.
        let unknown = ProxyHeader(source: nil, destination: nil, family: .unknown, isLocal: false, version: 2)
        try assertEverySplit(Self.signature + [0x21, 0x00, 0x00, 0x00], unknown)
        try assertEverySplit(Self.signature + [0x21, 0x12, 0x00, 0x0C] + [UInt8](repeating: 1, count: 12), unknown)
        try assertEverySplit(Self.signature + [0x21, 0x31, 0x00, 0xD8] + [UInt8](repeating: 0, count: 216), unknown)
    }

    func testV2Malformed() {
        assertRefused(Self.signature + [0x11, 0x11, 0x00, 0x0C], .v2UnsupportedVersion(1))
        assertRefused(Self.signature + [0x31, 0x11, 0x00, 0x0C], .v2UnsupportedVersion(3))
        assertRefused(Self.signature + [0x22, 0x11, 0x00, 0x0C], .v2UnsupportedCommand(2))
        assertRefused(Self.signature + [0x21, 0x41, 0x00, 0x0C], .v2UnsupportedFamily(0x41))
        assertRefused(Self.signature + [0x21, 0x13, 0x00, 0x0C], .v2UnsupportedFamily(0x13))
        assertRefused(Self.signature + [0x21, 0x11, 0x00, 0x0B] + [UInt8](repeating: 0, count: 11), .v2LengthTooShort(11))
        assertRefused(Self.signature + [0x21, 0x21, 0x00, 0x0C] + [UInt8](repeating: 0, count: 12), .v2LengthTooShort(12))
        assertRefused(Self.signature + [0x21, 0x11, 0xFF, 0xFF], .v2TooLong(65535))
        assertRefused(Self.signature + [0x21, 0x11, 0x01, 0x00], .v2TooLong(256), parser: ProxyProtocolParser(maximumV2Length: 255))
        var badSignature = Self.signature
        badSignature[7] = 0x52
        assertRefused(badSignature + [0x21, 0x11, 0x00, 0x0C], .notProxyProtocol)
        assertRefused([0x0D, 0x0A, 0x0D, 0x0B], .notProxyProtocol)
    }

    func testTruncatedInputNeedsMore() throws {
        let v2 = try ProxyProtocolEncoder.v2(source: ProxyEndpoint(address: "1.2.3.4", port: 1), destination: ProxyEndpoint(address: "5.6.7.8", port: 2))
        let v1 = Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n".utf8)
        for bytes in [v1, v2] {
            for end in 0..<bytes.count {
                XCTAssertNil(try parse(Array(bytes[0..<end])), "a prefix of \(end) bytes is not a header")
            }
        }
    }

    func testByteBufferFeedMovesTheReaderIndex() throws {
        var parser = ProxyProtocolParser()
        var first = ByteBuffer(string: "PROXY TCP4 1.2.")
        XCTAssertEqual(try parser.feed(&first), .needMore)
        XCTAssertEqual(first.readableBytes, 0)
        var second = ByteBuffer(string: "3.4 5.6.7.8 1 2\r\nhello")
        guard case .header(let header, let consumed) = try parser.feed(&second) else { return XCTFail("no header") }
        XCTAssertEqual(header.source, ProxyEndpoint(address: "1.2.3.4", port: 1))
        XCTAssertEqual(consumed, 17)
        XCTAssertEqual(second.readString(length: second.readableBytes), "hello")
        XCTAssertThrowsError(try parser.feed(Array("x".utf8))) { XCTAssertEqual($0 as? ProxyProtocolError, .alreadyFinished) }
    }

    // MARK: encoder

    func testEncoderV1Vectors() throws {
        XCTAssertEqual(
            try ProxyProtocolEncoder.v1(source: .init(address: "1.2.3.4", port: 1111), destination: .init(address: "5.6.7.8", port: 2222)),
            Array("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n".utf8))
        XCTAssertEqual(
            try ProxyProtocolEncoder.v1(source: .init(address: "2001:DB8:0:0::1", port: 4711), destination: .init(address: "::1", port: 443)),
            Array("PROXY TCP6 2001:db8::1 ::1 4711 443\r\n".utf8))
        // A dual-stack listener's IPv4-mapped peer is written as TCP4.
        XCTAssertEqual(
            try ProxyProtocolEncoder.v1(source: .init(address: "::ffff:10.0.0.1", port: 1), destination: .init(address: "10.0.0.2", port: 2)),
            Array("PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n".utf8))
        XCTAssertEqual(ProxyProtocolEncoder.v1Unknown(), Array("PROXY UNKNOWN\r\n".utf8))
        XCTAssertThrowsError(try ProxyProtocolEncoder.v1(source: .init(address: "1.2.3.4", port: 1), destination: .init(address: "::1", port: 2))) {
            XCTAssertEqual($0 as? ProxyProtocolEncodingError, .mixedFamilies)
        }
        XCTAssertThrowsError(try ProxyProtocolEncoder.v1(source: .init(address: "host", port: 1), destination: .init(address: "::1", port: 2))) {
            XCTAssertEqual($0 as? ProxyProtocolEncodingError, .invalidAddress("host"))
        }
    }

    func testEncoderV2Vectors() throws {
        XCTAssertEqual(
            try ProxyProtocolEncoder.v2(source: .init(address: "172.19.0.1", port: 42578), destination: .init(address: "172.19.0.3", port: 80)),
            [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C,
             0xAC, 0x13, 0x00, 0x01, 0xAC, 0x13, 0x00, 0x03, 0xA6, 0x52, 0x00, 0x50])
        XCTAssertEqual(
            try ProxyProtocolEncoder.v2(source: .init(address: "2001:db8::1", port: 4711), destination: .init(address: "fe80::a:b", port: 443)),
            Self.signature + [0x21, 0x21, 0x00, 0x24]
                + [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01]
                + [0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0A, 0, 0x0B]
                + [0x12, 0x67, 0x01, 0xBB])
        XCTAssertEqual(ProxyProtocolEncoder.v2Local(), Self.signature + [0x20, 0x00, 0x00, 0x00])
    }

    func testEncoderRoundTripsThroughTheParser() throws {
        let cases: [(String, UInt16, String, UInt16, ProxyFamily)] = [
            ("1.2.3.4", 1111, "5.6.7.8", 2222, .tcp4), ("0.0.0.0", 0, "255.255.255.255", 65535, .tcp4),
            ("2001:db8::1", 4711, "::1", 443, .tcp6), ("::", 1, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 2, .tcp6),
            ("2001:db8:0:1:1:1:1:1", 3, "fe80::1:0:0:0", 4, .tcp6),
        ]
        for (source, sourcePort, destination, destinationPort, family) in cases {
            let src = ProxyEndpoint(address: source, port: sourcePort), dst = ProxyEndpoint(address: destination, port: destinationPort)
            for (version, bytes) in [(1, try ProxyProtocolEncoder.v1(source: src, destination: dst)), (2, try ProxyProtocolEncoder.v2(source: src, destination: dst))] {
                let expected = ProxyHeader(source: src, destination: dst, family: family, isLocal: false, version: version)
                try assertEverySplit(bytes + [0x42], expected, remainder: [0x42])
            }
        }
        try assertEverySplit(ProxyProtocolEncoder.v2Local(), ProxyHeader(source: nil, destination: nil, family: .unknown, isLocal: true, version: 2))
        try assertEverySplit(ProxyProtocolEncoder.v1Unknown(), ProxyHeader(source: nil, destination: nil, family: .unknown, isLocal: false, version: 1))
    }
}
