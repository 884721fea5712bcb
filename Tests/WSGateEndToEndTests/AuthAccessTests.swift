import Foundation
import Testing
import WSGateConfig

/// The rest of "Who may connect" on real gateways: an auth server (nginx's `auth_request`), the
/// per-client limits by the real address, `X-Forwarded-For` from trusted and untrusted peers,
/// PROXY headers, `messages_per_s`, and no token ever in a log line.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct AuthAccessTests {
    /// A small auth server: `Authorization: Bearer ok` → 200 with `Wsgate-Target: vm1`, `deny` →
    /// 403, `who` → 401, `boom` → 500, `slow` → no answer for 3 s; it echoes the headers it got
    /// into a file so the test can check them.
    final class AuthServer {
        let process: LegacyBackgroundProcess
        let port: Int
        let seenPath: String

        init(directory: String) throws {
            self.port = try OpsSocket.freePort()
            self.seenPath = directory + "/seen.txt"
            let script = """
                import http.server, json, sys, time
                seen = open(sys.argv[2], 'a')
                class H(http.server.BaseHTTPRequestHandler):
                    def log_message(self, *a): pass
                    def do_GET(self):
                        seen.write(json.dumps({k: v for k, v in self.headers.items()}) + '\\n'); seen.flush()
                        auth = self.headers.get('Authorization', '')
                        if auth.endswith(' slow'): time.sleep(3)
                        code = {'Bearer ok': 200, 'Bearer deny': 403, 'Bearer who': 401, 'Bearer boom': 500}.get(auth, 401)
                        self.send_response(code)
                        if code == 200: self.send_header('Wsgate-Target', 'vm1')
                        self.send_header('Content-Length', '0'); self.end_headers()
                # A backlog for the test's bursts (socketserver's default is 5: under load a burst of
                # slow requests made the next connect wait for a SYN retransmit, past the timeout).
                class S(http.server.ThreadingHTTPServer):
                    request_queue_size = 128
                    daemon_threads = True
                S(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
                """
            self.process = try LegacyBackgroundProcess("/usr/bin/python3", ["-c", script, String(self.port), self.seenPath])
            _ = OpsProcess.eventually(timeout: 10) { (try? OpsSocket.connect(port: self.port)).map { close($0); return true } ?? false }
        }

        func stop() { self.process.stop() }
    }

    @Test func anAuthServerAdmitsRefusesOrFailsClosed() throws {
        let directory = try opsTemporaryDirectory()
        let server = try AuthServer(directory: directory)
        defer { server.stop() }
        let echo = try OpsTCPServer.echo()
        defer { echo.stop() }
        let targets = directory + "/targets.yaml"
        try "vm1: tcp://127.0.0.1:\(echo.port)\n".write(toFile: targets, atomically: true, encoding: .utf8)
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
              - path: /ask
                echo: true
                auth: { request: http://127.0.0.1:\(server.port)/check, timeout_ms: 800 }
              - path: /askt
                targets: \(targets)
                auth: { request: http://127.0.0.1:\(server.port)/check }

            """))
        defer { harness.stop() }
        let port = harness.port
        #expect(try authExchange(port: port, path: "/ask?x=1", headers: ["Authorization: Bearer ok", "Cookie: c=1", "Origin: http://127.0.0.1:\(port)"]).status == 101)
        #expect(try authExchange(port: port, path: "/ask", headers: ["Authorization: Bearer deny"]).status == 403)
        let who = try authExchange(port: port, path: "/ask", headers: ["Authorization: Bearer who"])
        #expect(who.status == 401)
        #expect(who.head.contains("WWW-Authenticate: Bearer"))
        #expect(try authExchange(port: port, path: "/ask", headers: ["Authorization: Bearer boom"]).status == 503, "anything else: fail closed")
        let started = Date()
        #expect(try authExchange(port: port, path: "/ask", headers: ["Authorization: Bearer slow"]).status == 503, "no answer in time: 503")
        #expect(Date().timeIntervalSince(started) < 2.5)
        // On a targets route the Wsgate-Target header names the target.
        let ws = try OpsWebSocket(port: port, path: "/askt", headers: ["Authorization: Bearer ok"])
        ws.send(opcode: 0x2, Array("to vm1".utf8))
        #expect(ws.readFrame()?.payload == Array("to vm1".utf8))
        ws.close()
        // What the auth server was sent.
        let seen = (try? String(contentsOfFile: server.seenPath, encoding: .utf8)) ?? ""
        let first = seen.split(separator: "\n").first.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] } ?? [:]
        #expect(first["X-Original-URI"] == "/ask?x=1", "\(first)")
        #expect(first["X-Forwarded-For"] == "127.0.0.1")
        #expect(first["Cookie"] == "c=1")
        #expect(first["Authorization"] == "Bearer ok")
        #expect(first["Origin"] == "http://127.0.0.1:\(port)")
        // A client that leaves while the auth server thinks costs nothing: the gateway stays healthy.
        for _ in 0..<20 {
            let fd = try OpsSocket.connect(port: port)
            _ = OpsSocket.sendAll(fd, Array(rfcUpgradeRequest(path: "/ask", port: port, headers: ["Authorization: Bearer slow"]).utf8))
            close(fd)
        }
        #expect(try authExchange(port: port, path: "/ask", headers: ["Authorization: Bearer ok"]).status == 101)
        #expect(OpsProcess.eventually(timeout: 8) { harness.gateway.metrics.connectionsOpen.load == 0 })
    }

    @Test func tenThousandHandshakesFromOneAddressAreRefused429WhileOthersAreServed() throws {
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: "  - path: /echo\n    echo: true\n", limits: "  handshakes_per_ip_per_s: 20\n"))
        defer { harness.stop() }
        var admitted = 0
        var refused = 0
        var retryAfter = true
        let request = Array(rfcUpgradeRequest(path: "/echo", port: harness.port).utf8)
        let started = Date()
        for _ in 0..<10_000 {
            let reply = String(decoding: try rawExchangeFrom("127.0.0.1", port: harness.port, request), as: UTF8.self)
            if reply.hasPrefix("HTTP/1.1 101") { admitted += 1 } else if reply.hasPrefix("HTTP/1.1 429") {
                refused += 1
                retryAfter = retryAfter && reply.contains("Retry-After: ")
            }
        }
        let seconds = Date().timeIntervalSince(started)
        print("[rate] 10,000 handshakes from one address in \(String(format: "%.1f", seconds)) s: \(admitted) admitted, \(refused) refused 429")
        #expect(admitted >= 20 && admitted <= 20 + Int(seconds * 20) + 1, "the burst plus the refill: \(admitted)")
        #expect(refused == 10_000 - admitted)
        #expect(retryAfter, "every 429 says when to come back")
        #expect(try authExchange(port: harness.port, path: "/echo", sourceAddress: "127.0.0.2").status == 101, "another address is served")
    }

    @Test func connectionsPerAddressAreCountedByTheRealAddress() throws {
        let trusted = try GatewayHarness(yaml: "trusted_proxies: [127.0.0.1/32]\n" + GatewayHarness.yaml(
            routes: "  - path: /echo\n    echo: true\n    max_connections_per_ip: 1\n"))
        defer { trusted.stop() }
        let a = try OpsWebSocket(port: trusted.port, path: "/echo", headers: ["X-Forwarded-For: 203.0.113.9"])
        let b = try OpsWebSocket(port: trusted.port, path: "/echo", headers: ["X-Forwarded-For: 198.51.100.1, 203.0.113.10"])
        #expect(try authExchange(port: trusted.port, path: "/echo", headers: ["X-Forwarded-For: 203.0.113.9"]).status == 429,
                "the same real address twice")
        a.close()
        #expect(OpsProcess.eventually(timeout: 5) {
            (try? authExchange(port: trusted.port, path: "/echo", headers: ["X-Forwarded-For: 203.0.113.9"]).status) == 101
        }, "its slot is given back when it closes")
        b.close()

        // From an untrusted peer the header is ignored: both count as 127.0.0.1.
        let untrusted = try GatewayHarness(yaml: "trusted_proxies: [10.0.0.0/8]\n" + GatewayHarness.yaml(
            routes: "  - path: /echo\n    echo: true\n    max_connections_per_ip: 1\n"))
        defer { untrusted.stop() }
        let c = try OpsWebSocket(port: untrusted.port, path: "/echo", headers: ["X-Forwarded-For: 203.0.113.1"])
        #expect(try authExchange(port: untrusted.port, path: "/echo", headers: ["X-Forwarded-For: 203.0.113.2"]).status == 429,
                "a forged X-Forwarded-For from an untrusted peer changes nothing")
        c.close()
    }

    @Test func proxyHeadersAreTakenFromTrustedPeersOnlyAndAreRequired() throws {
        let yaml = """
            trusted_proxies: [127.0.0.1/32]
            listeners:
              - bind: 127.0.0.1:0
                proxy_protocol: true
            routes:
              - path: /echo
                echo: true
                max_connections_per_ip: 1

            """
        let harness = try GatewayHarness(yaml: yaml)
        defer { harness.stop() }
        let port = harness.port
        func open(_ header: String) throws -> Int32 {
            let fd = try OpsSocket.connect(port: port)
            _ = OpsSocket.sendAll(fd, Array((header + rfcUpgradeRequest(path: "/echo", port: port)).utf8))
            return fd
        }
        let v1 = try open("PROXY TCP4 198.51.100.7 127.0.0.1 40000 80\r\n")
        #expect(String(decoding: OpsSocket.receive(v1, timeout: 5) ?? [], as: UTF8.self).hasPrefix("HTTP/1.1 101"))
        // v2 from another source address: a different client, admitted too.
        var v2: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C]
        v2 += [198, 51, 100, 8, 127, 0, 0, 1, 0x9C, 0x41, 0x00, 0x50]
        let fd2 = try OpsSocket.connect(port: port)
        _ = OpsSocket.sendAll(fd2, v2 + Array(rfcUpgradeRequest(path: "/echo", port: port).utf8))
        #expect(String(decoding: OpsSocket.receive(fd2, timeout: 5) ?? [], as: UTF8.self).hasPrefix("HTTP/1.1 101"))
        // The first client again: its one connection is open, so 429, by the address the header gave.
        let again = try open("PROXY TCP4 198.51.100.7 127.0.0.1 40001 80\r\n")
        #expect(String(decoding: OpsSocket.receive(again, timeout: 5) ?? [], as: UTF8.self).hasPrefix("HTTP/1.1 429"))
        // No header on a listener that expects one: closed, no HTTP answer.
        let bare = try OpsSocket.connect(port: port)
        _ = OpsSocket.sendAll(bare, Array(rfcUpgradeRequest(path: "/echo", port: port).utf8))
        #expect(OpsSocket.receiveAll(bare, timeout: 5).bytes.isEmpty)
        for fd in [v1, fd2, again, bare] { close(fd) }

        // From an untrusted peer a PROXY header is dropped with the connection.
        let untrusted = try GatewayHarness(yaml: yaml.replacingOccurrences(of: "127.0.0.1/32", with: "10.0.0.0/8"))
        defer { untrusted.stop() }
        let forged = try OpsSocket.connect(port: untrusted.port)
        _ = OpsSocket.sendAll(forged, Array(("PROXY TCP4 1.2.3.4 127.0.0.1 1 80\r\n" + rfcUpgradeRequest(path: "/echo", port: untrusted.port)).utf8))
        let reply = OpsSocket.receiveAll(forged, timeout: 5)
        #expect(reply.bytes.isEmpty && reply.sawEOF)
        close(forged)
    }

    @Test func messagesPastTheRateCloseTheConnectionWith1008() throws {
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: "  - path: /echo\n    echo: true\n    messages_per_s: 5\n"))
        defer { harness.stop() }
        let ws = try OpsWebSocket(port: harness.port, path: "/echo")
        for i in 0..<30 { ws.sendText("m\(i)") }
        var echoed = 0
        var close: OpsWebSocket.Frame?
        while let frame = ws.readFrame(timeout: 3) {
            if frame.opcode == 0x8 { close = frame; break }
            echoed += 1
        }
        #expect(echoed == 5, "the burst is let through")
        #expect(close?.closeCode == 1008)
    }

    @Test func noTokenEverReachesALogLine() throws {
        let fixture = try AuthFixture()
        let directory = fixture.directory
        let port = try OpsSocket.freePort()
        let config = directory + "/wsgate.yaml"
        try """
            log_level: debug
            listeners:
              - bind: 127.0.0.1:\(port)
            routes:
              - path: /hs
                echo: true
                auth: { jwt: { algorithms: [HS256], key: \(fixture.secretPath) } }

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let gateway = try OpsGatewayProcess(configPath: config, waitForPorts: [port])
        defer { gateway.kill() }
        let good = try fixture.token("HS256", claims: "{'exp': now + 600}")
        let expired = try fixture.token("HS256", claims: "{'exp': now - 600}")
        _ = try authExchange(port: port, path: "/hs", headers: ["Authorization: Bearer \(good)"])
        _ = try authExchange(port: port, path: "/hs?access_token=\(good)")
        _ = try authExchange(port: port, path: "/hs", headers: ["Cookie: wsgate_token=\(expired)"])
        _ = try authExchange(port: port, path: "/hs?access_token=\(expired)")
        _ = try authExchange(port: port, path: "/hs", headers: ["Authorization: Bearer \(good)tampered"])
        gateway.signal(SIGTERM)
        _ = gateway.waitForExit(timeout: 10)
        let log = gateway.stderr
        #expect(log.contains("status=401") || log.contains("401"), "the refusals are logged: \(log)")
        for token in [good, expired] {
            #expect(!log.contains(token), "a token reached the log")
            #expect(!log.contains(String(token.split(separator: ".").last ?? "")), "a token's signature reached the log")
        }
    }

    @Test func namedTargetsAreReadAgainOnReloadWithoutTouchingOpenBridges() throws {
        let directory = try opsTemporaryDirectory()
        let first = try OpsTCPServer.echo()
        let second = try OpsTCPServer.echo()
        defer {
            first.stop()
            second.stop()
        }
        let targets = directory + "/targets.yaml"
        try "vm1: tcp://127.0.0.1:\(first.port)\n".write(toFile: targets, atomically: true, encoding: .utf8)
        let yaml = GatewayHarness.yaml(routes: "  - path: /tok\n    targets: \(targets)\n")
        let harness = try GatewayHarness(yaml: yaml)
        defer { harness.stop() }
        let open = try OpsWebSocket(port: harness.port, path: "/tok?token=vm1")
        try "vm2: tcp://127.0.0.1:\(second.port)\n".write(toFile: targets, atomically: true, encoding: .utf8)
        try harness.gateway.reload(try ConfigLoader.parse(yaml, file: "reload.yaml", baseDirectory: repositoryRoot))
        #expect(try authExchange(port: harness.port, path: "/tok?token=vm2").status == 101)
        #expect(try authExchange(port: harness.port, path: "/tok?token=vm1").status == 403, "vm1 is gone for new clients")
        open.send(opcode: 0x2, Array("still bridged".utf8))
        #expect(open.readFrame()?.payload == Array("still bridged".utf8), "the open bridge did not notice")
        // An unreadable targets file refuses the reload; the last good one stays.
        try "vm3: udp://nowhere\n".write(toFile: targets, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try harness.gateway.reload(try ConfigLoader.parse(yaml, file: "reload.yaml", baseDirectory: repositoryRoot)) }
        #expect(try authExchange(port: harness.port, path: "/tok?token=vm2").status == 101)
    }
}
