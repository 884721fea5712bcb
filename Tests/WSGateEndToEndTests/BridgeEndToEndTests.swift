import Foundation
import Testing

/// Upstream bridges (SPEC "Upstream bridges"), driven by Debian's python3-websockets as an
/// independent RFC 6455 client against real TCP services on loopback.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct BridgeEndToEndTests {
    static func routeYAML(port: Int, encoding: String = "binary", path: String = "/up", extra: String = "") -> String {
        "  - path: \(path)\n    upstream: tcp://127.0.0.1:\(port)\n    encoding: \(encoding)\n" + extra
    }

    /// Shared Python prelude: `pattern(n)` and `url`.
    static let pythonPrelude = """
        import asyncio, base64, sys, websockets
        url = sys.argv[1]
        def pattern(N): return \(OpsPattern.python)

        """

    static func handshake(port: Int, path: String) -> [UInt8] {
        Array(
            ("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8)
    }

    // MARK: Connect failures

    @Test func refusedUpstreamIs502WithATextBody() throws {
        let deadPort = try OpsSocket.freePort()
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.routeYAML(port: deadPort)))
        defer { harness.stop() }
        let reply = String(decoding: try rawExchange(port: harness.port, [Self.handshake(port: harness.port, path: "/up")]), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 502 "), "\(reply)")
        #expect(!reply.contains("101"))
        let body = reply.components(separatedBy: "\r\n\r\n").dropFirst().joined()
        #expect(!body.isEmpty, "a 502 says why in its body")
        #expect(harness.gateway.metrics.upstreamFailures.load == 1)
    }

    /// A listener with backlog 0 whose queue is filled and never accepted: Linux drops further
    /// SYNs, so a connect to it hangs until the gateway's `connect_timeout_ms`.
    @Test func connectTimeoutIs504() throws {
        let (listenFD, port) = try OpsSocket.listen(backlog: 0)
        defer { close(listenFD) }
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0..<3 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            var address = OpsSocket.loopback(port: port)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            fillers.append(fd)
        }
        usleep(100_000)
        let harness = try GatewayHarness(
            yaml: GatewayHarness.yaml(routes: Self.routeYAML(port: port, extra: "    connect_timeout_ms: 300\n")))
        defer { harness.stop() }
        let start = Date()
        let reply = String(decoding: try rawExchange(port: harness.port, [Self.handshake(port: harness.port, path: "/up")]), as: UTF8.self)
        let elapsed = Date().timeIntervalSince(start)
        #expect(reply.hasPrefix("HTTP/1.1 504 "), "\(reply)")
        #expect(elapsed >= 0.25 && elapsed < 3, "answered after \(elapsed) s")
        #expect(!reply.components(separatedBy: "\r\n\r\n").dropFirst().joined().isEmpty)
    }

    // MARK: Byte-exact transfers, every encoding

    @Test func binaryEchoIsByteExact() throws {
        let echo = try OpsTCPServer.echo()
        defer { echo.stop() }
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.routeYAML(port: echo.port)))
        defer { harness.stop() }
        let script = Self.pythonPrelude + """
            async def main():
                async with websockets.connect(url, max_size=None) as ws:
                    sent = b''
                    for i, size in enumerate([1, 125, 126, 65535, 65536, 200000, 7]):
                        chunk = bytes((i * 37 + j) % 256 for j in range(size))
                        await ws.send(chunk)
                        sent += chunk
                    got = b''
                    while len(got) < len(sent):
                        m = await asyncio.wait_for(ws.recv(), 10)
                        assert isinstance(m, bytes), 'binary route must send binary'
                        got += m
                    print('ok' if got == sent else 'mismatch', len(got))
            asyncio.run(main())
            """
        let result = try runPython(script, ["ws://127.0.0.1:\(harness.port)/up"])
        #expect(result.stdout.hasPrefix("ok"), "\(result.stdout) \(result.stderr)")
    }

    @Test(arguments: ["subprotocol", "route"])
    func base64BridgeIsByteExact(mode: String) throws {
        let echo = try OpsTCPServer.echo()
        defer { echo.stop() }
        let encoding = mode == "route" ? "base64" : "binary"
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.routeYAML(port: echo.port, encoding: encoding)))
        defer { harness.stop() }
        let protocols = mode == "route" ? "None" : "['base64']"
        let script = Self.pythonPrelude + """
            async def main():
                async with websockets.connect(url, subprotocols=\(protocols), max_size=None) as ws:
                    print('subprotocol', ws.subprotocol)
                    sent = bytes(range(256)) * 300 + b'\\x00\\xff\\x80'
                    for k in range(0, len(sent), 10000):
                        await ws.send(base64.b64encode(sent[k:k + 10000]).decode())
                    got = b''
                    while len(got) < len(sent):
                        m = await asyncio.wait_for(ws.recv(), 10)
                        assert isinstance(m, str), 'base64 carries text messages'
                        got += base64.b64decode(m, validate=True)
                    print('ok' if got == sent else 'mismatch', len(got))
                    await ws.send('not base64!!')
                    try:
                        while True: await asyncio.wait_for(ws.recv(), 10)
                    except websockets.ConnectionClosed:
                        print('close', ws.close_code)
            asyncio.run(main())
            """
        let result = try runPython(script, ["ws://127.0.0.1:\(harness.port)/up"])
        if mode == "subprotocol" { #expect(result.stdout.contains("subprotocol base64"), "\(result.stdout)") }
        #expect(result.stdout.contains("ok "), "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("close 1007"), "text that is not base64 closes 1007: \(result.stdout) \(result.stderr)")
    }

    /// The upstream splits multi-byte characters across TCP segments; the client gets whole text.
    @Test func textBridgeHoldsBackSplitUTF8() throws {
        let text = "héllo wörld — ✓ 🎉 end"
        let bytes = Array(text.utf8)
        // Cut inside the 2-byte é, the 3-byte — and ✓, and the 4-byte 🎉 (after 1, 2 and 3 of its bytes).
        let emoji = bytes.firstIndex(of: 0xF0)!
        let cuts = [2, bytes.firstIndex(of: 0xE2)! + 1, bytes.lastIndex(of: 0xE2)! + 2, emoji + 1, emoji + 2, emoji + 3]
        let source = try OpsTCPServer { fd in
            var start = 0
            for cut in cuts + [bytes.count] {
                OpsSocket.sendAll(fd, Array(bytes[start..<cut]))
                start = cut
                usleep(60_000)
            }
            // Then wait for the client's FIN, so the text arrives without racing the close.
            _ = OpsSocket.receiveAll(fd, timeout: 10)
        }
        defer { source.stop() }
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.routeYAML(port: source.port, encoding: "text")))
        defer { harness.stop() }
        let script = Self.pythonPrelude + """
            async def main():
                async with websockets.connect(url) as ws:
                    got = ''
                    count = 0
                    while len(got.encode()) < int(sys.argv[2]):
                        m = await asyncio.wait_for(ws.recv(), 10)
                        assert isinstance(m, str)
                        got += m
                        count += 1
                    print('messages', count)
                    print('text', got)
            asyncio.run(main())
            """
        let result = try runPython(script, ["ws://127.0.0.1:\(harness.port)/up", "\(bytes.count)"])
        #expect(result.stdout.contains("text \(text)\n"), "\(result.stdout) \(result.stderr)")
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test(arguments: [
        [UInt8](Array("ok ".utf8) + [0xC3, 0x28]),  // a lead byte followed by ASCII
        [UInt8](Array("ok ".utf8) + [0xED, 0xA0, 0x80]),  // a UTF-16 surrogate
        [UInt8](Array("ok ".utf8) + [0xFF]),
        [UInt8](Array("ok ".utf8) + [0xE2, 0x82]),  // truncated by the upstream's FIN: never completed
    ])
    func invalidUTF8FromUpstreamCloses1007(payload: [UInt8]) throws {
        let source = try OpsTCPServer { fd in
            OpsSocket.sendAll(fd, payload)
            usleep(100_000)
        }
        defer { source.stop() }
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.routeYAML(port: source.port, encoding: "text")))
        defer { harness.stop() }
        let script = Self.pythonPrelude + """
            async def main():
                async with websockets.connect(url) as ws:
                    try:
                        while True:
                            m = await asyncio.wait_for(ws.recv(), 10)
                            print('message', repr(m))
                    except websockets.ConnectionClosed:
                        print('close', ws.close_code)
            asyncio.run(main())
            """
        let result = try runPython(script, ["ws://127.0.0.1:\(harness.port)/up"])
        #expect(result.stdout.contains("close 1007"), "\(payload): \(result.stdout) \(result.stderr)")
    }

    // MARK: Large transfers and ordered closes

    /// 20 MiB from the upstream, which then closes: the client gets every byte, then close 1000.
    @Test func largeTransferFromUpstreamThenClose1000() throws {
        let size = 20 << 20
        let data = OpsPattern.counters(size)
        let source = try OpsTCPServer { fd in
            OpsSocket.sendAll(fd, data)
        }
        defer { source.stop() }
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.routeYAML(port: source.port)))
        defer { harness.stop() }
        let script = Self.pythonPrelude + """
            async def main():
                N = int(sys.argv[2])
                async with websockets.connect(url, max_size=None) as ws:
                    parts = []
                    try:
                        while True: parts.append(await asyncio.wait_for(ws.recv(), 20))
                    except websockets.ConnectionClosed:
                        pass
                    got = b''.join(parts)
                    print('bytes', len(got), 'equal', got == pattern(N))
                    print('close', ws.close_code)
            asyncio.run(main())
            """
        let result = try runPython(script, ["ws://127.0.0.1:\(harness.port)/up", "\(size)"], timeout: 40)
        #expect(result.stdout.contains("bytes \(size) equal True"), "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("close 1000"), "\(result.stdout) \(result.stderr)")
    }

    /// 20 MiB from the client, which then closes: the upstream reads every byte, then EOF.
    @Test func largeTransferFromClientThenUpstreamSeesEOF() throws {
        let size = 20 << 20
        let received = OpsBox<(bytes: [UInt8], sawEOF: Bool)?>(nil)
        let sink = try OpsTCPServer { fd in
            received.value = OpsSocket.receiveAll(fd, timeout: 30)
        }
        defer { sink.stop() }
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.routeYAML(port: sink.port)))
        defer { harness.stop() }
        let script = Self.pythonPrelude + """
            async def main():
                N = int(sys.argv[2])
                data = pattern(N)
                async with websockets.connect(url, max_size=None) as ws:
                    for k in range(0, N, 65536):
                        await ws.send(data[k:k + 65536])
                print('sent', N)
            asyncio.run(main())
            """
        let result = try runPython(script, ["ws://127.0.0.1:\(harness.port)/up", "\(size)"], timeout: 40)
        #expect(result.stdout.contains("sent \(size)"), "\(result.stdout) \(result.stderr)")
        #expect(OpsProcess.eventually(timeout: 10) { received.value != nil })
        let got = received.value
        #expect(got?.sawEOF == true, "the upstream gets a FIN")
        #expect(got?.bytes.count == size)
        #expect(got?.bytes == OpsPattern.counters(size), "every byte, in order")
    }

    // MARK: Backpressure

    /// 200 MiB from a fast upstream to a slow client, and 100 MiB from a fast client to a slow
    /// upstream: the gateway stops reading the fast side, so this process's RSS stays bounded.
    /// Both slow ends stall for 2 s before reading (then read with small buffers and pauses), long
    /// enough for a gateway without backpressure to take in everything.
    @Test func backpressureKeepsMemoryBounded() throws {
        try opsHeavyLock.withLock {
            let downSize = 200 << 20
            let upSize = 100 << 20
            let block = OpsPattern.counters(1 << 20)
            let source = try OpsTCPServer { fd in
                for _ in 0..<(downSize >> 20) where OpsSocket.sendAll(fd, block) {}
            }
            defer { source.stop() }
            let sinkCount = OpsBox(0)
            let sink = try OpsTCPServer { fd in
                var small: Int32 = 64 * 1024
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
                var total = 0
                usleep(2_000_000)  // stalled at first: an unbounded gateway would buffer everything meanwhile
                while let chunk = OpsSocket.receive(fd, max: 65536, timeout: 20), !chunk.isEmpty {
                    total += chunk.count
                    if total % (4 << 20) < chunk.count { usleep(2_000) }  // slow: a pause every 4 MiB
                }
                sinkCount.value = total
            }
            defer { sink.stop() }
            let harness = try GatewayHarness(yaml: GatewayHarness.yaml(
                routes: Self.routeYAML(port: source.port, path: "/down") + Self.routeYAML(port: sink.port, path: "/sink")))
            defer { harness.stop() }
            let baseline = OpsProcess.rss()
            let peak = OpsBox(baseline)
            let sampling = OpsBox(true)
            let sampler = Thread {
                while sampling.value {
                    let now = OpsProcess.rss()
                    peak.mutate { $0 = max($0, now) }
                    usleep(20_000)
                }
            }
            sampler.start()
            defer { sampling.value = false }

            // Client → slow upstream, on its own thread.
            let upDone = OpsBox(false)
            let uploader = Thread {
                guard let ws = try? OpsWebSocket(port: harness.port, path: "/sink") else { upDone.value = true; return }
                let frame = OpsWebSocket.encode(opcode: 0x2, payload: Array(block.prefix(65536)))
                for _ in 0..<(upSize / 65536) where OpsSocket.sendAll(ws.fd, frame) {}
                ws.sendClose()
                _ = ws.waitForEOF(timeout: 20)
                ws.close()
                upDone.value = true
            }
            uploader.start()

            // Fast upstream → slow client: read raw bytes with a small buffer and pauses.
            let ws = try OpsWebSocket(port: harness.port, path: "/down")
            var small: Int32 = 64 * 1024
            setsockopt(ws.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            var received = ws.takeBuffered().count  // frames that came with the 101
            usleep(2_000_000)  // stalled at first, like the sink
            var sawClose = false
            var buffer = [UInt8](repeating: 0, count: 65536)
            var pending: [UInt8] = []
            let deadline = Date().addingTimeInterval(60)
            while !sawClose && Date() < deadline {
                guard OpsSocket.waitReadable(ws.fd, timeout: 10) else { break }
                let n = buffer.withUnsafeMutableBytes { recv(ws.fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                received += n
                if received % (4 << 20) < n { usleep(2_000) }
                // Watch the tail for the close frame, which says "upstream closed".
                pending = Array((pending + buffer[0..<n]).suffix(64))
                if received > downSize, OpsWebSocket.find(Array("upstream closed".utf8), in: pending) != nil {
                    sawClose = true
                }
            }
            ws.sendClose()
            ws.close()
            #expect(OpsProcess.eventually(timeout: 30) { upDone.value })
            #expect(OpsProcess.eventually(timeout: 10) { sinkCount.value == upSize }, "sink got \(sinkCount.value)")
            sampling.value = false
            let growth = peak.value - baseline
            print("[bridge backpressure] pushed \((downSize + upSize) >> 20) MiB; RSS baseline \(baseline >> 20) MiB, peak \(peak.value >> 20) MiB, growth \(growth >> 20) MiB")
            #expect(received > downSize, "client got \(received) bytes")
            #expect(growth < 150 << 20, "RSS grew \(growth >> 20) MiB")
        }
    }

    // MARK: Descriptors

    /// 200 bridges opened and closed (half closed by the client, half by the upstream): every
    /// socket is released.
    @Test func bridgesLeakNoDescriptors() throws {
        try opsHeavyLock.withLock {
            let echo = try OpsTCPServer.echo()
            defer { echo.stop() }
            let closer = try OpsTCPServer { fd in
                OpsSocket.sendAll(fd, Array("bye".utf8))
            }
            defer { closer.stop() }
            let harness = try GatewayHarness(yaml: GatewayHarness.yaml(
                routes: Self.routeYAML(port: echo.port, path: "/echo") + Self.routeYAML(port: closer.port, path: "/closer")))
            defer { harness.stop() }
            let baselineAll = OpsProcess.fdCount()
            let baselinePorts = OpsProcess.socketFDs(port: harness.port) + OpsProcess.socketFDs(port: echo.port)
                + OpsProcess.socketFDs(port: closer.port)
            for i in 0..<200 {
                if i % 2 == 0 {
                    let ws = try OpsWebSocket(port: harness.port, path: "/echo")
                    ws.send(opcode: 0x2, [UInt8](repeating: UInt8(i & 0xFF), count: 100))
                    let frame = ws.readFrame()
                    #expect(frame?.payload.count == 100)
                    ws.sendClose()
                    #expect(ws.readFrame()?.opcode == 0x8)
                    ws.close()
                } else {
                    let ws = try OpsWebSocket(port: harness.port, path: "/closer")
                    #expect(ws.readFrame()?.payload == Array("bye".utf8))
                    let close = ws.readFrame()
                    #expect(close?.closeCode == 1000)
                    ws.sendClose()
                    #expect(ws.waitForEOF(timeout: 5))
                    ws.close()
                }
            }
            let settled = OpsProcess.eventually(timeout: 10) {
                OpsProcess.socketFDs(port: harness.port) + OpsProcess.socketFDs(port: echo.port) + OpsProcess.socketFDs(port: closer.port)
                    <= baselinePorts
            }
            let after = OpsProcess.fdCount()
            print("[bridge fds] sockets on the gateway/upstream ports: baseline \(baselinePorts) (the listeners)")
            print("[bridge fds] /proc/self/fd baseline \(baselineAll), after 200 bridges \(after)")
            #expect(settled, "sockets on the bridge ports: \(OpsProcess.socketFDs(port: harness.port)) gateway, \(OpsProcess.socketFDs(port: echo.port)) echo, \(OpsProcess.socketFDs(port: closer.port)) closer")
            #expect(OpsProcess.eventually(timeout: 10) { abs(OpsProcess.fdCount() - baselineAll) <= 8 }, "fds \(OpsProcess.fdCount()) vs \(baselineAll)")
            #expect(harness.gateway.metrics.upstreamConnects.load == 200)
        }
    }

    /// Clients that send a complete handshake and go away at once, while the gateway is still
    /// connecting upstream: the upstream connections opened for them are closed too.
    @Test func clientGoneDuringUpstreamConnectLeaksNoUpstream() throws {
        try opsHeavyLock.withLock {
            let echo = try OpsTCPServer.echo()
            defer { echo.stop() }
            let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: Self.routeYAML(port: echo.port)))
            defer { harness.stop() }
            let baseline = OpsProcess.socketFDs(port: echo.port)
            for i in 0..<50 {
                let fd = try OpsSocket.connect(port: harness.port)
                OpsSocket.sendAll(fd, Self.handshake(port: harness.port, path: "/up"))
                if i % 2 == 0 {  // an abortive close (RST) for half of them
                    var linger = linger(l_onoff: 1, l_linger: 0)
                    setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
                }
                close(fd)
            }
            // Let the gateway see every client and finish every upstream connect.
            _ = OpsProcess.eventually(timeout: 5) { harness.gateway.metrics.connectionsAccepted.load == 50 }
            _ = OpsProcess.eventually(timeout: 5) { harness.gateway.metrics.connectionsOpen.load == 0 }
            usleep(300_000)
            let connects = harness.gateway.metrics.upstreamConnects.load
            print("[bridge connect race] upstream connects \(connects), echo accepted \(echo.counts.accepted), upstream sockets now \(OpsProcess.socketFDs(port: echo.port) - baseline)")
            let settled = OpsProcess.eventually(timeout: 8) { OpsProcess.socketFDs(port: echo.port) <= baseline }
            #expect(settled, "sockets to the upstream still open: \(OpsProcess.socketFDs(port: echo.port) - baseline) (both ends are in this process) after \(connects) upstream connects")
            #expect(OpsProcess.eventually(timeout: 5) { harness.gateway.metrics.connectionsOpen.load == 0 })
        }
    }
}
