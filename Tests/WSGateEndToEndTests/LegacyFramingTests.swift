import Foundation
import NIOCore
import Testing
import WSGateClient
import WSGateWire

/// Issue #4: hixie framing, closing, rooms shared with RFC 6455 clients, and shutdown.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct LegacyFramingTests {
    static let routes = """
          - path: /echo
            echo: true
          - path: /mixed
            room: legacy-mixed
          - path: /rooms/*
            room: "*"

        """

    private func harness() throws -> GatewayHarness {
        try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.routes, limits: "  max_message_bytes: 1024\n"))
    }

    /// A raw hixie-76 connection on `path`, past its handshake.
    private func openHixie76(port: Int, path: String) throws -> LegacyRawSocket {
        let (head, key3, token) = LegacyTestSupport.hixie76Request(port: port, path: path)
        let socket = try LegacyRawSocket(port: port)
        socket.send(head + key3)
        let (response, rest) = socket.readHead(extra: 16)
        #expect(response.hasPrefix("HTTP/1.1 101 ") && Array(rest.prefix(16)) == token)
        socket.clear()
        return socket
    }

    /// A raw hixie-75 connection on `path`, past its handshake.
    private func openHixie75(port: Int, path: String) throws -> LegacyRawSocket {
        let socket = try LegacyRawSocket(port: port)
        socket.send(Array(Hixie75Handshake.clientRequest(
            host: "127.0.0.1:\(port)", path: path, origin: "http://127.0.0.1:\(port)", subprotocol: nil).readableBytesView))
        #expect(socket.readHead().head.hasPrefix("HTTP/1.1 101 "))
        socket.clear()
        return socket
    }

    @Test func hixieTextRoundTripsThroughOurClient() async throws {
        let harness = try self.harness()
        defer { harness.stop() }
        for dialect in [ClientDialect.hixie76, .hixie75] {
            let client = try await LegacyTestSupport.connect(port: harness.port, path: "/echo", dialect: dialect)
            for text in ["plain", "ünïcödé ✓ 🎉", "", String(repeating: "x", count: 1024)] {
                client.send(text)
                #expect(try await client.nextText() == text)
            }
            try await client.close()
        }
    }

    @Test func hixie76ClosingHandshakeIsAnsweredAndTheConnectionCloses() throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let socket = try self.openHixie76(port: harness.port, path: "/echo")
        socket.send([0xFF, 0x00])
        #expect(socket.waitForClose())
        #expect(socket.received == [0xFF, 0x00])
    }

    @Test func ourHixie76CloseIsAnsweredBeforeTheTimeout() async throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let client = try await LegacyTestSupport.connect(port: harness.port, path: "/echo", dialect: .hixie76)
        let started = ContinuousClock.now
        try await client.close()  // closeTimeout is 3 s: a prompt close means the gateway answered 0xFF 0x00
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func lengthPrefixedFramesAreDiscarded() throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let socket = try self.openHixie76(port: harness.port, path: "/echo")
        // 0x80 with a two-byte length (1 * 128 + 2 = 130 bytes), then a text frame.
        socket.send([0x80, 0x81, 0x02] + [UInt8](repeating: 0x41, count: 130) + [0x00] + Array("after".utf8) + [0xFF])
        socket.read(count: 7, timeout: 2)
        #expect(socket.received == [0x00] + Array("after".utf8) + [0xFF])
        #expect(!socket.isClosed)
    }

    @Test(arguments: ["hixie75", "hixie76"])
    func invalidUTF8DropsTheConnection(dialect: String) throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let socket = dialect == "hixie76"
            ? try self.openHixie76(port: harness.port, path: "/echo") : try self.openHixie75(port: harness.port, path: "/echo")
        socket.send([0x00, 0x61, 0xC3, 0x28, 0xFF])
        #expect(socket.waitForClose())
        #expect(!socket.received.contains(0x61), "nothing echoed")
    }

    @Test(arguments: ["hixie75", "hixie76"])
    func aFrameWithNoEndWithinTheLimitDropsTheConnection(dialect: String) throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let socket = dialect == "hixie76"
            ? try self.openHixie76(port: harness.port, path: "/echo") : try self.openHixie75(port: harness.port, path: "/echo")
        socket.send([0x00] + [UInt8](repeating: 0x61, count: 1100))  // max_message_bytes is 1024
        #expect(socket.waitForClose())
        #expect(socket.received.isEmpty || socket.received == [0xFF, 0x00])
    }

    @Test func hixie75Hixie76AndRFCMembersSeeTheSameMessagesInTheSameOrder() async throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let dialects: [ClientDialect] = [.hixie75, .hixie76, .rfc6455(version: 13), .hixie76, .rfc6455(version: 8)]
        var members: [AsyncWebSocketClient] = []
        for dialect in dialects {
            members.append(try await LegacyTestSupport.connect(port: harness.port, path: "/mixed", dialect: dialect))
        }
        // Everyone sends concurrently; the room puts the messages in one order that all must share.
        let perMember = 20
        for round in 0..<perMember {
            for (index, member) in members.enumerated() { member.send("m\(index)-\(round)") }
        }
        var sequences: [[String]] = []
        for member in members {
            var seen: [String] = []
            for _ in 0..<(perMember * members.count) { seen.append(try await member.nextText()) }
            sequences.append(seen)
        }
        for sequence in sequences.dropFirst() { #expect(sequence == sequences[0]) }
        #expect(Set(sequences[0]).count == perMember * members.count)
        for member in members { try await member.close() }
    }

    @Test func binaryFromAnRFCClientReachesHixieMembersAsBase64() async throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let hixie76 = try await LegacyTestSupport.connect(port: harness.port, path: "/mixed", dialect: .hixie76)
        let hixie75 = try await LegacyTestSupport.connect(port: harness.port, path: "/mixed", dialect: .hixie75)
        let rfc = try await LegacyTestSupport.connect(port: harness.port, path: "/mixed", dialect: .rfc6455)
        let bytes: [UInt8] = [0x00, 0xFF, 0x10, 0x80, 0x7F, 0xC3]
        rfc.send(.binary(ByteBuffer(bytes: bytes)))
        #expect(try await hixie76.nextText() == Base64.encode(bytes))
        #expect(try await hixie75.nextText() == Base64.encode(bytes))
        #expect(try await rfc.next() == .binary(ByteBuffer(bytes: bytes)), "RFC members get it as binary")
        for client in [hixie76, hixie75, rfc] { try await client.close() }
    }

    @Test func legacyClientsUsePrefixRooms() async throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let a76 = try await LegacyTestSupport.connect(port: harness.port, path: "/rooms/a", dialect: .hixie76)
        let a75 = try await LegacyTestSupport.connect(port: harness.port, path: "/rooms/a", dialect: .hixie75)
        let b76 = try await LegacyTestSupport.connect(port: harness.port, path: "/rooms/b", dialect: .hixie76)
        a75.send("to a")
        #expect(try await a76.nextText() == "to a")
        #expect(try await a75.nextText() == "to a")
        b76.send("to b")
        #expect(try await b76.nextText() == "to b", "room b sees only its own message")
        await #expect(throws: WebSocketClientError.timedOut, "nothing from b reaches a") {
            try await a76.next(timeout: .milliseconds(300))
        }
        for client in [a76, a75, b76] { try await client.close() }
    }

    @Test func shutdownClosesHixie76WithFF00AndHixie75WithATCPClose() async throws {
        let harness = try self.harness()
        let hixie76 = try self.openHixie76(port: harness.port, path: "/mixed")
        let hixie75 = try self.openHixie75(port: harness.port, path: "/mixed")
        let rfc = try await LegacyTestSupport.connect(port: harness.port, path: "/mixed", dialect: .rfc6455)
        let stopped = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            harness.stop(drainTimeout: .seconds(3))
            stopped.signal()
        }
        hixie76.read(count: 2)
        #expect(hixie76.received == [0xFF, 0x00])
        hixie76.send([0xFF, 0x00])  // our answer lets the gateway close at once
        #expect(hixie76.waitForClose())
        #expect(hixie75.waitForClose())
        #expect(hixie75.received.isEmpty, "hixie-75 has no closing frame: a TCP close")
        let (code, _) = try await rfc.closeEvent()
        #expect(code == 1001)
        #expect(stopped.wait(timeout: .now() + 10) == .success)
    }
}
