import Foundation
import Testing

/// `wsgate-bench` against a gateway on loopback: every mode runs, stops by itself and reports a
/// JSON line whose counts add up (the README's figures come from it).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct BenchSmokeTests {
    static func bench(_ arguments: [String]) throws -> [String: Double] {
        let binary = repositoryRoot + "/.build/debug/wsgate-bench"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw OpsError("\(binary) is missing: run `swift build` before these tests")
        }
        let result = try runProcess(binary, arguments, timeout: 60)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("command: "), "the exact command line is printed")
        guard let line = result.stdout.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { throw OpsError("no JSON line in:\n\(result.stdout)\n\(result.stderr)") }
        return object.compactMapValues { $0 as? Double }
    }

    @Test func everyModeRunsAndReportsCountsThatAddUp() throws {
        let upstreamPort = try OpsSocket.freePort()
        let harness = try GatewayHarness(yaml: """
            listeners:
              - bind: 127.0.0.1:0
              - bind: 127.0.0.1:0
                tls: { cert: certs-dev/server.crt, key: certs-dev/server.key }
            routes:
              - path: /echo
                echo: true
              - path: /rooms/*
                room: "*"
              - path: /bridge
                upstream: tcp://127.0.0.1:\(upstreamPort)

            """)
        defer { harness.stop() }
        let ws = "ws://127.0.0.1:\(harness.ports[0])"
        let pid = String(getpid())

        let echo = try Self.bench(["echo", "--url", "\(ws)/echo", "--connections", "4", "--duration", "1", "--server-pid", pid])
        #expect((echo["messages"] ?? 0) > 0)
        #expect(echo["server_cpu_us_per_msg"] != nil, "--server-pid reports CPU per message")

        let hixie = try Self.bench(["echo", "--url", "\(ws)/echo", "--dialect", "hixie76", "--connections", "2", "--duration", "1"])
        #expect((hixie["messages"] ?? 0) > 0, "the bench speaks hixie-76")

        let wss = try Self.bench([
            "echo", "--url", "wss://127.0.0.1:\(harness.ports[1])/echo", "--ca", "certs-dev/ca.crt", "--connections", "2",
            "--size", "4096", "--duration", "1",
        ])
        #expect((wss["messages"] ?? 0) > 0, "and wss:// through our OpenSSL handler")

        let broadcast = try Self.bench([
            "broadcast", "--url", "\(ws)/rooms/smoke", "--receivers", "6", "--senders", "2", "--rate", "200",
            "--dialects", "rfc6455,hixie76", "--duration", "1",
        ])
        #expect((broadcast["deliveries"] ?? 0) > 0)
        #expect(broadcast["missing"] == 0 && broadcast["duplicate_or_reordered"] == 0)
        #expect(broadcast["deliveries"] == (broadcast["sent"] ?? -1) * 6, "every receiver got every message")

        let idle = try Self.bench(["idle", "--url", "\(ws)/echo", "--connections", "50", "--duration", "1", "--source-addresses", "4"])
        #expect(idle["connections"] == 50)

        let bridge = try Self.bench([
            "bridge", "--url", "\(ws)/bridge", "--upstream-port", String(upstreamPort), "--connections", "2", "--size", "16384",
            "--duration", "1",
        ])
        #expect((bridge["mb_per_s"] ?? 0) > 0, "bytes came back through the bridge and the bench's TCP echo")
    }

    @Test func compressionAndJSONPayloadsRunAndReportWireBytes() throws {
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
              - path: /echo
                echo: true
              - path: /rooms/*
                room: "*"

            """))
        defer { harness.stop() }
        let ws = "ws://127.0.0.1:\(harness.port)"
        let pid = String(getpid())
        let json = ["--payload", "json", "--size", "1024"]

        let plain = try Self.bench(["echo", "--url", "\(ws)/echo", "--connections", "2", "--duration", "1"] + json)
        let echo = try Self.bench(["echo", "--url", "\(ws)/echo", "--connections", "2", "--duration", "1", "--compression"] + json)
        #expect((echo["messages"] ?? 0) > 0, "JSON payloads carry the header the receiver reads")
        #expect(echo["compressed_connections"] == 2 && plain["compressed_connections"] == 0)
        #expect((plain["wire_rx_bytes_per_msg"] ?? 0) >= 1024, "a plain 1 KiB message is 1 KiB and a header on the wire")
        #expect((echo["wire_rx_bytes_per_msg"] ?? .infinity) < 700, "JSON-like text compresses")
        #expect((echo["wire_tx_bytes_per_msg"] ?? .infinity) < 700, "both ways")

        let broadcast = try Self.bench([
            "broadcast", "--url", "\(ws)/rooms/zip", "--receivers", "5", "--senders", "1", "--rate", "100", "--duration", "1",
            "--compression", "--server-pid", pid,
        ] + json)
        #expect(broadcast["missing"] == 0 && (broadcast["deliveries"] ?? 0) > 0)
        #expect(broadcast["compressed_connections"] == 6)
        #expect((broadcast["wire_rx_bytes_per_delivery"] ?? .infinity) < 900)

        let idle = try Self.bench([
            "idle", "--url", "\(ws)/echo", "--connections", "20", "--dialects", "rfc6455", "--compression", "--warm-size", "1024",
            "--duration", "1", "--source-addresses", "1", "--server-pid", pid,
        ])
        #expect(idle["warm_replies"] == 20)
        #expect(idle["server_rss_kib_per_conn_warm_delta"] != nil)
    }

    @Test func theBenchRefusesTargetsOffLoopback() throws {
        let binary = repositoryRoot + "/.build/debug/wsgate-bench"
        let result = try runProcess(binary, ["echo", "--url", "ws://10.1.2.3:80/echo", "--duration", "1"], timeout: 20)
        #expect(result.status != 0)
        #expect((result.stdout + result.stderr).contains("loopback"))
    }
}
