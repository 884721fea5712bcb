import NIOCore
import Testing
import WSGateConfig
import WSGateWire
@testable import WSGateCore

/// The backend-handshake step of WebSocket upstreams, without a channel: connect, then our
/// request to the backend, then the client's answer decided by the backend's.
struct UpstreamHandshakeTests {
    private static let yaml = """
        listeners:
          - bind: 127.0.0.1:0
        routes:
          - path: /feed
            upstream: ws://[::1]:9001/v2/feed?x=1
            subprotocols: [chat.v1, chat.v2]
            connect_timeout_ms: 1500
        """

    private func machine() throws -> HandshakeMachine {
        let configuration = try ConfigLoader.parse(Self.yaml, file: "test.yaml")
        return HandshakeMachine(
            environment: .init(routes: RouteTable(routes: configuration.routes), isTLS: true, routeLoad: { _ in nil }, clientAddress: "192.0.2.7"))
    }

    private func head(_ text: String) throws -> HTTPRequestHead {
        var parser = HTTPHeadParser()
        var buffer = ByteBuffer(string: text)
        return try #require(try parser.next(from: &buffer))
    }

    private static let request =
        "GET /feed HTTP/1.1\r\nHost: gw.example:8443\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: https://gw.example:8443\r\n"
        + "Sec-WebSocket-Protocol: other, chat.v2, chat.v1\r\nCookie: s=1\r\nAuthorization: Bearer t\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n"

    /// Up to the backend's handshake; returns it.
    private func handshake(_ machine: inout HandshakeMachine) throws -> UpstreamHandshake {
        guard case .connectUpstream(let host, let port, let timeoutMs) = machine.receivedHead(try self.head(Self.request)) else {
            Issue.record("the connect comes first")
            throw CancellationError()
        }
        #expect(host == "::1" && port == 9001 && timeoutMs == 1500)
        guard case .handshakeBackend(let handshake) = machine.upstreamConnected() else {
            Issue.record("then the backend's handshake")
            throw CancellationError()
        }
        return handshake
    }

