import Foundation
import Testing

/// The admin listener (SPEC "Observability"): /healthz, /metrics, /rooms.
@Suite(.timeLimit(.minutes(1)))
struct OpsAdminTests {
    static func value(_ text: String, _ series: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.split(separator: " ").last ?? "").map { Int($0) }  // gauges are floats ("1.0")
        }
        return nil
    }

    @Test func healthzMetricsAndRooms() throws {
        let upstream = try OpsSocket.freePort()
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(
            routes: "  - path: /chat\n    room: lobby\n  - path: /echo\n    echo: true\n  - path: /dead\n    upstream: tcp://127.0.0.1:\(upstream)\n",
            admin: true))
        defer { harness.stop() }
        let admin = try #require(harness.adminPort)

        let health = try opsHTTPGet(port: admin, path: "/healthz")
        #expect(health.status == 200)
        #expect(health.body.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")

        let before = try opsHTTPGet(port: admin, path: "/metrics")
        #expect(before.status == 200)
        #expect(before.head.lowercased().contains("content-type: text/plain"))
        let rfcOpen = "wsgate_websockets_open{dialect=\"rfc6455\",tls=\"false\"}"
        let hixieOpen = "wsgate_websockets_open{dialect=\"hixie76\",tls=\"false\"}"
        let rfcTotal = "wsgate_websockets_total{dialect=\"rfc6455\",tls=\"false\"}"
        for series in [rfcOpen, hixieOpen, rfcTotal, "wsgate_websockets_open{dialect=\"hixie75\",tls=\"true\"}",
                       "wsgate_messages_in_total", "wsgate_messages_out_total", "wsgate_rooms", "wsgate_room_members",
                       "wsgate_upstream_failures_total", "wsgate_slow_consumer_closes_total"] {
            #expect(Self.value(before.body, series) != nil, "\(series) in /metrics")
        }
        #expect(before.body.contains("# TYPE wsgate_websockets_open gauge"))
        #expect(Self.value(before.body, rfcOpen) == 0)

        // Traffic: two room members (RFC and hixie-76), an echo, a failed upstream.
        let alice = try OpsWebSocket(port: harness.port, path: "/chat")
        let hixie = try OpsHixie76.open(port: harness.port, path: "/chat")
        defer { close(hixie.fd) }
        let echo = try OpsWebSocket(port: harness.port, path: "/echo")
        echo.sendText("ping")
        #expect(echo.readFrame()?.payload == Array("ping".utf8))
        alice.sendText("hello room")
        #expect(alice.readFrame()?.payload == Array("hello room".utf8))
        _ = try? OpsWebSocket(port: harness.port, path: "/dead")

        let after = try opsHTTPGet(port: admin, path: "/metrics").body
        #expect(Self.value(after, rfcOpen) == 2)
        #expect(Self.value(after, hixieOpen) == 1)
        #expect(Self.value(after, rfcTotal) == 2)
        #expect((Self.value(after, "wsgate_messages_in_total") ?? 0) >= 2)
        #expect((Self.value(after, "wsgate_messages_out_total") ?? 0) > (Self.value(before.body, "wsgate_messages_out_total") ?? 0))
        #expect(Self.value(after, "wsgate_rooms") == 1)
        #expect(Self.value(after, "wsgate_room_members") == 2)
        #expect(Self.value(after, "wsgate_upstream_failures_total") == 1)
        #expect(Self.value(after, "wsgate_handshake_refusals_total{reason=\"502\"}") == 1)

        let rooms = try opsHTTPGet(port: admin, path: "/rooms")
        #expect(rooms.status == 200)
        let json = try JSONSerialization.jsonObject(with: Data(rooms.body.utf8)) as? [[String: Any]]
        let lobby = json?.first { $0["room"] as? String == "lobby" }
        #expect(lobby?["members"] as? Int == 2, "\(rooms.body)")
        #expect((lobby?["messages"] as? Int ?? 0) >= 1, "\(rooms.body)")

        // Closing brings the gauges back.
        alice.sendClose()
        #expect(alice.waitForEOF(timeout: 5))
        echo.close()
        #expect(OpsProcess.eventually(timeout: 5) {
            let text = (try? opsHTTPGet(port: admin, path: "/metrics").body) ?? ""
            return Self.value(text, rfcOpen) == 0 && Self.value(text, "wsgate_room_members") == 1
        })
        #expect(try opsHTTPGet(port: admin, path: "/nothing").status == 404)
    }
}
