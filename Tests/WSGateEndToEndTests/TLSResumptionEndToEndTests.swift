import Foundation
import Testing
import WSGateClient
import WSGateTLS

/// TLS session resumption against a real gateway's wss:// listener: our client with a
/// `TLSSessionCache`, and openssl s_client with a session file (an independent client).
@Suite(.serialized, .timeLimit(.minutes(1)))
struct TLSResumptionEndToEndTests {
    static let routes = "  - path: /echo\n    echo: true\n"

    /// Opens a connection, has one message echoed (the server's tickets come before its 101), closes.
    private func echoOnce(port: Int, dialect: ClientDialect, tls: TLSContext) async throws {
        let client = try await LegacyTestSupport.connect(port: port, path: "/echo", dialect: dialect, tls: tls)
        client.send("resume me")
        #expect(try await client.nextText() == "resume me")
        try await client.close()
    }

    @Test(arguments: [ClientDialect.rfc6455(version: 13), .hixie76])
    func theSecondConnectionResumesTheFirstOnesSession(dialect: ClientDialect) async throws {
        let harness = try GatewayHarness(yaml: LegacyTestSupport.tlsYAML(routes: Self.routes))
        defer { harness.stop() }
        let cache = TLSSessionCache()
        let tls = try TLSContext.client(trustedCAPath: LegacyTestSupport.caPath, verifyPeer: true, alpn: ["http/1.1"],
                                        sessionCache: cache)

        try await self.echoOnce(port: harness.port, dialect: dialect, tls: tls)
        #expect(cache.statistics == .init(handshakes: 1, resumed: 0, offered: 0, stored: cache.statistics.stored))
        #expect(cache.hasSession(forServerName: "127.0.0.1"))

        try await self.echoOnce(port: harness.port, dialect: dialect, tls: tls)
        try await self.echoOnce(port: harness.port, dialect: dialect, tls: tls)
        #expect(cache.statistics.handshakes == 3 && cache.statistics.resumed == 2 && cache.statistics.offered == 2)
    }

    /// The gateway's side on its own: s_client saves the session it gets and offers it next time.
    @Test func opensslSClientResumesWithTheGateway() throws {
        let harness = try GatewayHarness(yaml: LegacyTestSupport.tlsYAML(routes: Self.routes))
        defer { harness.stop() }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-session-\(getpid()).pem").path
        defer { try? FileManager.default.removeItem(atPath: file) }

        let first = try self.sClient(port: harness.port, extra: ["-sess_out", file])
        #expect(first.stdout.contains("New, TLSv1.3"), "\(first.stdout)\n\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: file), "s_client stored the server's ticket")
        let second = try self.sClient(port: harness.port, extra: ["-sess_in", file])
        #expect(second.stdout.contains("Reused, TLSv1.3"), "\(second.stdout)\n\(second.stderr)")
    }

    /// One HTTP request over s_client (the answer brings the tickets before it), verifying the chain.
    private func sClient(port: Int, extra: [String]) throws -> ProcessResult {
        try runProcess(
            "/usr/bin/openssl",
            ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", LegacyTestSupport.caPath, "-verify_return_error",
             "-alpn", "http/1.1", "-ign_eof"] + extra,
            stdin: Data("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8), timeout: 10)
    }
}
