import Foundation
import Testing

/// The gateway forgets every WebSocket once it closes: the shutdown list is empty again after
/// connections of every kind close, and repeated churn does not grow the process (issue: the
/// tracker kept every channel ever opened, ~2.2 KB per closed connection).
@Suite(.timeLimit(.minutes(2)))
struct OpsConnectionTrackingTests {
    @Test func theTrackerIsEmptyAfterConnectionsOfEveryKindClose() throws {
        try opsHeavyLock.withLock {
            let echoUpstream = try OpsTCPServer.echo()
            defer { echoUpstream.stop() }
            let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
                  - path: /echo
                    echo: true
                  - path: /chat
                    room: tracked
                  - path: /up
                    upstream: tcp://127.0.0.1:\(echoUpstream.port)

                """))
            defer { harness.stop() }
            let port = harness.port
            var open: [OpsWebSocket] = []
            for path in ["/echo", "/chat", "/up"] {
                for _ in 0..<10 { open.append(try OpsWebSocket(port: port, path: path)) }
            }
            var hixie: [Int32] = []
            for _ in 0..<10 { hixie.append(try OpsHixie76.open(port: port, path: "/chat").0) }
            #expect(OpsProcess.eventually(timeout: 5) { harness.gateway.openWebSocketCount == 40 }, "all 40 are listed while open")
            for (index, ws) in open.enumerated() {
                if index.isMultiple(of: 2) {
                    ws.sendClose()  // closing handshake
                    _ = ws.waitForEOF(timeout: 5)
                }
                ws.close()  // or a TCP drop
            }
            for fd in hixie { close(fd) }
            let empty = OpsProcess.eventually(timeout: 10) { harness.gateway.openWebSocketCount == 0 }
            #expect(empty, "still listed after closing: \(harness.gateway.openWebSocketCount)")
        }
    }

    /// Rounds of connections opened and closed: the process stops growing after the second round
    /// (with the leak, each round of 3,000 kept about 6.6 MB more, forever).
    @Test func repeatedChurnRoundsStopGrowingTheProcess() throws {
        try opsHeavyLock.withLock {
            let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
                  - path: /echo
                    echo: true

                """))
            defer { harness.stop() }
            let port = harness.port
            var rssAfterRound: [Int] = []
            for _ in 0..<4 {
                for _ in 0..<30 {
                    var batch: [OpsWebSocket] = []
                    for _ in 0..<100 { batch.append(try OpsWebSocket(port: port, path: "/echo")) }
                    for ws in batch { ws.close() }
                }
                _ = OpsProcess.eventually(timeout: 10) { harness.gateway.openWebSocketCount == 0 }
                usleep(200_000)
                rssAfterRound.append(OpsProcess.rss())
            }
            let mib = rssAfterRound.map { String(format: "%.1f", Double($0) / 1_048_576) }
            print("[churn rounds] RSS after each round of 3,000 connections: \(mib.joined(separator: ", ")) MiB")
            #expect(harness.gateway.openWebSocketCount == 0)
            #expect(rssAfterRound[2] - rssAfterRound[1] < 3 << 20, "round 3 grew the process: \(mib)")
            #expect(rssAfterRound[3] - rssAfterRound[1] < 3 << 20, "round 4 grew the process: \(mib)")
        }
    }
}
