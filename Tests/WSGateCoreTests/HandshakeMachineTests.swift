import NIOCore
import Testing
import WSGateConfig
import WSGateWire
@testable import WSGateCore

/// The handshake decision without a channel: each request head (and key3, and the upstream's
/// answer) in, the action out.
struct HandshakeMachineTests {
    private static let yaml = """
        listeners:
          - bind: 127.0.0.1:0
        routes:
          - path: /echo
            echo: true
          - path: /capped
            echo: true
            max_connections: 2
          - path: /up
            upstream: tcp://127.0.0.1:7000
            connect_timeout_ms: 1500
          - path: /www
            static: /tmp
          - path: /plain
            echo: true
            compression: off
          - path: /room
            room: lobby
          - path: /rooms/*
            room: "*"
        """

    private func machine(load: Int? = nil, preparesRooms: Bool = false) throws -> HandshakeMachine {
        let configuration = try ConfigLoader.parse(Self.yaml, file: "test.yaml")
        return HandshakeMachine(
            environment: .init(
                routes: RouteTable(routes: configuration.routes), isTLS: false, routeLoad: { _ in load }, preparesRooms: preparesRooms))
    }

    private func head(_ text: String) throws -> HTTPRequestHead {
        var parser = HTTPHeadParser()
        var buffer = ByteBuffer(string: text)
        return try #require(try parser.next(from: &buffer))
    }

    private func hixie76(_ path: String) -> (head: String, key3: [UInt8], token: [UInt8]) {
        // The draft's own example keys (section 1.3): token "8jKS'y:G*Co,Wxa-".
        let head = "GET \(path) HTTP/1.1\r\nHost: example.com\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nOrigin: http://example.com\r\n\r\n"
        return (head, Array("^n:ds[4U".utf8), Array("8jKS'y:G*Co,Wxa-".utf8))
    }

    @Test func hixie76SendsTheHeadFirstAndTheTokenOnceKey3IsIn() throws {
        var machine = try self.machine()
        let request = self.hixie76("/echo")
        guard case .sendHeadAwaitKey3(let responseHead) = machine.receivedHead(try self.head(request.head)) else {
            Issue.record("the head should go out before key3")
            return
        }
        let text = String(buffer: responseHead)
        #expect(text.hasPrefix("HTTP/1.1 101 WebSocket Protocol Handshake\r\n"))
        #expect(text.hasSuffix("\r\n\r\n"), "the head alone, no token yet")
        #expect(text.contains("Sec-WebSocket-Location: ws://example.com/echo\r\n"))
        guard case .open(let upgrade, let response) = machine.receivedKey3(request.key3) else {
            Issue.record("key3 should open the WebSocket")
            return
        }
        #expect(Array(response.readableBytesView) == request.token)
        #expect(upgrade.dialect == .hixie76)
    }

    @Test func hixie76OnAnUpstreamRouteConnectsBeforeAnyByteGoesOut() throws {
        var machine = try self.machine()
        let request = self.hixie76("/up")
        guard case .connectUpstream(let host, let port, let timeout) = machine.receivedHead(try self.head(request.head)) else {
            Issue.record("the upstream comes first")
            return
        }
        #expect(host == "127.0.0.1" && port == 7000 && timeout == 1500)
        guard case .sendHeadAwaitKey3 = machine.upstreamConnected() else {
            Issue.record("then the 101 head")
            return
        }
        guard case .open = machine.receivedKey3(request.key3) else {
            Issue.record("then the token")
            return
        }
    }

