import NIOCore
import NIOPosix
import Testing
@testable import WSGateTLS

/// Client-side session resumption (`TLSSessionCache`) against our own server `TLSHandler`: back to back
/// on embedded channels, and over loopback sockets from several event loops.
@Suite(.timeLimit(.minutes(1))) struct TLSSessionResumptionTests {
    /// One back-to-back connection from `client` to `server`, handshake done and the server's
    /// post-handshake tickets read; returns (client resumed, server resumed).
    private func connect(
        _ client: TLSContext, _ server: TLSContext, serverName: String? = "localhost"
    ) throws -> (client: Bool?, server: Bool?) {
        let pair = try BackToBackPair(client: client, server: server, serverName: serverName)
        defer { pair.tearDown() }
        try pair.handshake()
        #expect(pair.clientRecorder.errors.isEmpty && pair.serverRecorder.errors.isEmpty)
        #expect(pair.clientRecorder.handshakes.count == 1 && pair.serverRecorder.handshakes.count == 1)
        return (pair.clientRecorder.handshakes.first?.sessionResumed, pair.serverRecorder.handshakes.first?.sessionResumed)
    }

    private func resumingClient(_ cache: TLSSessionCache) throws -> TLSContext {
        try TLSContext.client(trustedCAPath: TestCertificates.path("ca.crt"), verifyPeer: true, alpn: ["http/1.1"],
                              sessionCache: cache)
    }

    @Test func theFirstConnectionIsFullAndTheNextOnesResume() throws {
        let cache = TLSSessionCache()
        let client = try self.resumingClient(cache)
        let server = try TestCertificates.serverContext()
        #expect(client.sessionCache === cache)
        #expect(!cache.hasSession(forServerName: "localhost"))

        let first = try self.connect(client, server)
        #expect(first.client == false && first.server == false)
        #expect(cache.hasSession(forServerName: "localhost"), "the server's TLS 1.3 ticket was stored")
        #expect(cache.statistics.handshakes == 1 && cache.statistics.resumed == 0 && cache.statistics.offered == 0)
        #expect(cache.statistics.stored >= 1)

        for _ in 0..<3 {
            let next = try self.connect(client, server)
            #expect(next.client == true && next.server == true)
        }
        #expect(cache.statistics.handshakes == 4 && cache.statistics.resumed == 3 && cache.statistics.offered == 3)
    }

    @Test func withoutACacheNothingResumes() throws {
        let client = try TestCertificates.clientContext()
        let server = try TestCertificates.serverContext()
        #expect(client.sessionCache == nil)
        for _ in 0..<3 {
            let result = try self.connect(client, server)
            #expect(result.client == false && result.server == false)
        }
        let explicitNil = try TLSContext.client(
            trustedCAPath: TestCertificates.path("ca.crt"), verifyPeer: true, alpn: ["http/1.1"], sessionCache: nil)
        #expect(explicitNil.sessionCache == nil)
        #expect(try self.connect(explicitNil, server).client == false)
    }

    @Test func tls12SessionsResumeToo() throws {
        let cache = TLSSessionCache()
        let client = try TLSContext.client(
            trustedCAPath: TestCertificates.path("ca.crt"), verifyPeer: true, alpn: ["http/1.1"], versions: .tls1_2 ... .tls1_2,
            sessionCache: cache)
        let server = try TestCertificates.serverContext()
        let pair = try BackToBackPair(client: client, server: server)
        defer { pair.tearDown() }
        try pair.handshake()
        #expect(pair.clientRecorder.handshakes.first?.protocolVersion == "TLSv1.2")
        #expect(pair.clientRecorder.handshakes.first?.sessionResumed == false)
        let second = try self.connect(client, server)
        #expect(second.client == true && second.server == true)
        #expect(cache.statistics.resumed == 1)
    }

    /// A resumed handshake checks no certificate, so a session stands for the name it was verified for.
    @Test func sessionsAreKeptPerServerName() throws {
        let cache = TLSSessionCache()
        let client = try self.resumingClient(cache)
        let server = try TestCertificates.serverContext()
        #expect(try self.connect(client, server, serverName: "localhost").client == false)
        #expect(try self.connect(client, server, serverName: "127.0.0.1").client == false, "another name: a full handshake")
        #expect(try self.connect(client, server, serverName: "localhost").client == true)
        #expect(try self.connect(client, server, serverName: "127.0.0.1").client == true)
        #expect(cache.hasSession(forServerName: "localhost") && cache.hasSession(forServerName: "127.0.0.1"))
        #expect(!cache.hasSession(forServerName: nil))
    }

    /// OpenSSL marks a connection's session not resumable when the connection is freed without a
    /// close_notify: the cache's copy is not that session.
    @Test func aConnectionEndingWithoutCloseNotifyLeavesItsSessionResumable() throws {
        let cache = TLSSessionCache()
        let client = try self.resumingClient(cache)
        let server = try TestCertificates.serverContext()
        let pair = try BackToBackPair(client: client, server: server)
        try pair.handshake()
        #expect(cache.hasSession(forServerName: "localhost"))
        try pair.client.pipeline.syncOperations.removeHandler(pair.clientHandler).wait()  // frees its SSL, no close_notify
        pair.tearDown()
        #expect(try self.connect(client, server).client == true)
    }

    @Test func aServerThatCannotReadTheTicketGetsAFullHandshake() throws {
        let cache = TLSSessionCache()
        let client = try self.resumingClient(cache)
        #expect(try self.connect(client, TestCertificates.serverContext()).client == false)
        // Another server context has other ticket keys (as after a certificate reload).
        let other = try self.connect(client, TestCertificates.serverContext())
        #expect(other.client == false && other.server == false)
        #expect(cache.statistics.offered == 1 && cache.statistics.resumed == 0)
    }

    @Test func removeAllForgetsTheSessions() throws {
        let cache = TLSSessionCache()
        let client = try self.resumingClient(cache)
        let server = try TestCertificates.serverContext()
        _ = try self.connect(client, server)
        cache.removeAll()
        #expect(!cache.hasSession(forServerName: "localhost"))
        #expect(try self.connect(client, server).client == false)
        #expect(try self.connect(client, server).client == true)
    }

    @Test func aFullCacheKeepsNoSessionForNewNames() throws {
        let cache = TLSSessionCache(maximumServerNames: 1)
        let client = try self.resumingClient(cache)
        let server = try TestCertificates.serverContext()
        _ = try self.connect(client, server, serverName: "localhost")
        _ = try self.connect(client, server, serverName: "127.0.0.1")
        #expect(try self.connect(client, server, serverName: "127.0.0.1").client == false)
        #expect(try self.connect(client, server, serverName: "localhost").client == true)
    }

    /// The context holds the cache (through its SSL_CTX) and lets it go with the last connection.
    @Test func theCacheIsReleasedWithItsContext() throws {
        weak var released: TLSSessionCache?
        weak var releasedContext: TLSContext?
        try {
            let cache = TLSSessionCache()
            released = cache
            let client = try self.resumingClient(cache)
            releasedContext = client
            let server = try TestCertificates.serverContext()
            _ = try self.connect(client, server)
            #expect(try self.connect(client, server).client == true)
        }()
        #expect(releasedContext == nil)
        #expect(released == nil)
    }

    /// Over loopback sockets, from four client event loops at once: after one full handshake, every
    /// connection offers the stored session and the server resumes it.
    @Test func concurrentConnectionsOverLoopbackResume() async throws {
        let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 4)
        let serverContext = try TestCertificates.serverContext()
        let listener = try await ServerBootstrap(group: serverGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TLSHandler(context: serverContext, role: .server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(listener.localAddress?.port)
        let cache = TLSSessionCache()
        let client = try self.resumingClient(cache)

        func handshake() -> EventLoopFuture<(Channel, Bool)> {
            let loop = clientGroup.next()
            let resumed = loop.makePromise(of: Bool.self)
            return ClientBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            TLSHandler(context: client, role: .client(serverName: "localhost")), HandshakeWaiter(resumed),
                        ])
                    }
                }
                .connect(host: "127.0.0.1", port: port)
                .flatMap { channel in resumed.futureResult.map { (channel, $0) } }
        }

        let (first, firstResumed) = try await handshake().get()
        #expect(!firstResumed)
        for _ in 0..<200 where !cache.hasSession(forServerName: "localhost") {
            try await Task.sleep(for: .milliseconds(10))  // the tickets follow the handshake
        }
        #expect(cache.hasSession(forServerName: "localhost"))
        let results = try await EventLoopFuture.whenAllSucceed((0..<24).map { _ in handshake() }, on: clientGroup.next()).get()
        #expect(results.allSatisfy { $0.1 }, "every later connection resumed: \(results.map(\.1)) \(cache.statistics)")
        #expect(cache.statistics.resumed == 24 && cache.statistics.handshakes == 25)

        for channel in [first] + results.map(\.0) { try? await channel.close() }
        try await listener.close()
        try await clientGroup.shutdownGracefully()
        try await serverGroup.shutdownGracefully()
    }
}

/// Completes its promise with `sessionResumed` when the TLS handshake completes (fails it on an error).
private final class HandshakeWaiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var promise: EventLoopPromise<Bool>?

    init(_ promise: EventLoopPromise<Bool>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSHandshakeCompletedEvent { self.complete(.success(event.sessionResumed)) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.complete(.failure(error))
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.complete(.failure(ChannelError.ioOnClosedChannel))
        context.fireChannelInactive()
    }

    private func complete(_ result: Result<Bool, Error>) {
        self.promise?.completeWith(result)
        self.promise = nil
    }
}
