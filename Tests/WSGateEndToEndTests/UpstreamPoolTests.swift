import Foundation
import NIOCore
import Testing
import WSGateClient
import WSGateWire

/// Upstream pools (SPEC "Upstreams, all forms"): `upstream:` a list, `balance`, `fail_timeout_s`,
/// per-address series in `/metrics`.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct UpstreamPoolTests {
    static func echo(_ client: AsyncWebSocketClient, _ text: String) async throws -> Bool {
        client.send(.binary(ByteBuffer(string: text)))
        guard case .binary(let reply) = try await client.next(timeout: .seconds(5)) else { return false }
        return String(buffer: reply) == text
    }

    /// Three TCP echo backends; the second stops listening mid-test. Existing bridges to the others
    /// carry on, every new client still gets through (the dead address is tried once, then
    /// skipped), and `/metrics` shows it.
    @Test func aDeadAddressIsSkippedAndTheOthersBridgesCarryOn() async throws {
        let backends = try (0..<3).map { _ in try OpsTCPServer.echo() }
        defer { backends.forEach { $0.stop() } }
        let list = backends.map { "tcp://127.0.0.1:\($0.port)" }.joined(separator: ", ")
        let harness = try GatewayHarness(
            yaml: GatewayHarness.yaml(routes: "  - path: /pool\n    upstream: [\(list)]\n    fail_timeout_s: 30\n", admin: true))
        defer { harness.stop() }
        var clients: [AsyncWebSocketClient] = []
        for index in 0..<6 {
            let client = try await LegacyTestSupport.connect(port: harness.port, path: "/pool", dialect: .rfc6455)
            #expect(try await Self.echo(client, "first \(index)"))
            clients.append(client)
        }
        #expect(backends.map { $0.counts.accepted } == [2, 2, 2], "round robin spreads six clients evenly")

        backends[1].stop()
        for index in 0..<6 {
            let client = try await LegacyTestSupport.connect(port: harness.port, path: "/pool", dialect: .rfc6455)
            #expect(try await Self.echo(client, "after \(index)"), "no new client fails because one address is down")
            clients.append(client)
        }
        for (index, client) in clients.enumerated() where index < 6 && index % 3 != 1 {
            #expect(try await Self.echo(client, "still \(index)"), "the other backends' bridges do not notice")
        }
        #expect(backends[0].counts.accepted + backends[2].counts.accepted == 10)

        let admin = try #require(harness.adminPort)
        let metrics = try opsHTTPGet(port: admin, path: "/metrics").body
        let dead = "upstream=\"127.0.0.1:\(backends[1].port)\""
        let alive = "upstream=\"127.0.0.1:\(backends[0].port)\""
        #expect(metrics.contains("wsgate_upstream_address_failures_total{\(dead)} 1"), "tried once, then skipped: \(metrics)")
        #expect(metrics.contains("wsgate_upstream_address_skipped{\(dead)} 1.0"))
        #expect(metrics.contains("wsgate_upstream_address_skipped{\(alive)} 0.0"))
        let aliveCount = backends[0].counts.accepted
        #expect(metrics.contains("wsgate_upstream_address_connects_total{\(alive)} \(aliveCount)"))
        #expect(metrics.contains("wsgate_upstream_address_connections_open{\(alive)} \(aliveCount).0"))
        for client in clients { try? await client.close() }
    }

    @Test func whenEveryAddressIsDownTheClientGets502() throws {
        let dead = try (0..<2).map { _ in try OpsSocket.freePort() }
        let list = dead.map { "tcp://127.0.0.1:\($0)" }.joined(separator: ", ")
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: "  - path: /pool\n    upstream: [\(list)]\n"))
        defer { harness.stop() }
        for _ in 0..<2 {
            let reply = String(
                decoding: try rawExchange(port: harness.port, [BridgeEndToEndTests.handshake(port: harness.port, path: "/pool")]), as: UTF8.self)
            #expect(reply.hasPrefix("HTTP/1.1 502 "), "\(reply)")
        }
        // The first client tried both; the second found both skipped and tried none.
        #expect(harness.gateway.metrics.upstreamFailures.load == 3)
    }
}
