import NIOCore
import Testing
import WSGateWire

/// Feeds `chunks` in turn; returns the headers of the first `.complete` and every leftover byte.
func feedAll(
    _ chunks: [[UInt8]],
    dialect: HixieDialect,
    expectedToken: [UInt8]?
) throws(WireError) -> (headers: [(name: String, value: String)]?, leftover: [UInt8]) {
    var parser = HixieClientHandshakeParser(dialect: dialect, expectedToken: expectedToken)
    var headers: [(name: String, value: String)]?
    var leftover: [UInt8] = []
    for chunk in chunks {
        var buffer = ByteBuffer(bytes: chunk)
        switch try parser.feed(&buffer) {
        case .needMoreData:
            #expect(headers == nil)
        case .complete(let completeHeaders, let rest):
            headers = headers ?? completeHeaders
            leftover += rest.readableBytesView
        }
        #expect(buffer.readableBytes == 0)
    }
    return (headers, leftover)
}

@Suite struct HixieClientHandshakeParserTests {
    static let token = Array("8jKS'y:G*Co,Wxa-".utf8)
    static let answer76 = Array(
        Hixie76Handshake.serverResponse(
            origin: "http://example.com", location: "ws://example.com/demo", subprotocol: "sample", token: token
        ).readableBytesView)

    @Test func hixie76AnswerIsReadWithItsTokenAndLeftoverFromAnySplit() throws {
        let input = Self.answer76 + [0x00, 0x41, 0xFF]
        for chunks in splits(of: input) {
            let (headers, leftover) = try feedAll(chunks, dialect: .hixie76, expectedToken: Self.token)
            let names = try #require(headers).map(\.name)
            let expectedNames = [
                "Upgrade", "Connection", "Sec-WebSocket-Origin", "Sec-WebSocket-Location", "Sec-WebSocket-Protocol",
            ]
            #expect(names == expectedNames)
            #expect(try #require(headers).last?.value == "sample")
            #expect(leftover == [0x00, 0x41, 0xFF])
        }
    }

    @Test func hixie76AnswerWaitsForAllSixteenTokenBytes() throws {
        var parser = HixieClientHandshakeParser(dialect: .hixie76, expectedToken: Self.token)
        var head = ByteBuffer(bytes: Self.answer76.dropLast(1))
        guard case .needMoreData = try parser.feed(&head) else {
            Issue.record("complete before the last token byte")
            return
        }
        var last = ByteBuffer(bytes: Self.answer76.suffix(1))
        guard case .complete = try parser.feed(&last) else {
            Issue.record("not complete after the last token byte")
            return
        }
    }

    @Test func hixie76AnswerWithAWrongTokenIsRefusedFromAnySplit() {
        var wrong = Self.answer76
        wrong[wrong.count - 1] ^= 1
        for chunks in splits(of: wrong) {
            #expect(throws: WireError.handshakeResponseMismatch(reason: "wrong token")) {
                try feedAll(chunks, dialect: .hixie76, expectedToken: Self.token)
            }
        }
    }

    @Test func hixie75AnswerIsCompleteAtTheBlankLineFromAnySplit() throws {
        let answer = Hixie75Handshake.serverResponse(origin: "http://h", location: "ws://h/", subprotocol: nil)
        let input = Array(answer.readableBytesView) + [0x00, 0xFF]
        for chunks in splits(of: input) {
            let (headers, leftover) = try feedAll(chunks, dialect: .hixie75, expectedToken: nil)
            #expect(try #require(headers).count == 4)
            #expect(leftover == [0x00, 0xFF])
        }
    }

    @Test(arguments: [
        ("HTTP/1.1 403 Forbidden\r\n\r\n", "status 403, not 101"),
        ("HTTP/1.1 200 OK\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n", "status 200, not 101"),
        ("SSH-2.0-OpenSSH\r\n\r\n", "malformed status line"),
        ("HTTP/1.1 101 Web Socket Protocol Handshake\r\nConnection: Upgrade\r\n\r\n", "Upgrade is not websocket"),
        ("HTTP/1.1 101 Web Socket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: close\r\n\r\n",
         "Connection is not upgrade"),
    ])
    func answersThatAreNotAnUpgradeAreRefused(answer: String, reason: String) {
        #expect(throws: WireError.handshakeResponseMismatch(reason: reason)) {
            try feedAll([Array(answer.utf8)], dialect: .hixie75, expectedToken: nil)
        }
    }

    @Test func headerNamesAndValuesAreComparedCaseInsensitivelyAndTrimmed() throws {
        let answer = "HTTP/1.1 101 Web Socket Protocol Handshake\r\nupgrade:websocket \r\nCONNECTION:  UPGRADE\r\n\r\n"
        let (headers, _) = try feedAll([Array(answer.utf8)], dialect: .hixie75, expectedToken: nil)
        #expect(try #require(headers).map(\.value) == ["websocket", "UPGRADE"])
    }

    @Test func aHeaderLineWithoutAColonIsRefusedWithItsLineNumber() {
        let answer = "HTTP/1.1 101 Web Socket Protocol Handshake\r\nUpgrade: WebSocket\r\nnonsense\r\n\r\n"
        #expect(throws: WireError.malformedHeader(line: 2)) {
            try feedAll([Array(answer.utf8)], dialect: .hixie75, expectedToken: nil)
        }
    }

    @Test func aHeadWithNoBlankLineWithin16KiBIsRefused() {
        let limit = HixieClientHandshakeParser.maxHeadSize
        let long = Array("HTTP/1.1 101 X\r\nX-Padding: ".utf8) + [UInt8](repeating: 0x61, count: limit)
        #expect(throws: WireError.headTooLarge(limit: limit)) {
            try feedAll([long], dialect: .hixie75, expectedToken: nil)
        }
        #expect(throws: WireError.headTooLarge(limit: limit)) {
            try feedAll(stride(from: 0, to: long.count, by: 1000).map { Array(long[$0..<min($0 + 1000, long.count)]) },
                        dialect: .hixie75, expectedToken: nil)
        }
    }

    @Test func aHeadOfExactly16KiBIsAccepted() throws {
        let limit = HixieClientHandshakeParser.maxHeadSize
        let start = Array("HTTP/1.1 101 X\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nX-Padding: ".utf8)
        let head = start + [UInt8](repeating: 0x61, count: limit - start.count - 4) + Array("\r\n\r\n".utf8)
        #expect(head.count == limit)
        let (headers, _) = try feedAll([head], dialect: .hixie75, expectedToken: nil)
        #expect(headers?.count == 3)
    }
}
