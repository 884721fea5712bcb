import Foundation
import NIOCore
import Testing
import WSGateClient
import WSGateWire

/// `WebSocketClient` with permessage-deflate (RFC 7692): against the gateway (its echo route
/// negotiates 12-bit windows, its room route answers server_no_context_takeover), against python
/// `websockets` 10.4 as an independent server, and against canned answers that break the rules.
///
/// That messages really travel compressed is seen on the wire: a `WireByteCounter` counts what
/// the client's sockets read and wrote.
@Suite(.serialized, .timeLimit(.minutes(1)))
final class WSGateClientCompressionTests {
    let harness: GatewayHarness
    var port: Int { self.harness.port }

    init() throws {
        self.harness = try GatewayHarness(
            yaml: GatewayHarness.yaml(routes: """
                  - path: /echo
                    echo: true
                  - path: /rooms/*
                    room: "*"
                    origins: ["*"]

                """))
    }

    deinit { self.harness.stop() }

    static func configuration(
        port: Int, path: String, offer: PerMessageDeflateClientOffer? = PerMessageDeflateClientOffer(),
        counter: WireByteCounter? = nil, maxMessageSize: Int = 16 << 20
    ) -> WebSocketClientConfiguration {
        var configuration = LegacyTestSupport.configuration(port: port, path: path, dialect: .rfc6455, maxMessageSize: maxMessageSize)
        configuration.compression = offer
        configuration.wireCounter = counter
        return configuration
    }

    /// Chat-like JSON text of exactly `bytes` bytes (at least 40): compresses well, as real messages do.
    static func json(bytes: Int, seed: Int = 0) -> String {
        let words = ["hello", "there", "meeting", "tomorrow", "at", "noon", "the", "build", "is", "green", "again", "thanks"]
        var text = "{\"user\":\"u\(seed)\",\"seq\":\(seed),\"text\":\""
        var index = UInt(seed)
        while text.utf8.count + 8 + 2 < bytes {
            text += words[Int(index % UInt(words.count))] + " "
            index = index &* 7 &+ 3
        }
        text += String(repeating: ".", count: max(0, bytes - 2 - text.utf8.count))
        return text + "\"}"
    }

