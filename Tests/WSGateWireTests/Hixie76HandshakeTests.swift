import NIOCore
import Testing
import WSGateWire

/// A small, seeded generator (SplitMix64), so that generated keys are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The head of `bytes` (up to the blank line) as header lines, and what follows it.
func splitHead(_ bytes: [UInt8]) -> (lines: [String], body: [UInt8]) {
    let crlf2 = Array("\r\n\r\n".utf8)
    let end = (0...(bytes.count - 4)).first { Array(bytes[$0..<($0 + 4)]) == crlf2 }!
    let head = String(decoding: bytes[..<end], as: UTF8.self)
    return (head.components(separatedBy: "\r\n"), Array(bytes[(end + 4)...]))
}

extension String {
    /// Splits on a separator string (no Foundation in this target).
    func components(separatedBy separator: String) -> [String] {
        self.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
    }
}

@Suite struct Hixie76HandshakeTests {
    @Test(arguments: [
        ("4 @1  46546xW%0l 1 5", 829_309_203 as UInt32),  // 4146546015 / 5, draft section 1.2
        ("12998 5 Y3 1  .P00", 259_970_620),  // 1299853100 / 5, draft section 1.2
        ("18x 6]8vM;54 *(5:  {   U1]8  z [  8", 155_712_099),  // 1868545188 / 12, draft section 1.3
        ("1_ tx7X d  <  nw  334J702) 7]o}` 0", 173_347_027),  // 1733470270 / 10, draft section 1.3
        ("3e6b263  4 17 80", 906_585_445),  // 3626341780 / 4
        ("17  9 G`ZD9   2 2b 7X 3 /r90", 179_922_739),  // 1799227390 / 10
        ("4294967295 ", UInt32.max),
        ("0000000000004 ", 4),
        ("   ", 0),
    ])
    func keyNumberIsTheDigitsDividedByTheSpaces(key: String, number: UInt32) throws {
        #expect(try Hixie76Handshake.keyNumber(key) == number)
    }

    @Test(arguments: [
        ("3e6b6341780", WireError.hixieKeyHasNoSpaces),
        ("", .hixieKeyHasNoSpaces),
        ("3e6b263 4 17 80", .hixieKeyNotMultipleOfSpaces),
        ("17  9 G`ZD9   2 2b 7X 3 /r91", .hixieKeyNotMultipleOfSpaces),
        ("4294967296 ", .hixieKeyOutOfRange),
        ("1 2 3 4 5 6 7 8 9 0 1", .hixieKeyOutOfRange),
        ("99999999999", .hixieKeyOutOfRange),  // the range is checked before the spaces, as in the draft
    ])
    func badKeysAreRefusedWithTheRuleTheyBreak(key: String, error: WireError) {
        #expect(throws: error) { try Hixie76Handshake.keyNumber(key) }
    }

    @Test func challengeResponseMatchesDraftSection1_2Example() throws {
        let token = try Hixie76Handshake.challengeResponse(
            key1: "4 @1  46546xW%0l 1 5", key2: "12998 5 Y3 1  .P00", key3: Array("^n:ds[4U".utf8))
        #expect(token == Array("8jKS'y:G*Co,Wxa-".utf8))
    }

    @Test func challengeResponseMatchesDraftSection1_3Example() throws {
        let token = try Hixie76Handshake.challengeResponse(
            key1: "18x 6]8vM;54 *(5:  {   U1]8  z [  8", key2: "1_ tx7X d  <  nw  334J702) 7]o}` 0",
            key3: Array("Tm[K T2u".utf8))
        #expect(token == Array("fQJ,fN/4F4!~K~MH".utf8))
    }

    @Test func challengeResponseMatchesTheOtherPublishedExamples() throws {
        let token1 = try Hixie76Handshake.challengeResponse(
            key1: "3e6b263  4 17 80", key2: "17  9 G`ZD9   2 2b 7X 3 /r90", key3: Array("WjN}|M(6".utf8))
        #expect(token1 == Array("n`9eBk9z$R8pOtVb".utf8))
        let token2 = try Hixie76Handshake.challengeResponse(
            key1: "30  ;- 5=5 u 4 1  7336", key2: ":2 8 G(  07A 93Ql 3 *20 Ox0G'w",
            key3: [0x5D, 0x9F, 0xB0, 0x67, 0x0F, 0xE4, 0xFA, 0x75])
        let expected2: [UInt8] = [
            0xB6, 0xBC, 0x2A, 0x9E, 0xA0, 0x0C, 0x1C, 0xB9, 0x0F, 0xAD, 0xDC, 0x97, 0x90, 0x60, 0x17, 0xA8,
        ]
        #expect(token2 == expected2)
    }

