import NIOCore
import Testing
import WSGateWire

@Suite(.serialized, .timeLimit(.minutes(1)))
struct RFC6455HandshakeTests {
    static func head(
        method: String = "GET", minor: Int = 1, version: String? = "13", upgrade: String? = "websocket",
        connection: String? = "Upgrade", key: String? = "dGhlIHNhbXBsZSBub25jZQ==", extra: [(String, String)] = []
    ) -> HTTPRequestHead {
        var headers: [(name: String, value: String)] = [("Host", "server.example.com")]
        if let upgrade { headers.append(("Upgrade", upgrade)) }
        if let connection { headers.append(("Connection", connection)) }
        if let key { headers.append(("Sec-WebSocket-Key", key)) }
        if let version { headers.append(("Sec-WebSocket-Version", version)) }
        for (name, value) in extra { headers.append((name, value)) }
        return HTTPRequestHead(method: method, target: "/chat", minorVersion: minor, headers: headers)
    }

    @Test func theAcceptValueMatchesTheRFCSection13Example() {
        #expect(RFC6455Handshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func theServerResponseCarriesTheAcceptValueAndEndsWithAnEmptyLine() {
        let response = RFC6455Handshake.serverResponse(key: "dGhlIHNhbXBsZSBub25jZQ==", subprotocol: "chat")
        let text = String(buffer: response)
        #expect(text.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(text.contains("\r\nUpgrade: websocket\r\n"))
        #expect(text.contains("\r\nConnection: Upgrade\r\n"))
        #expect(text.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
        #expect(text.contains("\r\nSec-WebSocket-Protocol: chat\r\n"))
        #expect(!text.contains("Sec-WebSocket-Extensions"))
        #expect(text.hasSuffix("\r\n\r\n"))
    }

    @Test func theServerResponseLeavesOutTheProtocolHeaderWhenNoneWasChosen() {
        let text = String(buffer: RFC6455Handshake.serverResponse(key: "dGhlIHNhbXBsZSBub25jZQ==", subprotocol: nil))
        #expect(!text.contains("Sec-WebSocket-Protocol"))
    }

    @Test(arguments: ["13", "8", "7"])
    func versionsThirteenEightAndSevenAreAccepted(_ version: String) throws {
        let request = try RFC6455Handshake.validate(Self.head(version: version))
        #expect(request.version == UInt8(version))
        #expect(request.key == "dGhlIHNhbXBsZSBub25jZQ==")
    }

    @Test(arguments: ["9", "0", "14", "abc", "13, 8", "256"])
    func otherVersionsAreUnsupported(_ version: String) {
        #expect(throws: WireError.unsupportedVersion(version)) { try RFC6455Handshake.validate(Self.head(version: version)) }
    }

    @Test func aMissingVersionIsUnsupported() {
        #expect(throws: WireError.unsupportedVersion("none")) { try RFC6455Handshake.validate(Self.head(version: nil)) }
    }

    @Test func headerNamesAndTokensAreCaseInsensitive() throws {
        let head = HTTPRequestHead(
            method: "GET", target: "/", minorVersion: 1,
            headers: [
                ("upgrade", "WebSocket"), ("CONNECTION", "keep-alive, UPGRADE"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="), ("SEC-WEBSOCKET-VERSION", "13"),
            ])
        #expect(try RFC6455Handshake.validate(head).version == 13)
    }

    @Test func aMethodOtherThanGetIsRefused() {
        #expect(throws: WireError.self) { try RFC6455Handshake.validate(Self.head(method: "POST")) }
    }

    @Test func httpOneZeroIsRefused() {
        #expect(throws: WireError.self) { try RFC6455Handshake.validate(Self.head(minor: 0)) }
    }

    @Test func aMissingUpgradeHeaderIsRefused() {
        #expect(throws: WireError.missingHeader("Upgrade")) { try RFC6455Handshake.validate(Self.head(upgrade: nil)) }
    }

    @Test func anUpgradeToSomethingElseIsRefused() {
        #expect(throws: WireError.invalidHeader(name: "Upgrade", reason: "must name websocket")) {
            try RFC6455Handshake.validate(Self.head(upgrade: "h2c"))
        }
    }

    @Test func aMissingConnectionHeaderIsRefused() {
        #expect(throws: WireError.missingHeader("Connection")) { try RFC6455Handshake.validate(Self.head(connection: nil)) }
    }

    @Test func aConnectionHeaderWithoutUpgradeIsRefused() {
        #expect(throws: WireError.invalidHeader(name: "Connection", reason: "must include Upgrade")) {
            try RFC6455Handshake.validate(Self.head(connection: "keep-alive"))
        }
    }

    @Test func aMissingKeyIsRefused() {
        #expect(throws: WireError.missingHeader("Sec-WebSocket-Key")) { try RFC6455Handshake.validate(Self.head(key: nil)) }
    }

    @Test(arguments: ["", "not base64!", "AAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAA", "dGhlIHNhbXBsZSBub25jZQ"])
    func aKeyThatIsNotSixteenBytesOfBase64IsRefused(_ key: String) {
        #expect(throws: WireError.invalidHeader(name: "Sec-WebSocket-Key", reason: "must be 16 bytes in base64")) {
            try RFC6455Handshake.validate(Self.head(key: key))
        }
    }

    @Test func offeredSubprotocolsAreKeptInTheClientsOrder() throws {
        let request = try RFC6455Handshake.validate(
            Self.head(extra: [("Sec-WebSocket-Protocol", "superchat, chat"), ("Sec-WebSocket-Protocol", "v2")]))
        #expect(request.offeredSubprotocols == ["superchat", "chat", "v2"])
        #expect(!request.offersPermessageDeflate)
    }

    @Test func aPermessageDeflateOfferIsNoticed() throws {
        let request = try RFC6455Handshake.validate(
            Self.head(extra: [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]))
        #expect(request.offersPermessageDeflate)
    }

    @Test func theFirstOfferedSubprotocolTheServerListsIsChosen() {
        #expect(RFC6455Handshake.selectSubprotocol(offered: ["superchat", "chat"], supported: ["chat", "superchat"]) == "superchat")
        #expect(RFC6455Handshake.selectSubprotocol(offered: ["x", "chat"], supported: ["chat", "superchat"]) == "chat")
        #expect(RFC6455Handshake.selectSubprotocol(offered: ["x", "y"], supported: ["chat"]) == nil)
        #expect(RFC6455Handshake.selectSubprotocol(offered: [], supported: ["chat"]) == nil)
        #expect(RFC6455Handshake.selectSubprotocol(offered: ["chat"], supported: []) == nil)
    }

    @Test func theSupportedVersionsArePreferredNewestFirst() {
        #expect(RFC6455Handshake.supportedVersions == [13, 8, 7])
    }
}
