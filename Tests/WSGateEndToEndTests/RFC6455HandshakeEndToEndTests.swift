import Foundation
import Testing
import WSGateWire

/// Issue #3: the RFC 6455 opening handshake over raw sockets, every refusal with its status and body.
@Suite(.serialized, .timeLimit(.minutes(1)))
final class RFC6455HandshakeEndToEndTests {
    let harness: GatewayHarness
    var port: Int { self.harness.port }

    init() throws {
        self.harness = try GatewayHarness(
            yaml: GatewayHarness.yaml(routes: """
                  - path: /echo
                    echo: true
                  - path: /chat
                    room: lobby
                    subprotocols: [chat, superchat]
                  - path: /listed
                    echo: true
                    origins: [http://app.example, https://secure.example:8443]
                  - path: /anyone
                    echo: true
                    origins: ["*"]
                  - path: /single
                    echo: true
                    max_connections: 1

                """))
    }

    deinit { self.harness.stop() }

    /// Sends a handshake and returns the response head plus whether the server closed the connection.
    func handshake(_ request: String) throws -> (response: RFCResponse, closed: Bool, socket: RFCSocket) {
        let socket = try RFCSocket(port: self.port)
        socket.send(request)
        guard let head = socket.readResponseHead() else {
            Issue.record("no response head")
            return (RFCResponse([]), socket.peerClosed, socket)
        }
        if head.status == 101 { return (head, false, socket) }
        // a refusal: read the body up to the close
        let closed = socket.readToEnd(timeout: 5)
        var response = head
        response.body = socket.takePending()
        return (response, closed, socket)
    }