    @Test func rfc6455OpensAtOnceWithTheAcceptValue() throws {
        var machine = try self.machine()
        let action = machine.receivedHead(try self.head(
            "GET /echo HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
        guard case .open(let upgrade, let response) = action else {
            Issue.record("expected .open, got \(action)")
            return
        }
        #expect(String(buffer: response).contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
        #expect(upgrade.dialect == .rfc6455(version: 13))
        #expect(machine.acceptedRoute?.path == "/echo")
    }

    @Test func aClusterRoomIsPreparedBeforeThe101() throws {
        let request = "GET /rooms/a HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        var local = try self.machine()
        guard case .open = local.receivedHead(try self.head(request)) else {
            Issue.record("in-process rooms open at once")
            return
        }
        var machine = try self.machine(preparesRooms: true)
        guard case .prepareRoom(let name) = machine.receivedHead(try self.head(request)) else {
            Issue.record("a cluster room waits for its broker")
            return
        }
        #expect(name == "a")
        guard case .open(let upgrade, _) = machine.roomPrepared() else {
            Issue.record("prepared: the WebSocket opens")
            return
        }
        #expect(upgrade.match.roomName == "a")
        var down = try self.machine(preparesRooms: true)
        _ = down.receivedHead(try self.head(request))
        guard case .refuse(let refusal, _, let dialect) = down.roomPreparationFailed(.clusterUnavailable) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(refusal.status == 503)
        #expect(refusal.reason == "cluster unavailable")
        #expect(dialect == "rfc6455")
        // Echo routes never wait for the cluster.
        var echo = try self.machine(preparesRooms: true)
        guard case .open = echo.receivedHead(try self.head(request.replacingOccurrences(of: "/rooms/a", with: "/echo"))) else {
            Issue.record("echo opens at once")
            return
        }
    }

    @Test func anUpstreamThatFailsIsRefusedWithItsStatus() throws {
        var machine = try self.machine()
        _ = machine.receivedHead(try self.head(
            "GET /up HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
        guard case .refuse(let refusal, _, let dialect) = machine.upstreamFailed(.upstreamTimeout("after 1500 ms")) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(refusal.status == 504)
        #expect(dialect == "rfc6455")
    }

    @Test(arguments: [
        ("GET /nowhere HTTP/1.1\r\nHost: h\r\n\r\n", 404),
        ("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n", 426),
        ("POST /www/a HTTP/1.1\r\nHost: h\r\n\r\n", 405),
        ("GET /echo HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
        ("GET /echo HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 9\r\n\r\n", 426),
        ("GET /echo HTTP/1.1\r\nHost: h\r\nOrigin: http://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 403),
        ("GET /echo HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key1: 12345\r\nSec-WebSocket-Key2: 1 2\r\nOrigin: http://h\r\n\r\n", 400),
        ("GET /echo HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key1: 1 2\r\nSec-WebSocket-Key2: 1 2\r\n\r\n", 400),
        ("GET /www HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
    ] as [(String, Int)])
    func refusalsAreDecidedFromTheHeadAlone(_ request: String, _ status: Int) throws {
        var machine = try self.machine()
        guard case .refuse(let refusal, _, _) = machine.receivedHead(try self.head(request)) else {
            Issue.record("expected a refusal with \(status)")
            return
        }
        #expect(refusal.status == status, "\(refusal.reason)")
        #expect(machine.acceptedRoute == nil)
    }

    @Test func aFullRouteIsRefusedWith503() throws {
        var machine = try self.machine(load: 2)
        let action = machine.receivedHead(try self.head(
            "GET /capped HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
        guard case .refuse(let refusal, _, _) = action else {
            Issue.record("expected 503")
            return
        }
        #expect(refusal.status == 503)
    }

    @Test func aPlainGetOnAStaticRouteServesFiles() throws {
        var machine = try self.machine()
        guard case .serveStatic(let root, let remainder, _) = machine.receivedHead(try self.head("GET /www/a.txt HTTP/1.1\r\nHost: h\r\n\r\n")) else {
            Issue.record("expected a static file")
            return
        }
        #expect(root == "/tmp")
        #expect(remainder == "a.txt" || remainder == "/a.txt")
    }

    private func upgradeResponse(_ path: String, extensions: String?) throws -> String? {
        var machine = try self.machine()
        var request = "GET \(path) HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        if let extensions { request += "Sec-WebSocket-Extensions: \(extensions)\r\n" }
        guard case .open(_, let response) = machine.receivedHead(try self.head(request + "\r\n")) else { return nil }
        return String(buffer: response)
    }

    private func extensionsHeader(_ response: String?) -> String? {
        response?.split(separator: "\r\n").first { $0.hasPrefix("Sec-WebSocket-Extensions: ") }.map { String($0.dropFirst("Sec-WebSocket-Extensions: ".count)) }
    }

    @Test func chromesOfferIsAnsweredWithTheRoutesWindow() throws {
        let answer = self.extensionsHeader(try self.upgradeResponse("/echo", extensions: "permessage-deflate; client_max_window_bits"))
        #expect(answer == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12")
    }

    @Test func firefoxsOfferIsAnsweredToo() throws {
        let answer = self.extensionsHeader(try self.upgradeResponse("/echo", extensions: "permessage-deflate"))
        #expect(answer == "permessage-deflate; server_max_window_bits=12")
    }

    @Test func roomRoutesAlwaysAnswerServerNoContextTakeover() throws {
        let answer = self.extensionsHeader(try self.upgradeResponse("/room", extensions: "permessage-deflate; client_max_window_bits"))
        #expect(answer?.contains("server_no_context_takeover") == true, "\(answer ?? "none")")
    }

    @Test func compressionOffAndUnacceptableOffersAreDeclinedByOmission() throws {
        let response = try self.upgradeResponse("/plain", extensions: "permessage-deflate")
        #expect(response?.hasPrefix("HTTP/1.1 101") == true)
        #expect(self.extensionsHeader(response) == nil)
        #expect(self.extensionsHeader(try self.upgradeResponse("/echo", extensions: "permessage-deflate; server_max_window_bits=8")) == nil)
        #expect(self.extensionsHeader(try self.upgradeResponse("/echo", extensions: "x-webkit-deflate-frame")) == nil)
        #expect(self.extensionsHeader(try self.upgradeResponse("/echo", extensions: nil)) == nil)
    }
}
