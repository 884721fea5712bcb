import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing
@testable import WSGateTLS

@Suite struct TLSHandlerTests {
    @Test func handshakeCompletesWithALPNHTTP11AndTLS13() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.handshake()
        #expect(pair.serverRecorder.handshakes == [
            TLSHandshakeCompletedEvent(negotiatedALPN: "http/1.1", serverName: "localhost", protocolVersion: "TLSv1.3"),
        ])
        #expect(pair.clientRecorder.handshakes == [
            TLSHandshakeCompletedEvent(negotiatedALPN: "http/1.1", serverName: "localhost", protocolVersion: "TLSv1.3"),
        ])
        #expect(pair.clientHandler.peerCertificateSubject?.contains("CN=localhost") == true)
        #expect(pair.clientRecorder.errors.isEmpty && pair.serverRecorder.errors.isEmpty)
    }

    @Test func clientOfferingNoKnownProtocolHandshakesWithoutALPN() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(alpn: ["h2"]),
                                      server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.handshake()
        #expect(pair.serverRecorder.handshakes.first?.negotiatedALPN == nil)
        #expect(pair.clientRecorder.handshakes.count == 1)
    }

    @Test func dataFlowsBothWays() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.handshake()
        try pair.client.writeAndFlush(ByteBuffer(string: "ping from the client")).wait()
        try pair.server.writeAndFlush(ByteBuffer(string: "pong from the server")).wait()
        try pair.interact()
        #expect(pair.serverRecorder.receivedString == "ping from the client")
        #expect(pair.clientRecorder.receivedString == "pong from the server")
    }

    @Test func fourMebibytesTravelIntactBothWays() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.handshake()
        let payload = ByteBuffer(bytes: (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 13) })
        pair.client.write(payload, promise: nil)
        pair.server.write(payload, promise: nil)
        pair.client.flush()
        pair.server.flush()
        try pair.interact()
        #expect(pair.serverRecorder.received == payload)
        #expect(pair.clientRecorder.received == payload)
    }

    @Test func handshakeAndRecordsSurviveByteByByteDelivery() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.handshake(chunkSize: 1)
        #expect(pair.serverRecorder.handshakes.count == 1)
        #expect(pair.clientRecorder.handshakes.count == 1)
        try pair.client.writeAndFlush(ByteBuffer(string: "one byte at a time")).wait()
        try pair.interact(chunkSize: 1)
        #expect(pair.serverRecorder.receivedString == "one byte at a time")
    }

    @Test func writesBeforeTheHandshakeAreSentAfterIt() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.activate()
        let written = pair.client.writeAndFlush(ByteBuffer(string: "early words"))
        #expect(pair.serverRecorder.receivedString.isEmpty)
        try pair.interact()
        try written.wait()
        #expect(pair.serverRecorder.receivedString == "early words")
    }

    @Test func writesAreSentAsOneBufferPerFlush() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.handshake()
        let writes = (1...3).map { pair.client.write(ByteBuffer(string: "part \($0);")) }
        #expect(try pair.client.readOutbound(as: ByteBuffer.self) == nil)
        pair.client.flush()
        #expect(try pair.client.readOutbound(as: ByteBuffer.self) != nil)
        #expect(try pair.client.readOutbound(as: ByteBuffer.self) == nil)
        for write in writes { try write.wait() }
    }

    @Test func smallWritesGoOutAsOneRecordPerFlush() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.handshake()
        let messages = (0..<100).map { String(format: "message %03d, fifty-one bytes: ...................;", $0) }
        let writes = messages.map { pair.client.write(ByteBuffer(string: $0)) }
        pair.client.flush()
        let ciphertext = try #require(try pair.client.readOutbound(as: ByteBuffer.self))
        // One TLS 1.3 record: 5-byte header, the plaintext, its content type byte, a 16-byte tag.
        #expect(ciphertext.readableBytes == messages.joined().utf8.count + 22)
        try pair.server.writeInbound(ciphertext)
        for write in writes { try write.wait() }
        #expect(pair.serverRecorder.receivedString == messages.joined())
    }

    @Test func recordsThatArriveInOneReadAreAllDelivered() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.handshake()
        var together = ByteBuffer()
        for part in ["first record;", "second record;", String(repeating: "3", count: 20_000)] {
            pair.client.writeAndFlush(ByteBuffer(string: part), promise: nil)
            while var ciphertext = try pair.client.readOutbound(as: ByteBuffer.self) {
                together.writeBuffer(&ciphertext)
            }
        }
        try pair.server.writeInbound(together)  // four records (the long one is two) in one read
        #expect(pair.serverRecorder.receivedString == "first record;second record;" + String(repeating: "3", count: 20_000))
    }

    @Test func gatheredWritesKeepTheirOrderAroundALargeOne() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.handshake()
        let large = String(repeating: "L", count: 40_000)
        let parts = ["a", "b", "c", large, "y", "z"]
        var promises: [EventLoopFuture<Void>] = []
        let completed = NIOLockedValueBox(0)
        for part in parts {
            let promise = pair.client.write(ByteBuffer(string: part))
            promise.whenComplete { _ in completed.withLockedValue { $0 += 1 } }
            promises.append(promise)
        }
        #expect(completed.withLockedValue { $0 } == 0, "nothing is sent before the flush")
        pair.client.flush()
        try pair.interact()
        for promise in promises { try promise.wait() }
        #expect(pair.serverRecorder.receivedString == parts.joined())
    }

    @Test func gatheredWritesFailWhenTheChannelCloses() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.handshake()
        let write = pair.client.write(ByteBuffer(string: "never flushed"))
        pair.client.pipeline.fireChannelInactive()
        #expect(throws: ChannelError.self) { try write.wait() }
    }

    @Test func sniSelectsTheOtherCertificateForOtherTest() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext(),
                                      serverName: "OTHER.test")
        defer { pair.tearDown() }
        try pair.handshake()
        #expect(pair.clientRecorder.errors.isEmpty)  // the client checked the name against the certificate
        #expect(pair.serverRecorder.handshakes.first?.serverName == "OTHER.test")
        #expect(pair.clientHandler.peerCertificateSubject?.contains("CN=other.test") == true)
    }

    @Test func unknownServerNameGetsTheDefaultCertificate() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(verify: false),
                                      server: TestCertificates.serverContext(), serverName: "unknown.test")
        defer { pair.tearDown() }
        try pair.handshake()
        #expect(pair.clientHandler.peerCertificateSubject?.contains("CN=localhost") == true)
    }

    @Test func clientRefusesACertificateForAnotherName() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext(),
                                      serverName: "elsewhere.test")
        defer { pair.tearDown() }
        try pair.handshake()
        let reasons = pair.clientRecorder.tlsErrors.first?.reasons.joined() ?? ""
        #expect(reasons.contains("certificate verify failed"))
        #expect(!pair.client.isActive)
        #expect(pair.serverRecorder.handshakes.isEmpty)
    }

    @Test func clientNamingAnIPAddressChecksItAgainstTheCertificate() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext(),
                                      serverName: "127.0.0.1")
        defer { pair.tearDown() }
        try pair.handshake()
        #expect(pair.clientRecorder.errors.isEmpty)
        #expect(pair.serverRecorder.handshakes.first?.serverName == nil)  // no SNI for an IP address
    }

    @Test func clientCloseSendsCloseNotifyAfterPendingDataAndServerCloses() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.handshake()
        pair.client.write(ByteBuffer(string: "last words"), promise: nil)
        let closed = pair.client.close()
        try pair.interact()
        try closed.wait()
        #expect(pair.serverRecorder.receivedString == "last words")
        #expect(pair.serverRecorder.isInactive)
        #expect(!pair.server.isActive)
        #expect(pair.serverRecorder.errors.isEmpty)
    }

    @Test func garbageInsteadOfAClientHelloFailsWithOpenSSLsReason() throws {
        let server = EmbeddedChannel()
        let recorder = RecordingHandler()
        try server.pipeline.syncOperations.addHandlers([
            TLSHandler(context: TestCertificates.serverContext(), role: .server), recorder,
        ])
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4433)).wait()
        try server.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
        guard case .handshakeFailed(let reasons)? = recorder.tlsErrors.first else {
            Issue.record("expected handshakeFailed, got \(recorder.errors)")
            return
        }
        #expect(reasons.contains { $0.contains("SSL routines") && $0.contains("http request") })
        #expect(!server.isActive)
    }

    @Test func tls10OnlyClientIsRefused() throws {
        let legacy = try TLSContext.client(trustedCAPath: nil, verifyPeer: false, alpn: [],
                                           versions: .tls1 ... .tls1, securityLevel: 0)
        let pair = try BackToBackPair(client: legacy, server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.handshake()
        #expect(pair.serverRecorder.handshakes.isEmpty)
        let reasons = pair.serverRecorder.tlsErrors.first?.reasons.joined() ?? ""
        #expect(reasons.contains("unsupported protocol"))
        #expect(!pair.server.isActive)
        #expect(!pair.clientRecorder.tlsErrors.isEmpty)
    }

    @Test func peerClosingMidHandshakeIsReportedAsAFailedHandshake() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.activate()
        pair.client.pipeline.fireChannelInactive()  // as if the server hung up after our ClientHello
        guard case .handshakeFailed? = pair.clientRecorder.tlsErrors.first else {
            Issue.record("expected handshakeFailed, got \(pair.clientRecorder.errors)")
            return
        }
        #expect(pair.clientRecorder.isInactive)
    }

    @Test func closingLocallyMidHandshakeIsNotAnError() throws {
        let pair = try BackToBackPair(client: TestCertificates.clientContext(), server: TestCertificates.serverContext())
        defer { pair.tearDown() }
        try pair.activate()
        let early = pair.client.write(ByteBuffer(string: "never sent"))
        try pair.client.close().wait()
        #expect(pair.clientRecorder.errors.isEmpty)
        #expect(throws: ChannelError.ioOnClosedChannel) { try early.wait() }
    }
}