    func expectRefusal(_ result: (response: RFCResponse, closed: Bool, socket: RFCSocket), _ status: Int, bodyContains: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.response.status == status, "\(result.response.statusLine)", sourceLocation: sourceLocation)
        #expect(result.response.headers["content-type"] == "text/plain; charset=utf-8", sourceLocation: sourceLocation)
        #expect(result.response.bodyText.contains(bodyContains), "body: \(result.response.bodyText)", sourceLocation: sourceLocation)
        #expect(result.response.headers["content-length"] == String(result.response.body.count), sourceLocation: sourceLocation)
        #expect(result.closed, "the connection stays open", sourceLocation: sourceLocation)
    }

    @Test(arguments: ["13", "8", "7"])
    func versionsThirteenEightAndSevenGet101WithTheAcceptValue(_ version: String) throws {
        let (response, _, socket) = try self.handshake(rfcUpgradeRequest(path: "/echo", port: self.port, version: version))
        #expect(response.statusLine == "HTTP/1.1 101 Switching Protocols")
        #expect(response.headers["sec-websocket-accept"] == rfcSampleAccept)
        #expect(response.headers["upgrade"]?.lowercased() == "websocket")
        #expect(response.headers["connection"]?.lowercased() == "upgrade")
        #expect(response.headers["sec-websocket-protocol"] == nil)
        #expect(response.headers["sec-websocket-extensions"] == nil)
        // and the connection speaks RFC 6455: an echo comes back
        socket.send(rfcClientFrame(.text, "v\(version)"))
        #expect(socket.readFrames(1) == [RFCFrame(fin: true, opcode: 1, payload: Array("v\(version)".utf8))])
    }

    @Test func theAcceptValueIsComputedFromTheClientsKey() throws {
        let key = "AQIDBAUGBwgJCgsMDQ4PEA=="
        let (response, _, _) = try self.handshake(rfcUpgradeRequest(path: "/echo", port: self.port, key: key))
        #expect(response.status == 101)
        #expect(response.headers["sec-websocket-accept"] == RFC6455Handshake.acceptValue(forKey: key))
        #expect(response.headers["sec-websocket-accept"] != rfcSampleAccept)
    }

    @Test func chromesPermessageDeflateOfferIsAcceptedAndAnUnknownExtensionDeclinedByOmission() throws {
        let (response, _, _) = try self.handshake(
            rfcUpgradeRequest(path: "/echo", port: self.port, headers: ["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"]))
        #expect(response.status == 101)
        #expect(response.headers["sec-websocket-extensions"] == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12")
        let (other, _, _) = try self.handshake(
            rfcUpgradeRequest(path: "/echo", port: self.port, headers: ["Sec-WebSocket-Extensions: x-webkit-deflate-frame"]))
        #expect(other.status == 101)
        #expect(other.headers["sec-websocket-extensions"] == nil)
    }

    @Test(arguments: ["9", "12", "14", "0", "x"])
    func anUnsupportedVersionIs426WithTheSupportedVersions(_ version: String) throws {
        let result = try self.handshake(rfcUpgradeRequest(path: "/echo", port: self.port, version: version))
        self.expectRefusal(result, 426, bodyContains: "Sec-WebSocket-Version")
        #expect(result.response.headers["sec-websocket-version"] == "13, 8, 7")
    }

    @Test func aMissingKeyIs400() throws {
        let request = "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
        self.expectRefusal(try self.handshake(request), 400, bodyContains: "Sec-WebSocket-Key")
    }

    @Test func aKeyThatIsNotSixteenBytesIs400() throws {
        self.expectRefusal(
            try self.handshake(rfcUpgradeRequest(path: "/echo", port: self.port, key: "c2hvcnQ=")), 400, bodyContains: "Sec-WebSocket-Key")
    }

    @Test func aConnectionHeaderWithoutUpgradeIs400() throws {
        let request = "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Key: \(rfcSampleKey)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        self.expectRefusal(try self.handshake(request), 400, bodyContains: "Connection")
    }

    @Test func anUpgradeWithPostIs400() throws {
        let request = rfcUpgradeRequest(path: "/echo", port: self.port).replacingOccurrences(of: "GET ", with: "POST ")
        self.expectRefusal(try self.handshake(request), 400, bodyContains: "GET")
    }

    @Test func aMalformedHeaderIs400() throws {
        let request = rfcUpgradeRequest(path: "/echo", port: self.port, headers: ["this is not a header"])
        self.expectRefusal(try self.handshake(request), 400, bodyContains: "malformed")
    }

    @Test func anUpgradeToAnUnknownPathIs404() throws {
        self.expectRefusal(try self.handshake(rfcUpgradeRequest(path: "/nowhere", port: self.port)), 404, bodyContains: "/nowhere")
    }

    @Test func anUpgradeWithAHeaderBlockOver16KiBIs431() throws {
        let request = rfcUpgradeRequest(path: "/echo", port: self.port, headers: ["X-Big: " + String(repeating: "b", count: 17000)])
        self.expectRefusal(try self.handshake(request), 431, bodyContains: "16384")
    }

    @Test func bytesSentRightAfterTheHandshakeAreNotLost() throws {
        let socket = try RFCSocket(port: self.port)
        socket.send(Array(rfcUpgradeRequest(path: "/echo", port: self.port).utf8) + rfcClientFrame(.text, "early"))
        #expect(socket.readResponseHead()?.status == 101)
        #expect(socket.readFrames(1).first?.text == "early")
    }

    // MARK: Origin policy

    @Test func byDefaultNoOriginIsAdmitted() throws {
        #expect(try self.handshake(rfcUpgradeRequest(path: "/echo", port: self.port)).response.status == 101)
    }

    @Test func byDefaultTheSameOriginAsTheHostIsAdmitted() throws {
        let request = rfcUpgradeRequest(path: "/echo", port: self.port, headers: ["Origin: http://127.0.0.1:\(self.port)"])
        #expect(try self.handshake(request).response.status == 101)
    }

    @Test func byDefaultAnotherOriginIs403() throws {
        let request = rfcUpgradeRequest(path: "/echo", port: self.port, headers: ["Origin: http://evil.example"])
        self.expectRefusal(try self.handshake(request), 403, bodyContains: "http://evil.example")
        let otherPort = rfcUpgradeRequest(path: "/echo", port: self.port, headers: ["Origin: http://127.0.0.1:1"])
        #expect(try self.handshake(otherPort).response.status == 403)
    }

    @Test func hybiClientsSecWebSocketOriginIsChecked() throws {
        let refused = rfcUpgradeRequest(path: "/echo", port: self.port, version: "8", headers: ["Sec-WebSocket-Origin: http://evil.example"])
        self.expectRefusal(try self.handshake(refused), 403, bodyContains: "evil")
        let admitted = rfcUpgradeRequest(path: "/echo", port: self.port, version: "8", headers: ["Sec-WebSocket-Origin: http://127.0.0.1:\(self.port)"])
        #expect(try self.handshake(admitted).response.status == 101)
    }

    @Test func aListedOriginIsAdmittedAndAnUnlistedOneIs403() throws {
        let listed = rfcUpgradeRequest(path: "/listed", port: self.port, headers: ["Origin: http://app.example"])
        #expect(try self.handshake(listed).response.status == 101)
        let listedTLS = rfcUpgradeRequest(path: "/listed", port: self.port, headers: ["Origin: https://secure.example:8443"])
        #expect(try self.handshake(listedTLS).response.status == 101)
        let sameHost = rfcUpgradeRequest(path: "/listed", port: self.port, headers: ["Origin: http://127.0.0.1:\(self.port)"])
        self.expectRefusal(try self.handshake(sameHost), 403, bodyContains: "not allowed")
        #expect(try self.handshake(rfcUpgradeRequest(path: "/listed", port: self.port)).response.status == 101)
    }

    @Test func aStarAdmitsAnyOrigin() throws {
        let request = rfcUpgradeRequest(path: "/anyone", port: self.port, headers: ["Origin: http://whoever.example"])
        #expect(try self.handshake(request).response.status == 101)
    }

    // MARK: Subprotocols

    @Test func theFirstOfferedSubprotocolTheRouteListsIsChosen() throws {
        let request = rfcUpgradeRequest(path: "/chat", port: self.port, headers: ["Sec-WebSocket-Protocol: other, superchat, chat"])
        let (response, _, _) = try self.handshake(request)
        #expect(response.status == 101)
        #expect(response.headers["sec-websocket-protocol"] == "superchat")
    }

    @Test func noSubprotocolIsChosenWhenNoneMatches() throws {
        let request = rfcUpgradeRequest(path: "/chat", port: self.port, headers: ["Sec-WebSocket-Protocol: other"])
        let (response, _, _) = try self.handshake(request)
        #expect(response.status == 101)
        #expect(response.headers["sec-websocket-protocol"] == nil)
    }

    @Test func pythonWebsocketsNegotiatesTheRoutesSubprotocol() throws {
        let lines = try rfcPython("""
            async def main():
                async with websockets.connect(URL + "/chat", subprotocols=["superchat", "chat"]) as ws:
                    print(ws.subprotocol)
            asyncio.run(main())
            """, port: self.port)
        #expect(lines == ["superchat"])
    }

    // MARK: Capacity

    @Test func aRouteAtItsMaxConnectionsAnswers503UntilASlotFrees() throws {
        let first = try rfcOpenWebSocket(port: self.port, path: "/single")
        self.expectRefusal(try self.handshake(rfcUpgradeRequest(path: "/single", port: self.port)), 503, bodyContains: "too many")
        // other routes are not affected
        #expect(try self.handshake(rfcUpgradeRequest(path: "/echo", port: self.port)).response.status == 101)
        first.send(rfcClientClose(1000))
        #expect(first.readToEnd())
        var status = 0
        #expect(rfcWait {
            status = (try? self.handshake(rfcUpgradeRequest(path: "/single", port: self.port)).response.status) ?? 0
            return status == 101
        })
    }
}
