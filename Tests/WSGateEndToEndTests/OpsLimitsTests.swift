import Foundation
import Testing

/// The `limits` section (SPEC "Configuration", "Fine print"), each on a real gateway.
@Suite(.timeLimit(.minutes(1)))
struct OpsLimitsTests {
    static let echoRoute = "  - path: /echo\n    echo: true\n"

    @Test func maxConnectionsAnswers503BeforeAnyUpgrade() throws {
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.echoRoute, limits: "  max_connections: 2\n"))
        defer { harness.stop() }
        let first = try OpsWebSocket(port: harness.port, path: "/echo")
        let second = try OpsWebSocket(port: harness.port, path: "/echo")
        // The third is refused at once, whatever it sends (here: nothing but a plain GET).
        let reply = String(decoding: try rawExchange(port: harness.port, [Array("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n".utf8)]), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 503 "), "\(reply)")
        #expect(throws: (any Error).self) { _ = try OpsWebSocket(port: harness.port, path: "/echo") }
        // The first two still work; once one leaves, a new client gets in.
        first.sendText("still here")
        #expect(first.readFrame()?.payload == Array("still here".utf8))
        second.sendClose()
        #expect(second.waitForEOF(timeout: 5))
        second.close()
        #expect(OpsProcess.eventually(timeout: 5) { (try? OpsWebSocket(port: harness.port, path: "/echo")) != nil })
        first.close()
    }

    @Test func handshakeTimeoutDropsATricklingClient() throws {
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.echoRoute, limits: "  handshake_timeout_ms: 300\n"))
        defer { harness.stop() }
        let fd = try OpsSocket.connect(port: harness.port)
        defer { close(fd) }
        let request = Array("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8)
        let start = Date()
        let trickler = Thread {
            for byte in request {  // one byte every 50 ms: 4 s for the whole head
                if !OpsSocket.sendAll(fd, [byte]) { return }
                usleep(50_000)
            }
        }
        trickler.start()
        let (bytes, eof) = OpsSocket.receiveAll(fd, timeout: 3)
        let elapsed = Date().timeIntervalSince(start)
        #expect(eof, "dropped")
        #expect(bytes.isEmpty || !String(decoding: bytes, as: UTF8.self).contains("101"))
        #expect(elapsed >= 0.25 && elapsed < 1.5, "dropped after \(elapsed) s")
    }

    @Test func clientThatNeverAnswersPingsIsClosedOneThatDoesStays() throws {
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.echoRoute, limits: "  ping_interval_s: 1\n"))
        defer { harness.stop() }
        let silent = try OpsWebSocket(port: harness.port, path: "/echo")
        let polite = try OpsWebSocket(port: harness.port, path: "/echo")
        let answered = OpsBox(false)
        let answering = Thread {  // answers pings for 3.5 s
            let end = Date().addingTimeInterval(3.5)
            while Date() < end { _ = polite.readFrame(timeout: end.timeIntervalSinceNow, answerPings: true) }
            answered.value = true
        }
        answering.start()
        let ping = silent.readFrame(timeout: 3, answerPings: false)
        #expect(ping?.opcode == 0x9, "a ping after ping_interval_s; got \(ping.map { "opcode \($0.opcode) code \($0.closeCode.map(String.init) ?? "-") \(String(decoding: $0.payload.dropFirst(2), as: UTF8.self))" } ?? "nothing")")
        let close = silent.readFrame(timeout: 3, answerPings: false)
        #expect(close?.opcode == 0x8)
        #expect(close?.closeCode == 1001, "no pong: closed 1001")
        silent.close()
        #expect(OpsProcess.eventually(timeout: 5) { answered.value })
        polite.sendText("alive")
        var reply = polite.readFrame(timeout: 3)
        while reply?.opcode == 0xA { reply = polite.readFrame(timeout: 3) }
        #expect(reply?.payload == Array("alive".utf8), "a client that answers pings stays open")
        polite.close()
    }

    @Test func idleClientsAreClosed1001AndPongsCountAsTraffic() throws {
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(
            routes: Self.echoRoute + "  - path: /keep\n    echo: true\n    ping_interval_s: 1\n  - path: /room\n    room: idle\n",
            limits: "  idle_timeout_s: 2\n  ping_interval_s: 0\n"))
        defer { harness.stop() }
        let start = Date()
        let idle = try OpsWebSocket(port: harness.port, path: "/echo")
        let hixie = try OpsHixie76.open(port: harness.port, path: "/room")
        defer { close(hixie.fd) }
        let keeper = try OpsWebSocket(port: harness.port, path: "/keep")  // sends nothing but pongs
        let kept = OpsBox(false)
        let keeping = Thread {
            let end = Date().addingTimeInterval(3.5)
            while Date() < end { _ = keeper.readFrame(timeout: end.timeIntervalSinceNow, answerPings: true) }
            kept.value = true
        }
        keeping.start()
        let close = idle.readFrame(timeout: 4)
        let elapsed = Date().timeIntervalSince(start)
        #expect(close?.closeCode == 1001, "idle: close 1001")
        #expect(elapsed >= 1.8 && elapsed < 3.5, "closed after \(elapsed) s")
        let hixieClose = hixie.extra + (OpsSocket.receive(hixie.fd, timeout: 3) ?? [])
        #expect(hixieClose == [0xFF, 0x00], "hixie-76 idle close: \(hixieClose)")
        #expect(OpsProcess.eventually(timeout: 5) { kept.value })
        keeper.sendText("pongs kept me")
        var reply = keeper.readFrame(timeout: 3)
        while reply?.opcode == 0xA { reply = keeper.readFrame(timeout: 3) }
        #expect(reply?.payload == Array("pongs kept me".utf8), "pongs count as traffic")
        idle.close()
        keeper.close()
    }

    @Test func aClientThatTricklesOneFrameIsStillIdle() throws {
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.echoRoute, limits: "  idle_timeout_s: 1\n  ping_interval_s: 0\n"))
        defer { harness.stop() }
        let trickler = try OpsWebSocket(port: harness.port, path: "/echo")
        // A 1,000-byte frame announced, then one byte of it every 300 ms: bytes keep coming, but no
        // frame is ever whole, so the idle timeout (counted in frames) still closes the connection.
        let header = Array(OpsWebSocket.encode(opcode: 0x2, payload: [UInt8](repeating: 7, count: 1000)).prefix(8))
        #expect(OpsSocket.sendAll(trickler.fd, header))
        let start = Date()
        let trickling = Thread {
            for _ in 0..<12 {
                Thread.sleep(forTimeInterval: 0.3)
                _ = OpsSocket.sendAll(trickler.fd, [7])
            }
        }
        trickling.start()
        let close = trickler.readFrame(timeout: 4)
        let elapsed = Date().timeIntervalSince(start)
        #expect(close?.closeCode == 1001, "a trickled frame is not traffic: \(String(describing: close))")
        #expect(elapsed < 3, "closed after \(elapsed) s")
        trickler.close()
    }

    @Test func maxMessageBytesPerRouteOverride() throws {
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(
            routes: Self.echoRoute + "  - path: /big\n    echo: true\n    max_message_bytes: 100000\n",
            limits: "  max_message_bytes: 1000\n"))
        defer { harness.stop() }
        let payload = [UInt8](repeating: 0x61, count: 5000)
        let small = try OpsWebSocket(port: harness.port, path: "/echo")
        small.send(opcode: 0x2, payload)
        #expect(small.readFrame()?.closeCode == 1009, "over the global limit: 1009")
        // Fragments adding up past the limit: 1009 too.
        let fragmented = try OpsWebSocket(port: harness.port, path: "/echo")
        fragmented.send(opcode: 0x1, [UInt8](repeating: 0x62, count: 600), fin: false)
        fragmented.send(opcode: 0x0, [UInt8](repeating: 0x62, count: 600), fin: true)
        #expect(fragmented.readFrame()?.closeCode == 1009)
        let big = try OpsWebSocket(port: harness.port, path: "/big")
        big.send(opcode: 0x2, payload)
        #expect(big.readFrame()?.payload == payload, "the route's own limit applies")
        big.send(opcode: 0x2, [UInt8](repeating: 1, count: 100_001))
        #expect(big.readFrame(timeout: 5)?.closeCode == 1009)
    }

    /// A room member that does not read is closed 1008 once its unsent bytes pass
    /// `send_queue_bytes`; the others keep getting every message. The route override of
    /// `send_queue_bytes` applies per member.
    @Test func sendQueueBytesClosesASlowConsumer1008() throws {
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(
            routes: "  - path: /room\n    room: busy\n    include_sender: false\n"
                + "  - path: /roomy\n    room: busy\n    include_sender: false\n    send_queue_bytes: 67108864\n",
            limits: "  send_queue_bytes: 65536\n"))
        defer { harness.stop() }
        let slow = try OpsWebSocket(port: harness.port, path: "/room")
        var small: Int32 = 16 * 1024
        setsockopt(slow.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        // The reader's route allows a far longer queue, so that it keeps up even on a busy machine.
        let reader = try OpsWebSocket(port: harness.port, path: "/roomy")
        let sender = try OpsWebSocket(port: harness.port, path: "/room")
        let message = [UInt8](repeating: 0x78, count: 16 * 1024)
        let count = 400  // 6.4 MiB
        let sending = Thread {
            for _ in 0..<count { sender.send(opcode: 0x2, message) }
        }
        sending.start()
        var got = 0
        while got < count, let frame = reader.readFrame(timeout: 10) {
            if frame.opcode == 0x2 { got += 1 }
        }
        let m = harness.gateway.metrics
        #expect(got == count, "the reading member gets every message (gateway: in \(m.messagesIn.load), published \(m.roomMessages.load), deliveries \(m.roomDeliveries.load), members \(m.roomMembers.load), slow closes \(m.slowConsumerCloses.load))")
        #expect(OpsProcess.eventually(timeout: 5) { harness.gateway.metrics.slowConsumerCloses.load == 1 })
        var closeCode: UInt16? = nil
        while let frame = slow.readFrame(timeout: 7) {
            if frame.opcode == 0x8 { closeCode = frame.closeCode; break }
        }
        #expect(closeCode == 1008, "slow consumer: close 1008")
        slow.close()
        reader.close()
        sender.close()
    }
}
