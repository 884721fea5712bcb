import Foundation
import NIOCore
import Testing
import WSGateClient
import WSGateWire

/// Issue #4: one listener tells hixie-75, hixie-76, RFC 6455 and plain HTTP apart, and answers each
/// in its own dialect.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct LegacyHandshakeTests {
    static let routes = """
          - path: /chat
            room: legacy-handshake
            subprotocols: [chat]
          - path: /echo
            echo: true
          - path: /
            static: etc/www

        """

    private func harness() throws -> GatewayHarness {
        try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.routes))
    }

    enum Key3Delivery: String, CaseIterable, Sendable {
        case sameSegment, laterSegment, oneByteAtATime
    }

    @Test(arguments: Key3Delivery.allCases)
    func hixie76IsAnsweredWithOriginLocationAndToken(delivery: Key3Delivery) throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let (head, key3, token) = LegacyTestSupport.hixie76Request(port: harness.port, path: "/echo?x=1")
        let socket = try LegacyRawSocket(port: harness.port)
        switch delivery {
        case .sameSegment: socket.send(head + key3)
        case .laterSegment: socket.send(chunks: [head, key3], pause: 0.2)
        case .oneByteAtATime: socket.send(chunks: (head + key3).map { [$0] }, pause: 0.001)
        }
        let (response, rest) = socket.readHead(extra: 16)
        #expect(response.hasPrefix("HTTP/1.1 101 WebSocket Protocol Handshake\r\n"))
        #expect(response.legacyHeader("Upgrade") == "WebSocket")
        #expect(response.legacyHeader("Connection") == "Upgrade")
        #expect(response.legacyHeader("Sec-WebSocket-Origin") == "http://127.0.0.1:\(harness.port)")
        #expect(response.legacyHeader("Sec-WebSocket-Location") == "ws://127.0.0.1:\(harness.port)/echo?x=1")
        #expect(response.legacyHeader("Sec-WebSocket-Protocol") == nil)
        #expect(Array(rest.prefix(16)) == token)
        // And the connection is a working hixie-76 echo.
        socket.clear()
        socket.send([0x00] + Array("héllo".utf8) + [0xFF])
        #expect(socket.read(count: 8) == [0x00] + Array("héllo".utf8) + [0xFF])
    }

    @Test func hixie76TokenWaitsForAllEightKeyBytes() throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let (head, key3, token) = LegacyTestSupport.hixie76Request(port: harness.port, path: "/echo")
        let socket = try LegacyRawSocket(port: harness.port)
        socket.send(head + key3.prefix(5))
        let (response, early) = socket.readHead()
        #expect(response.hasPrefix("HTTP/1.1 101 WebSocket Protocol Handshake"), "the head goes out before key3 is complete")
        #expect(early.isEmpty)
        socket.clear()
        #expect(socket.read(timeout: 0.3) { !$0.isEmpty }.isEmpty, "no token before all 8 key bytes")
        socket.send(Array(key3.suffix(3)))
        #expect(socket.read(count: 16) == token)
    }

    /// An HAProxy-style intermediary forwards key3 only after it has seen the response head: a
    /// server that waits for key3 before answering deadlocks behind it (SPEC, Handshakes).
    @Test func hixie76HeadGoesOutBeforeKey3ForIntermediariesThatWaitForIt() throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let (head, key3, token) = LegacyTestSupport.hixie76Request(port: harness.port, path: "/echo")
        let socket = try LegacyRawSocket(port: harness.port)
        socket.send(head)  // the head only: this client waits for the 101 head before it sends key3
        let (response, rest) = socket.readHead()
        #expect(response.hasPrefix("HTTP/1.1 101 WebSocket Protocol Handshake\r\n"))
        #expect(response.contains("Sec-WebSocket-Location: ws://"))
        #expect(rest.isEmpty, "nothing after the head before key3")
        socket.clear()
        socket.send(key3)
        #expect(socket.read(count: 16) == token)
        socket.clear()
        socket.send([0x00] + Array("through".utf8) + [0xFF])
        #expect(socket.read(count: 9) == [0x00] + Array("through".utf8) + [0xFF])
    }

    @Test func hixie76SubprotocolIsEchoedOnlyWhenTheRouteListsIt() throws {
        let harness = try self.harness()
        defer { harness.stop() }
        for (offered, expected) in [("chat", "chat" as String?), ("other", nil)] {
            let (head, key3, _) = LegacyTestSupport.hixie76Request(port: harness.port, path: "/chat", subprotocol: offered)
            let socket = try LegacyRawSocket(port: harness.port)
            socket.send(head + key3)
            let (response, _) = socket.readHead(extra: 16)
            #expect(response.hasPrefix("HTTP/1.1 101 "))
            #expect(response.legacyHeader("Sec-WebSocket-Protocol") == expected)
        }
        // Our client offers and sees the same.
        let client = try WebSocketClient.connect(
            LegacyTestSupport.configuration(port: harness.port, path: "/chat", dialect: .hixie76, subprotocols: ["chat"]),
            on: LegacyTestSupport.clientGroup.next(), onMessage: { _ in }
        ).wait()
        #expect(client.negotiatedSubprotocol == "chat")
        try client.close().wait()
    }

    static let badKeys: [(String, String)] = [
        ("no spaces", "12345678"),
        ("not a multiple of the spaces", "1 2 3"),  // 123 / 2 spaces
        ("over 32 bits", "4294967296 "),  // 2^32, one space
    ]

    @Test(arguments: 0..<3)
    func hixie76BadKeysAreRefusedWith400(index: Int) throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let (_, badKey) = Self.badKeys[index]
        var request = "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:\(harness.port)\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
        request += "Origin: http://127.0.0.1:\(harness.port)\r\nSec-WebSocket-Key1: \(badKey)\r\nSec-WebSocket-Key2: 1 2\r\n\r\n"
        let socket = try LegacyRawSocket(port: harness.port)
        socket.send(Array(request.utf8) + Array("12345678".utf8))
        _ = socket.waitForClose()
        let text = String(decoding: socket.received, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 400 "), "\(Self.badKeys[index].0): \(text)")
        #expect(socket.isClosed)
    }

    @Test func hixie76WithoutOriginIsRefusedWith400() throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let (head, key3, _) = LegacyTestSupport.hixie76Request(port: harness.port, path: "/echo", omitOrigin: true)
        #expect(!String(decoding: head, as: UTF8.self).contains("Origin"))
        let socket = try LegacyRawSocket(port: harness.port)
        socket.send(head + key3)
        _ = socket.waitForClose()
        #expect(String(decoding: socket.received, as: UTF8.self).hasPrefix("HTTP/1.1 400 "))
    }

    @Test func hixie75IsAnsweredWithWebSocketOriginAndLocation() throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let request = Hixie75Handshake.clientRequest(
            host: "127.0.0.1:\(harness.port)", path: "/chat", origin: "http://127.0.0.1:\(harness.port)", subprotocol: "chat")
        let socket = try LegacyRawSocket(port: harness.port)
        socket.send(Array(request.readableBytesView))
        let (response, rest) = socket.readHead()
        #expect(response.hasPrefix("HTTP/1.1 101 Web Socket Protocol Handshake\r\n"))
        #expect(response.legacyHeader("WebSocket-Origin") == "http://127.0.0.1:\(harness.port)")
        #expect(response.legacyHeader("WebSocket-Location") == "ws://127.0.0.1:\(harness.port)/chat")
        #expect(response.legacyHeader("WebSocket-Protocol") == "chat")
        #expect(response.legacyHeader("Sec-WebSocket-Origin") == nil)
        #expect(rest.isEmpty, "hixie-75 has no token")
    }

    @Test func oneListenerServesEveryDialectAndPlainHTTP() async throws {
        let harness = try self.harness()
        defer { harness.stop() }
        // Plain HTTP: a static file, and 426 on a WebSocket-only route.
        let page = String(decoding: try rawExchange(port: harness.port, [Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)]), as: UTF8.self)
        #expect(page.hasPrefix("HTTP/1.1 200 OK\r\n"))
        let upgradeRequired = String(
            decoding: try rawExchange(port: harness.port, [Array("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n".utf8)]), as: UTF8.self)
        #expect(upgradeRequired.hasPrefix("HTTP/1.1 426 "))
        // Every dialect on the same port, through our client (which checks each answer by its dialect's rules).
        for dialect in [ClientDialect.rfc6455(version: 13), .rfc6455(version: 8), .rfc6455(version: 7), .hixie76, .hixie75] {
            let client = try await LegacyTestSupport.connect(port: harness.port, path: "/echo", dialect: dialect)
            client.send("hi \(dialect)")
            #expect(try await client.nextText() == "hi \(dialect)")
            try await client.close()
        }
    }

    @Test func ourClientRefusesAnswersThatBreakTheDialectsRules() async throws {
        // Each fake server answers with one thing wrong; the client must not trust it.
        let wrongAccept = try LegacyCannedServer { _ in
            Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".utf8)
        }
        let wrongToken = try LegacyCannedServer { request in
            let location = "ws://" + (request.legacyHeader("Host") ?? "") + "/x"
            return Array(("HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Origin: \(request.legacyHeader("Origin") ?? "")\r\nSec-WebSocket-Location: \(location)\r\n\r\n").utf8)
                + Array("0123456789abcdef".utf8)
        }
        let wrongStatusLine = try LegacyCannedServer { request in
            let location = "ws://" + (request.legacyHeader("Host") ?? "") + "/x"
            return Array(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
                + "WebSocket-Origin: \(request.legacyHeader("Origin") ?? "")\r\nWebSocket-Location: \(location)\r\n\r\n").utf8)
        }
        let wrongLocation = try LegacyCannedServer { request in
            Array(("HTTP/1.1 101 Web Socket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
                + "WebSocket-Origin: \(request.legacyHeader("Origin") ?? "")\r\nWebSocket-Location: wss://elsewhere/x\r\n\r\n").utf8)
        }
        let refused = try LegacyCannedServer { _ in Array("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno".utf8) }
        defer { [wrongAccept, wrongToken, wrongStatusLine, wrongLocation, refused].forEach { $0.stop() } }
        let cases: [(LegacyCannedServer, ClientDialect, String)] = [
            (wrongAccept, .rfc6455(version: 13), "Sec-WebSocket-Accept"),
            (wrongToken, .hixie76, "token"),
            (wrongStatusLine, .hixie75, "status line"),
            (wrongLocation, .hixie75, "Location"),
            (refused, .hixie76, "403"),
        ]
        for (server, dialect, expected) in cases {
            do {
                let client = try await LegacyTestSupport.connect(port: server.port, path: "/x", dialect: dialect)
                Issue.record("\(dialect) accepted a bad answer (\(expected))")
                try await client.close()
            } catch let error as WebSocketClientError {
                #expect("\(error)".contains(expected), "\(dialect): \(error)")
            }
        }
    }
}