    static func randomBytes(_ count: Int) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { _ in UInt8.random(in: .min ... .max) })
    }

    @Test func echoNegotiatesAndRoundTripsTextAndBinaryLargeAndSmallCompressedBothWays() async throws {
        let counter = WireByteCounter()
        let client = try await AsyncWebSocketClient.connect(Self.configuration(port: self.port, path: "/echo", counter: counter))
        // The echo route answers a browser-like offer with 12-bit windows both ways.
        #expect(client.client.negotiatedCompression == PerMessageDeflateParameters(serverMaxWindowBits: 12, clientMaxWindowBits: 12))
        #expect(client.client.responseHeaders.contains { $0.0.lowercased() == "sec-websocket-extensions" })

        // Small (below compressionMinBytes), empty, unicode.
        for text in ["", "hi", "héllo € ✓"] {
            client.send(text)
            #expect(try await client.nextText() == text)
        }
        // Large compressible text and binary, several in a row (context takeover both ways).
        let readBefore = counter.bytesRead
        let writtenBefore = counter.bytesWritten
        var plainBytes = 0
        for seed in 0..<5 {
            let text = Self.json(bytes: 64 * 1024, seed: seed)
            client.send(text)
            #expect(try await client.nextText() == text)
            let binary = ByteBuffer(string: Self.json(bytes: 100_000, seed: seed + 10))
            client.send(.binary(binary))
            #expect(try await client.next() == .binary(binary))
            plainBytes += text.utf8.count + binary.readableBytes
        }
        let read = counter.bytesRead - readBefore
        let written = counter.bytesWritten - writtenBefore
        // JSON-like text compresses to well under a fifth, in both directions.
        #expect(written < plainBytes / 5, "wrote \(written) bytes for \(plainBytes) of messages")
        #expect(read < plainBytes / 5, "read \(read) bytes for \(plainBytes) of messages")

        // Incompressible: sent plain (and the compressor's window dropped); later messages still inflate.
        let noise = Self.randomBytes(8192)
        let beforeNoise = counter.bytesWritten
        client.send(.binary(noise))
        #expect(try await client.next() == .binary(noise))
        #expect(counter.bytesWritten - beforeNoise == 8192 + 8)  // 2 + 2 length + 4 mask bytes of header
        let after = Self.json(bytes: 4096, seed: 99)
        client.send(after)
        #expect(try await client.nextText() == after)
        try await client.close()
    }

    @Test func noOfferMeansNoExtensionAndPlainFrames() async throws {
        let counter = WireByteCounter()
        let client = try await AsyncWebSocketClient.connect(Self.configuration(port: self.port, path: "/echo", offer: nil, counter: counter))
        #expect(client.client.negotiatedCompression == nil)
        #expect(!client.client.responseHeaders.contains { $0.0.lowercased() == "sec-websocket-extensions" })
        let text = Self.json(bytes: 4096)
        let before = counter.bytesWritten
        client.send(text)
        #expect(try await client.nextText() == text)
        #expect(counter.bytesWritten - before == 4096 + 8)
        try await client.close()
    }

    @Test func roomMembersSendAndReceiveCompressedWithServerNoContextTakeover() async throws {
        let senderCounter = WireByteCounter()
        let receiverCounter = WireByteCounter()
        let sender = try await AsyncWebSocketClient.connect(Self.configuration(port: self.port, path: "/rooms/zip", counter: senderCounter))
        let receiver = try await AsyncWebSocketClient.connect(Self.configuration(port: self.port, path: "/rooms/zip", counter: receiverCounter))
        let expected = PerMessageDeflateParameters(serverNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 12)
        #expect(sender.client.negotiatedCompression == expected)
        #expect(receiver.client.negotiatedCompression == expected)
        try await Task.sleep(for: .milliseconds(200))  // both joined
        let readBefore = receiverCounter.bytesRead
        let writtenBefore = senderCounter.bytesWritten
        var total = 0
        for seed in 0..<20 {
            let text = Self.json(bytes: 1024, seed: seed)
            total += text.utf8.count
            sender.send(text)
            #expect(try await receiver.nextText() == text)
            #expect(try await sender.nextText() == text)  // the sender is a member too
        }
        #expect(senderCounter.bytesWritten - writtenBefore < total / 2)
        #expect(receiverCounter.bytesRead - readBefore < total / 2)
        try await sender.close()
        try await receiver.close()
    }

    @Test func aMessageOverTheLimitOnceInflatedClosesWith1009() async throws {
        let client = try await AsyncWebSocketClient.connect(Self.configuration(port: self.port, path: "/echo", maxMessageSize: 1000))
        // 50 KiB of one letter: a few hundred bytes compressed, over the client's limit inflated.
        client.send(String(repeating: "a", count: 50_000))
        let close = try await client.closeEvent()
        #expect(close.code == .messageTooBig)
    }

    // MARK: - Python websockets as the server

    /// An echo server (python websockets 10.4, compression on by default) on an ephemeral port;
    /// prints the port, exits by itself after 30 s.
    static let pythonEchoServer = """
        import asyncio, websockets
        async def echo(ws, path):
            async for message in ws:
                await ws.send(message)
        async def main():
            async with websockets.serve(echo, "127.0.0.1", 0, max_size=None) as server:
                print(server.sockets[0].getsockname()[1], flush=True)
                await asyncio.sleep(30)
        asyncio.run(main())
        """

    static func startPython() throws -> (LegacyBackgroundProcess, Int) {
        let server = try LegacyBackgroundProcess("/usr/bin/python3", ["-c", Self.pythonEchoServer])
        guard let line = server.firstLine(), let port = Int(line.trimmingCharacters(in: .whitespaces)) else {
            server.stop()
            throw WebSocketClientError.invalidHandshakeResponse("python websockets server did not print its port")
        }
        return (server, port)
    }

    @Test func pythonWebsocketsNegotiatesAndEchoesCompressed() async throws {
        let (server, port) = try Self.startPython()
        defer { server.stop() }
        let counter = WireByteCounter()
        let client = try await AsyncWebSocketClient.connect(Self.configuration(port: port, path: "/", counter: counter))
        // websockets' server default: 12-bit windows both ways.
        #expect(client.client.negotiatedCompression == PerMessageDeflateParameters(serverMaxWindowBits: 12, clientMaxWindowBits: 12))
        let readBefore = counter.bytesRead
        let writtenBefore = counter.bytesWritten
        var total = 0
        for seed in 0..<10 {
            let text = Self.json(bytes: 2048 + seed * 997, seed: seed)
            client.send(text)
            #expect(try await client.nextText() == text)
            let binary = ByteBuffer(string: Self.json(bytes: 30_000, seed: seed + 50))
            client.send(.binary(binary))
            #expect(try await client.next() == .binary(binary))
            total += text.utf8.count + binary.readableBytes
        }
        for small in ["", "x", "short one"] {
            client.send(small)
            #expect(try await client.nextText() == small)
        }
        let noise = Self.randomBytes(5000)
        client.send(.binary(noise))
        #expect(try await client.next() == .binary(noise))
        let last = Self.json(bytes: 3000, seed: 7)
        client.send(last)
        #expect(try await client.nextText() == last)
        #expect(counter.bytesWritten - writtenBefore < total / 4 + 5100, "python inflated what we compressed")
        #expect(counter.bytesRead - readBefore < total / 4 + 5100, "we inflated what python compressed")
        try await client.close()
    }

    @Test func pythonWebsocketsHonoursNoContextTakeoverAndSmallerWindows() async throws {
        let (server, port) = try Self.startPython()
        defer { server.stop() }
        let offer = PerMessageDeflateClientOffer(
            serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11)
        let client = try await AsyncWebSocketClient.connect(Self.configuration(port: port, path: "/", offer: offer))
        let parameters = try #require(client.client.negotiatedCompression)
        #expect(parameters.serverNoContextTakeover)
        #expect(parameters.clientNoContextTakeover)
        #expect(parameters.serverMaxWindowBits == 10)
        #expect(parameters.clientMaxWindowBits <= 11)
        for seed in 0..<6 {
            let text = Self.json(bytes: 5000, seed: seed)
            client.send(text)
            #expect(try await client.nextText() == text)
        }
        try await client.close()
    }

    // MARK: - Answers that break the offer

    /// A 101 for `request` with `extensions` (if any) as its `Sec-WebSocket-Extensions`.
    static func answer(_ request: String, extensions: String?) -> [UInt8] {
        let key = request.legacyHeader("Sec-WebSocket-Key") ?? ""
        var head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        head += "Sec-WebSocket-Accept: \(RFC6455Handshake.acceptValue(forKey: key))\r\n"
        if let extensions { head += "Sec-WebSocket-Extensions: \(extensions)\r\n" }
        return Array((head + "\r\n").utf8)
    }

    @Test func theRequestCarriesTheOffer() async throws {
        let requests = RequestLog()
        let server = try LegacyCannedServer { request in
            requests.append(request)
            return Self.answer(request, extensions: nil)
        }
        defer { server.stop() }
        let offer = PerMessageDeflateClientOffer(serverNoContextTakeover: true, clientMaxWindowBits: 10)
        let client = try await AsyncWebSocketClient.connect(Self.configuration(port: server.port, path: "/", offer: offer))
        // No answer: no compression, and messages go plain.
        #expect(client.client.negotiatedCompression == nil)
        #expect(requests.first?.legacyHeader("Sec-WebSocket-Extensions") == "permessage-deflate; server_no_context_takeover; client_max_window_bits=10")
        let plain = try await AsyncWebSocketClient.connect(Self.configuration(port: server.port, path: "/", offer: nil))
        #expect(requests.last?.legacyHeader("Sec-WebSocket-Extensions") == nil)
        _ = plain
    }

    @Test(arguments: [
        ("permessage-deflate; client_max_window_bits=12", PerMessageDeflateResponseError.notAllowedByOffer(
            parameter: "client_max_window_bits", reason: "12 is above the offered 10")),
        ("permessage-deflate; mystery", .unknownParameter("mystery")),
        ("x-webkit-deflate-frame", .extensionNotOffered("x-webkit-deflate-frame")),
        ("permessage-deflate, permessage-deflate", .multipleAcceptances),
        ("permessage-deflate; server_max_window_bits=8", .invalidValue(parameter: "server_max_window_bits", value: "8")),
    ])
    func aBadAnswerFailsTheHandshake(extensions: String, reason: PerMessageDeflateResponseError) async throws {
        let server = try LegacyCannedServer { Self.answer($0, extensions: extensions) }
        defer { server.stop() }
        let offer = PerMessageDeflateClientOffer(clientMaxWindowBits: 10)
        await #expect(throws: WebSocketClientError.compressionResponseRejected(header: extensions, reason: reason)) {
            _ = try await AsyncWebSocketClient.connect(Self.configuration(port: server.port, path: "/", offer: offer))
        }
    }

    /// A 101 accepting `permessage-deflate` followed at once by one server frame with RSV1 whose
    /// payload is `bytes` deflated (no tail), text or binary.
    static func answerThenCompressedFrame(_ request: String, extensions: String?, bytes: [UInt8], opcode: RFC6455FrameEncoder.Opcode) -> [UInt8] {
        let frame = RFC6455FrameEncoder.compressedMessageFrame(opcode: opcode, message: ByteBuffer(bytes: bytes), deflater: Deflater())
        return Self.answer(request, extensions: extensions) + Array(frame.readableBytesView)
    }

    @Test func aCompressedTextThatIsNotUTF8OnceInflatedClosesWith1007() async throws {
        let server = try LegacyCannedServer {
            Self.answerThenCompressedFrame($0, extensions: "permessage-deflate", bytes: Array(repeating: 0xFF, count: 200), opcode: .text)
        }
        defer { server.stop() }
        let client = try await AsyncWebSocketClient.connect(Self.configuration(port: server.port, path: "/"))
        #expect(client.client.negotiatedCompression == PerMessageDeflateParameters())
        let close = try await client.closeEvent()
        #expect(close.code == .invalidPayload)
    }

    @Test func aCompressedBinaryFromACannedServerIsInflated() async throws {
        let payload = Array(Self.json(bytes: 3000).utf8)
        let server = try LegacyCannedServer {
            Self.answerThenCompressedFrame($0, extensions: "permessage-deflate", bytes: payload, opcode: .binary)
        }
        defer { server.stop() }
        let client = try await AsyncWebSocketClient.connect(Self.configuration(port: server.port, path: "/"))
        #expect(try await client.next() == .binary(ByteBuffer(bytes: payload)))
    }

    @Test func rsv1WithoutNegotiatedCompressionClosesWith1002() async throws {
        let server = try LegacyCannedServer {
            Self.answerThenCompressedFrame($0, extensions: nil, bytes: Array("hello hello hello".utf8), opcode: .text)
        }
        defer { server.stop() }
        // Offered, but the server did not accept: RSV1 is then a protocol error (RFC 6455 section 5.2).
        let client = try await AsyncWebSocketClient.connect(Self.configuration(port: server.port, path: "/"))
        #expect(client.client.negotiatedCompression == nil)
        let close = try await client.closeEvent()
        #expect(close.code == .protocolError)
    }

    @Test func anAnswerWithoutAnOfferFailsTheHandshake() async throws {
        let server = try LegacyCannedServer { Self.answer($0, extensions: "permessage-deflate") }
        defer { server.stop() }
        await #expect(throws: WebSocketClientError.invalidHandshakeResponse("extension permessage-deflate was not offered")) {
            _ = try await AsyncWebSocketClient.connect(Self.configuration(port: server.port, path: "/", offer: nil))
        }
    }
}

/// Requests a canned server saw, in order.
final class RequestLog: @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [String] = []

    func append(_ request: String) {
        self.lock.withLock { self.requests.append(request) }
    }

    var first: String? { self.lock.withLock { self.requests.first } }
    var last: String? { self.lock.withLock { self.requests.last } }
}