    @Test func theBackendGetsItsHostTheClientsHeadersAndTheForwardingHeaders() throws {
        var machine = try self.machine()
        let handshake = try self.handshake(&machine)
        let text = String(buffer: handshake.bytes)
        #expect(text.hasPrefix("GET /v2/feed?x=1 HTTP/1.1\r\nHost: [::1]:9001\r\n"), "\(text)")
        #expect(text.contains("Sec-WebSocket-Version: 13\r\n"))
        #expect(text.contains("Sec-WebSocket-Protocol: chat.v2, chat.v1\r\n"), "the offer, filtered by the route's list")
        #expect(text.contains("Origin: https://gw.example:8443\r\nCookie: s=1\r\nAuthorization: Bearer t\r\n"))
        #expect(text.contains("X-Forwarded-For: 192.0.2.7\r\n"), "an untrusted peer's own header is replaced")
        #expect(!text.contains("6.6.6.6"))
        #expect(text.contains("X-Forwarded-Proto: https\r\nX-Forwarded-Host: gw.example:8443\r\n"))
        #expect(text.contains("Forwarded: for=192.0.2.7;proto=https;host=\"gw.example:8443\"\r\n"))
        #expect(
            text.contains("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; client_max_window_bits=12\r\n"),
            "our own offer on this hop, both windows at the route's compression_window_bits")
        #expect(text.hasSuffix("\r\n\r\n"))
    }

    private func accept(_ handshake: UpstreamHandshake, extensions: [String]) -> ClientHandshakeResponse {
        ClientHandshakeResponse(
            statusLine: "HTTP/1.1 101 Switching Protocols", status: 101,
            headers: [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", RFC6455Handshake.acceptValue(forKey: handshake.key))]
                + extensions.map { (name: "Sec-WebSocket-Extensions", value: $0) })
    }

    @Test func aBackendThatAcceptsCompressionGivesTheHopItsParametersAndTheClientItsOwn() throws {
        var machine = try self.machine()
        let handshake = try self.handshake(&machine)
        guard case .open(let upgrade, let response) = machine.backendAnswered(
            self.accept(handshake, extensions: ["permessage-deflate; server_max_window_bits=10", "  "]))
        else {
            Issue.record("an answer within our offer opens")
            return
        }
        let hop = try #require(upgrade.backendCompression)
        #expect(hop.serverMaxWindowBits == 10)
        #expect(hop.clientMaxWindowBits == 12, "without an answer we keep to what we offered")
        #expect(upgrade.compression == nil, "the client offered nothing: its own hop stays plain")
        #expect(!String(buffer: response).contains("Sec-WebSocket-Extensions"), "the backend's answer is never passed through")
    }

    @Test(arguments: [
        "permessage-deflate; server_max_window_bits=15",  // above our offer
        "permessage-deflate",  // server_max_window_bits offered but not answered
        "x-webkit-deflate-frame",  // not offered
        "permessage-deflate; server_max_window_bits=10, permessage-deflate; server_max_window_bits=9",  // twice
    ])
    func aBackendAnswerOutsideOurCompressionOfferIs502(_ extensions: String) throws {
        var machine = try self.machine()
        let handshake = try self.handshake(&machine)
        guard case .refuse(let refusal, _, _) = machine.backendAnswered(self.accept(handshake, extensions: [extensions])) else {
            Issue.record("refused: \(extensions)")
            return
        }
        #expect(refusal.status == 502)
        #expect(refusal.reason.contains("Sec-WebSocket-Extensions"), "\(refusal.reason)")
    }

    @Test func aRouteWithCompressionOffOffersNothingAndRefusesAnExtension() throws {
        let configuration = try ConfigLoader.parse(Self.yaml.replacingOccurrences(of: "connect_timeout_ms: 1500", with: "connect_timeout_ms: 1500\n    compression: off"), file: "test.yaml")
        var machine = HandshakeMachine(
            environment: .init(routes: RouteTable(routes: configuration.routes), isTLS: true, routeLoad: { _ in nil }, clientAddress: "192.0.2.7"))
        let handshake = try self.handshake(&machine)
        #expect(!String(buffer: handshake.bytes).contains("Sec-WebSocket-Extensions"))
        guard case .refuse(let refusal, _, _) = machine.backendAnswered(self.accept(handshake, extensions: ["permessage-deflate"])) else {
            Issue.record("an extension that was not offered is refused")
            return
        }
        #expect(refusal.reason.contains("was not offered"), "\(refusal.reason)")
    }

    @Test func theBackendsSubprotocolGoesToTheClient() throws {
        var machine = try self.machine()
        let handshake = try self.handshake(&machine)
        let answer = ClientHandshakeResponse(
            statusLine: "HTTP/1.1 101 Switching Protocols", status: 101,
            headers: [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                      ("Sec-WebSocket-Accept", RFC6455Handshake.acceptValue(forKey: handshake.key)), ("Sec-WebSocket-Protocol", "chat.v1")])
        guard case .open(let upgrade, let response) = machine.backendAnswered(answer) else {
            Issue.record("a valid 101 opens the client's WebSocket")
            return
        }
        #expect(upgrade.subprotocol == "chat.v1")
        let text = String(buffer: response)
        #expect(text.contains("Sec-WebSocket-Protocol: chat.v1\r\n"), "\(text)")
        #expect(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
    }

    @Test(arguments: [
        (101, [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", "wrong")], "Sec-WebSocket-Accept"),
        (403, [], "403 Forbidden"),
        (101, [("Upgrade", "websocket"), ("Connection", "Upgrade")], "no Sec-WebSocket-Accept"),
    ])
    func aBackendAnsweringBadlyIs502(status: Int, headers: [(String, String)], detail: String) throws {
        var machine = try self.machine()
        _ = try self.handshake(&machine)
        let line = status == 101 ? "HTTP/1.1 101 Switching Protocols" : "HTTP/1.1 403 Forbidden"
        let answer = ClientHandshakeResponse(statusLine: line, status: status, headers: headers.map { (name: $0.0, value: $0.1) })
        guard case .refuse(let refusal, _, _) = machine.backendAnswered(answer) else {
            Issue.record("refused")
            return
        }
        #expect(refusal.status == 502)
        #expect(refusal.reason.contains(detail), "\(refusal.reason)")
    }

    @Test func noAnswerInTimeIs504() throws {
        var machine = try self.machine()
        _ = try self.handshake(&machine)
        guard case .refuse(let refusal, _, _) = machine.upstreamFailed(.upstreamTimeout("no handshake answer")) else {
            Issue.record("refused")
            return
        }
        #expect(refusal.status == 504)
    }
}