    @Test func challengeResponseRefusesBadKeysAndAKey3ThatIsNot8Bytes() {
        #expect(throws: WireError.hixieKeyHasNoSpaces) {
            try Hixie76Handshake.challengeResponse(key1: "12", key2: "1 2", key3: [UInt8](repeating: 0, count: 8))
        }
        #expect(throws: WireError.hixieKeyNotMultipleOfSpaces) {
            try Hixie76Handshake.challengeResponse(key1: "1 2", key2: "1  1", key3: [UInt8](repeating: 0, count: 8))
        }
        #expect(throws: WireError.invalidHeader(name: "key3", reason: "must be exactly 8 bytes")) {
            try Hixie76Handshake.challengeResponse(key1: "1 2", key2: "1 2", key3: [UInt8](repeating: 0, count: 7))
        }
    }

    @Test func serverResponseIsTheDraftExampleByteForByte() {
        let response = Hixie76Handshake.serverResponse(
            origin: "http://example.com", location: "ws://example.com/demo", subprotocol: "sample",
            token: Array("8jKS'y:G*Co,Wxa-".utf8))
        let expected = "HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Origin: http://example.com\r\nSec-WebSocket-Location: ws://example.com/demo\r\n"
            + "Sec-WebSocket-Protocol: sample\r\n\r\n8jKS'y:G*Co,Wxa-"
        #expect(response == ByteBuffer(string: expected))
    }

    @Test func serverResponseLeavesOutTheProtocolHeaderWithNoSubprotocol() {
        let response = Hixie76Handshake.serverResponse(
            origin: "http://a", location: "wss://a/x", subprotocol: nil, token: [UInt8](repeating: 0x41, count: 16))
        let expected = "HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Origin: http://a\r\nSec-WebSocket-Location: wss://a/x\r\n\r\nAAAAAAAAAAAAAAAA"
        #expect(response == ByteBuffer(string: expected))
    }

    @Test func generatedKeysRoundTripThroughKeyNumberAndFollowSection4_1() throws {
        var generator = SeededGenerator(state: 76)
        let allowed = Set((0x20...0x7E).map { UInt8($0) })
        for _ in 0..<2000 {
            let (key, number) = Hixie76Handshake.makeKey(using: &generator)
            #expect(try Hixie76Handshake.keyNumber(key) == number)
            let bytes = Array(key.utf8)
            let spaces = bytes.filter { $0 == 0x20 }.count
            let noise = bytes.filter { $0 != 0x20 && !(0x30...0x39).contains($0) }.count
            #expect((1...12).contains(spaces))
            #expect((1...12).contains(noise))
            #expect(bytes.first != 0x20 && bytes.last != 0x20)
            #expect(bytes.allSatisfy { allowed.contains($0) })
        }
    }

    @Test func clientRequestIsAnsweredWithItsExpectedTokenByTheServerFunctions() throws {
        for subprotocol in [nil, "chat"] as [String?] {
            let (request, expectedToken) = Hixie76Handshake.clientRequest(
                host: "example.com:8080", path: "/room?x=1", origin: "http://example.com", subprotocol: subprotocol)
            let (lines, key3) = splitHead(Array(request.readableBytesView))
            var expectedLines = ["GET /room?x=1 HTTP/1.1", "Host: example.com:8080", "Upgrade: WebSocket",
                                 "Connection: Upgrade", "Origin: http://example.com"]
            #expect(Array(lines.prefix(5)) == expectedLines)
            let key1 = try #require(lines.first { $0.hasPrefix("Sec-WebSocket-Key1: ") }).dropFirst(20)
            let key2 = try #require(lines.first { $0.hasPrefix("Sec-WebSocket-Key2: ") }).dropFirst(20)
            expectedLines += ["Sec-WebSocket-Key1: \(key1)", "Sec-WebSocket-Key2: \(key2)"]
            if let subprotocol { expectedLines.append("Sec-WebSocket-Protocol: \(subprotocol)") }
            #expect(lines == expectedLines)
            #expect(key3.count == 8)
            let token = try Hixie76Handshake.challengeResponse(key1: String(key1), key2: String(key2), key3: key3)
            #expect(token == expectedToken)

            var answer = Hixie76Handshake.serverResponse(
                origin: "http://example.com", location: "ws://example.com:8080/room?x=1", subprotocol: subprotocol,
                token: token)
            var parser = HixieClientHandshakeParser(dialect: .hixie76, expectedToken: expectedToken)
            guard case .complete(_, let leftover) = try parser.feed(&answer) else {
                Issue.record("the answer was not complete")
                continue
            }
            #expect(leftover.readableBytes == 0)
        }
    }

    @Test func clientRequestsUseFreshKeys() {
        let first = Hixie76Handshake.clientRequest(host: "h", path: "/", origin: "http://h", subprotocol: nil)
        let second = Hixie76Handshake.clientRequest(host: "h", path: "/", origin: "http://h", subprotocol: nil)
        #expect(first.request != second.request)
        #expect(first.expectedToken != second.expectedToken)
    }
}
