import Foundation
import Testing

/// The `wsgate` binary as users run it: SIGTERM drains, SIGHUP reloads, `wsgate check` reports.
/// Needs `.build/debug/wsgate` (run `swift build` first; the tests fail clearly without it).
@Suite(.serialized, .timeLimit(.minutes(1)))
struct OpsProcessTests {
    static func metricsValue(_ text: String, _ series: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.split(separator: " ").last ?? "").map { Int($0) }  // gauges are floats ("1.0")
        }
        return nil
    }

    // MARK: Shutdown

    @Test func sigtermClosesEveryDialectAndExitsZero() throws {
        let directory = try opsTemporaryDirectory()
        let port = try OpsSocket.freePort()
        let admin = try OpsSocket.freePort()
        let config = directory + "/wsgate.yaml"
        try """
            listeners:
              - bind: 127.0.0.1:\(port)
            admin:
              bind: 127.0.0.1:\(admin)
            limits:
              drain_timeout_s: 4
            routes:
              - path: /echo
                echo: true
              - path: /room
                room: lobby
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let gateway = try OpsGatewayProcess(configPath: config, waitForPorts: [port, admin])
        defer { gateway.kill() }

        let python = OpsBox<ProcessResult?>(nil)
        let client = Thread {
            python.value = try? runPython("""
                import asyncio, sys, websockets
                async def main():
                    async with websockets.connect(sys.argv[1]) as ws:
                        try:
                            while True: await asyncio.wait_for(ws.recv(), 20)
                        except websockets.ConnectionClosed:
                            print('close', ws.close_code)
                asyncio.run(main())
                """, ["ws://127.0.0.1:\(port)/echo"])
        }
        client.start()
        let hixie = try OpsHixie76.open(port: port, path: "/room")
        defer { close(hixie.fd) }
        let connected = OpsProcess.eventually(timeout: 10) {
            guard let text = try? opsHTTPGet(port: admin, path: "/metrics").body else { return false }
            return Self.metricsValue(text, "wsgate_websockets_open{dialect=\"rfc6455\",tls=\"false\"}") == 1
                && Self.metricsValue(text, "wsgate_websockets_open{dialect=\"hixie76\",tls=\"false\"}") == 1
        }
        #expect(connected, "both clients are open before SIGTERM")

        let start = Date()
        gateway.signal(SIGTERM)
        let hixieBytes = hixie.extra + (OpsSocket.receive(hixie.fd, timeout: 5) ?? [])
        #expect(hixieBytes == [0xFF, 0x00], "hixie-76 gets its closing handshake: \(hixieBytes)")
        OpsSocket.sendAll(hixie.fd, [0xFF, 0x00])
        let status = gateway.waitForExit(timeout: 8)
        let elapsed = Date().timeIntervalSince(start)
        #expect(status == 0, "exit status \(String(describing: status)); stderr:\n\(gateway.stderr)")
        #expect(elapsed < 4.5, "exited after \(elapsed) s (drain_timeout_s 4)")
        #expect(OpsProcess.eventually(timeout: 10) { python.value != nil })
        #expect(python.value?.stdout.contains("close 1001") == true, "\(python.value?.stdout ?? "") \(python.value?.stderr ?? "")")
        #expect(OpsProcess.eventually(timeout: 2) { (try? OpsSocket.connect(port: port)) == nil }, "the listener is gone")
    }

    // MARK: Reload

    @Test func sighupReloadsRoutesOriginsAndListenersAndKeepsTheOldConfigWhenInvalid() throws {
        let directory = try opsTemporaryDirectory()
        let port = try OpsSocket.freePort()
        let added = try OpsSocket.freePort()
        let config = directory + "/wsgate.yaml"
        let routes = """
            routes:
              - path: /echo
                echo: true
              - path: /room
                room: lobby
                origins: [ORIGIN]

            """
        try ("listeners:\n  - bind: 127.0.0.1:\(port)\n" + routes.replacingOccurrences(of: "ORIGIN", with: "http://a.example"))
            .write(toFile: config, atomically: true, encoding: .utf8)
        let gateway = try OpsGatewayProcess(configPath: config, waitForPorts: [port])
        defer {
            gateway.signal(SIGTERM)
            _ = gateway.waitForExit(timeout: 5)
            gateway.kill()
        }
        let existing = try OpsWebSocket(port: port, path: "/echo")
        #expect(throws: (any Error).self) { _ = try OpsWebSocket(port: port, path: "/echo2") }
        _ = try OpsWebSocket(port: port, path: "/room", headers: ["Origin: http://a.example"])

        // A valid new configuration: a route added, the origin list changed, a listener added.
        try ("listeners:\n  - bind: 127.0.0.1:\(port)\n  - bind: 127.0.0.1:\(added)\n"
            + routes.replacingOccurrences(of: "ORIGIN", with: "http://b.example")
            + "  - path: /echo2\n    echo: true\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        gateway.signal(SIGHUP)
        #expect(OpsProcess.eventually(timeout: 5) { (try? OpsSocket.connect(port: added)).map { close($0); return true } ?? false },
                "the added listener opens; stderr:\n\(gateway.stderr)")
        for listenerPort in [port, added] {
            let fresh = try OpsWebSocket(port: listenerPort, path: "/echo2")
            fresh.sendText("new route")
            #expect(fresh.readFrame()?.payload == Array("new route".utf8))
        }
        _ = try OpsWebSocket(port: port, path: "/room", headers: ["Origin: http://b.example"])
        let refused = String(decoding: try rawExchange(port: port, [Array(
            "GET /room HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nOrigin: http://a.example\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8)]), as: UTF8.self)
        #expect(refused.hasPrefix("HTTP/1.1 403 "), "the old origin is refused now: \(refused)")
        existing.sendText("still open")
        #expect(existing.readFrame()?.payload == Array("still open".utf8), "an existing WebSocket keeps working")

        // An invalid configuration: every error logged with file:line:column, the old one kept.
        try """
            listeners:
              - bind: 127.0.0.1:\(port)
            routes:
              - path: /echo
                echoo: true

            """.write(toFile: config, atomically: true, encoding: .utf8)
        gateway.signal(SIGHUP)
        #expect(OpsProcess.eventually(timeout: 5) { gateway.stderr.contains("\(config):5:5:") },
                "stderr names the error at file:line:column:\n\(gateway.stderr)")
        #expect(gateway.stderr.contains("echoo"))
        let kept = try OpsWebSocket(port: added, path: "/echo2")
        kept.sendText("old config kept")
        #expect(kept.readFrame()?.payload == Array("old config kept".utf8))
        existing.sendText("and still open")
        #expect(existing.readFrame()?.payload == Array("and still open".utf8))
    }

    // MARK: wsgate check

    @Test func checkReportsEveryErrorWithItsLocation() throws {
        let binary = try OpsGatewayProcess.requireBinary()
        let directory = try opsTemporaryDirectory()
        let valid = directory + "/valid.yaml"
        try "listeners:\n  - bind: 127.0.0.1:8080\nroutes:\n  - path: /chat\n    room: lobby\n  - path: /\n    static: etc/www\n"
            .write(toFile: valid, atomically: true, encoding: .utf8)
        let ok = try runProcess(binary, ["check", "--config", valid])
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        #expect(ok.stdout.contains("ok"), "a summary: \(ok.stdout)")

        let broken = directory + "/broken.yaml"
        try """
            listeners:
              - bind: 127.0.0.1:99999
            limitz:
              max_connections: 10
            routes:
              - path: /chat
                romm: lobby
              - path: /up
                upstream: tcp://127.0.0.1:7000
                encoding: rot13

            """.write(toFile: broken, atomically: true, encoding: .utf8)
        let bad = try runProcess(binary, ["check", "--config", broken])
        #expect(bad.status == 1)
        let output = bad.stdout + bad.stderr
        let located = output.split(separator: "\n").filter { $0.hasPrefix("\(broken):") }
        #expect(located.count >= 4, "every error, each with file:line:column:\n\(output)")
        for (line, key) in [(2, "99999"), (3, "limitz"), (7, "romm"), (10, "rot13")] {
            #expect(located.contains { $0.hasPrefix("\(broken):\(line):") && $0.contains(key) }, "line \(line) (\(key)):\n\(output)")
        }
        for entry in located {
            let parts = entry.dropFirst(broken.count + 1).split(separator: ":", maxSplits: 2)
            #expect(parts.count == 3 && Int(parts[0]) != nil && Int(parts[1]) != nil, "file:line:column: \(entry)")
        }

        let missing = try runProcess(binary, ["check", "--config", directory + "/nope.yaml"])
        #expect(missing.status == 1)
        #expect((missing.stdout + missing.stderr).contains("nope.yaml"), "\(missing.stdout) \(missing.stderr)")
    }

    @Test func checkReportsUnusableCertificatesWithTheirPaths() throws {
        let binary = try OpsGatewayProcess.requireBinary()
        let directory = try opsTemporaryDirectory()
        let file = directory + "/tls.yaml"
        try """
            listeners:
              - bind: 127.0.0.1:0
                tls: { cert: certs-dev/server.crt, key: certs-dev/other.key }
              - bind: 127.0.0.1:0
                tls: { cert: certs-dev/expired.crt, key: certs-dev/expired.key }
              - bind: 127.0.0.1:0
                tls: { cert: certs-dev/missing.crt, key: certs-dev/server.key }
            routes:
              - path: /echo
                echo: true

            """.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try runProcess(binary, ["check", "--config", file])
        let output = result.stdout + result.stderr
        #expect(result.status == 1, "\(output)")
        #expect(output.contains("other.key"), "the key that does not match names its file:\n\(output)")
        #expect(output.contains("expired.crt"), "the expired certificate names its file:\n\(output)")
        #expect(output.contains("missing.crt"), "the missing certificate names its file:\n\(output)")

        let good = directory + "/good.yaml"
        try "listeners:\n  - bind: 127.0.0.1:0\n    tls: { cert: certs-dev/server.crt, key: certs-dev/server.key }\nroutes:\n  - path: /echo\n    echo: true\n"
            .write(toFile: good, atomically: true, encoding: .utf8)
        let ok = try runProcess(binary, ["check", "--config", good])
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
    }
}
