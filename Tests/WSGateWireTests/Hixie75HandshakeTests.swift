import NIOCore
import Testing
import WSGateWire

@Suite struct Hixie75HandshakeTests {
    @Test func serverResponseIsTheDraftFormByteForByte() {
        let response = Hixie75Handshake.serverResponse(
            origin: "http://example.com", location: "ws://example.com/demo", subprotocol: "sample")
        let expected =
            "HTTP/1.1 101 Web Socket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
            + "WebSocket-Origin: http://example.com\r\nWebSocket-Location: ws://example.com/demo\r\n"
            + "WebSocket-Protocol: sample\r\n\r\n"
        #expect(response == ByteBuffer(string: expected))
    }

    @Test func serverResponseLeavesOutTheProtocolHeaderWithNoSubprotocol() {
        let response = Hixie75Handshake.serverResponse(origin: "http://a", location: "ws://a/", subprotocol: nil)
        let expected =
            "HTTP/1.1 101 Web Socket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
            + "WebSocket-Origin: http://a\r\nWebSocket-Location: ws://a/\r\n\r\n"
        #expect(response == ByteBuffer(string: expected))
    }

    @Test func clientRequestCarriesNoKeysAndEndsWithTheBlankLine() {
        let request = Hixie75Handshake.clientRequest(
            host: "example.com", path: "/demo", origin: "http://example.com", subprotocol: "sample")
        let expected =
            "GET /demo HTTP/1.1\r\nHost: example.com\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
            + "Origin: http://example.com\r\nWebSocket-Protocol: sample\r\n\r\n"
        #expect(request == ByteBuffer(string: expected))
        let bare = Hixie75Handshake.clientRequest(host: "h", path: "/", origin: "http://h", subprotocol: nil)
        let bareExpected = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
            + "Origin: http://h\r\n\r\n"
        #expect(bare == ByteBuffer(string: bareExpected))
    }

    @Test func serverResponseIsAcceptedByTheClientParser() throws {
        var answer = Hixie75Handshake.serverResponse(origin: "http://h", location: "ws://h/", subprotocol: nil)
        var parser = HixieClientHandshakeParser(dialect: .hixie75, expectedToken: nil)
        guard case .complete(let headers, let leftover) = try parser.feed(&answer) else {
            Issue.record("the answer was not complete")
            return
        }
        #expect(headers.map(\.name) == ["Upgrade", "Connection", "WebSocket-Origin", "WebSocket-Location"])
        #expect(headers.map(\.value) == ["WebSocket", "Upgrade", "http://h", "ws://h/"])
        #expect(leftover.readableBytes == 0)
    }
}
