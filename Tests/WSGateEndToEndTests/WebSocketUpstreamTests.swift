import Foundation
import Testing
import WSGateClient
import WSGateWire

/// WebSocket upstreams (SPEC "Upstreams, all forms"), against independent RFC 6455 backends that
/// the tests start on loopback: Python `websockets` (Debian's python3-websockets) and node `ws`
/// (Debian's node-ws); clients are Python `websockets` and our hixie-76 and hixie-75 clients.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct WebSocketUpstreamTests {
    /// A Python `websockets` backend; prints its port first. Paths: `/headers` (sends the request's
    /// headers as JSON, then echoes), `/close4001`, `/ping` (pings the gateway, says `pong ok`),
    /// `/binary` (sends 4 binary bytes, then echoes), `/lastclose` (the code and reason of the last
    /// echo connection's end), `/stall` (never reads), `/refuse` (HTTP 403), `/ext` (sends the
    /// extensions it answered, then echoes); anything else echoes.
    static let pythonBackend = """
        import asyncio, http, json, websockets
        last_close = ['none']
        async def refuse(path, headers):
            if path.startswith('/refuse'):
                return (http.HTTPStatus.FORBIDDEN, [('Content-Type', 'text/plain')], b'go away\\n')
        async def handler(ws, path):
            p = path.split('?')[0]
            if p == '/headers':
                await ws.send(json.dumps([[k.lower(), v] for k, v in ws.request_headers.raw_items()]))
            elif p == '/close4001':
                await ws.send('bye soon')
                await ws.close(4001, 'backend says bye')
                return
            elif p == '/ping':
                waiter = await ws.ping(b'hop')
                await asyncio.wait_for(waiter, 5)
                await ws.send('pong ok')
            elif p == '/binary':
                await ws.send(bytes([0, 1, 254, 255]))
            elif p == '/ext':
                await ws.send(ws.response_headers.get('Sec-WebSocket-Extensions', 'none'))
            elif p == '/lastclose':
                await ws.send(last_close[0])
                return
            elif p == '/stall':
                await asyncio.sleep(60)
                return
            try:
                async for message in ws:
                    await ws.send(message)
            except websockets.ConnectionClosed:
                pass
            await ws.wait_closed()
            last_close[0] = '%s %s' % (ws.close_code, ws.close_reason)
        async def main():
            server = await websockets.serve(handler, '127.0.0.1', 0, subprotocols=['chat.v2', 'chat.v1'], process_request=refuse,
                                            max_size=None, max_queue=1, ping_interval=None)
            print(server.sockets[0].getsockname()[1], flush=True)
            await asyncio.sleep(120)
        asyncio.run(main())
        """

    /// A node `ws` backend: echoes (text as text, binary as binary); `/binary` first sends 4 binary
    /// bytes, `/close4001` says `bye soon` and closes with 4001.
    static let nodeBackend = """
        const WebSocket = require('/usr/share/nodejs/ws');
        const wss = new WebSocket.Server({ host: '127.0.0.1', port: 0 });
        wss.on('listening', () => console.log(wss.address().port));
        wss.on('connection', (ws, req) => {
          if (req.url === '/binary') ws.send(Buffer.from([0, 1, 254, 255]));
          if (req.url === '/close4001') { ws.send('bye soon'); ws.close(4001, 'backend says bye'); return; }
          ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
        });
        setTimeout(() => process.exit(0), 120000);
        """

    /// A backend that completes the handshake and then never reads (a raw socket: `websockets`
    /// itself keeps reading into its buffers). Prints its port first.
    static let stallingBackend = """
        import base64, hashlib, socket, threading, time
        listener = socket.socket()
        listener.bind(('127.0.0.1', 0))
        listener.listen(8)
        print(listener.getsockname()[1], flush=True)
        held = []
        def serve(conn):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            head = b''
            while b'\\r\\n\\r\\n' not in head:
                head += conn.recv(4096)
            key = [l.split(b':', 1)[1].strip() for l in head.split(b'\\r\\n') if l.lower().startswith(b'sec-websocket-key:')][0]
            accept = base64.b64encode(hashlib.sha1(key + b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest())
            conn.sendall(b'HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: ' + accept + b'\\r\\n\\r\\n')
            held.append(conn)
        deadline = time.time() + 60
        listener.settimeout(1)
        while time.time() < deadline:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        """

    static func startBackend(_ executable: String, _ arguments: [String]) throws -> (LegacyBackgroundProcess, Int) {
        let process = try LegacyBackgroundProcess(executable, arguments)
        guard let line = process.firstLine(timeout: 10), let port = Int(line.trimmingCharacters(in: .whitespaces)) else {
            process.stop()
            throw OpsError("the backend did not start")
        }
        return (process, port)
    }

    static func python() throws -> (LegacyBackgroundProcess, Int) { try Self.startBackend("/usr/bin/python3", ["-c", Self.pythonBackend]) }
    static func node() throws -> (LegacyBackgroundProcess, Int) { try Self.startBackend("/usr/bin/node", ["-e", Self.nodeBackend]) }

    static func gateway(backendPort: Int, limits: String = "") throws -> GatewayHarness {
        try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
              - path: /ws/*
                room: "*"
              - path: /up
                upstream: ws://127.0.0.1:\(backendPort)/headers
              - path: /echo
                upstream: ws://127.0.0.1:\(backendPort)/
              - path: /close
                upstream: ws://127.0.0.1:\(backendPort)/close4001
              - path: /ping
                upstream: ws://127.0.0.1:\(backendPort)/ping
              - path: /binary
                upstream: ws://127.0.0.1:\(backendPort)/binary
              - path: /lastclose
                upstream: ws://127.0.0.1:\(backendPort)/lastclose
              - path: /stall
                upstream: ws://127.0.0.1:\(backendPort)/stall
              - path: /refuse
                upstream: ws://127.0.0.1:\(backendPort)/refuse
              - path: /ext
                upstream: ws://127.0.0.1:\(backendPort)/ext
              - path: /ext-off
                upstream: ws://127.0.0.1:\(backendPort)/ext
                compression: off

            """, limits: limits))
    }

    /// Runs `clientScript` (after `BridgeEndToEndTests.pythonPrelude`, `url` the gateway's) against
    /// a gateway in front of a fresh Python backend; its output lines, and everything for messages.
    static func throughPythonBackend(_ clientScript: String) throws -> (lines: [String], output: String) {
        let (backend, backendPort) = try Self.python()
        defer { backend.stop() }
        let harness = try Self.gateway(backendPort: backendPort)
        defer { harness.stop() }
        let result = try runPython(BridgeEndToEndTests.pythonPrelude + clientScript, ["ws://127.0.0.1:\(harness.port)"])
        return (result.stdout.split(separator: "\n").map(String.init), result.stdout + result.stderr)
    }

    // MARK: RFC 6455 clients

    @Test func textAndBinaryBothWaysWithTheBackendsSubprotocolAndForwardingHeaders() throws {
        let (backend, backendPort) = try Self.python()
        defer { backend.stop() }
        let harness = try Self.gateway(backendPort: backendPort)
        defer { harness.stop() }
        let script = BridgeEndToEndTests.pythonPrelude + """
            import json
            async def main():
                async with websockets.connect(url + '/up', subprotocols=['chat.v1', 'other'], origin=url.replace('ws://', 'http://'),
                                              extra_headers={'Cookie': 'a=1', 'Authorization': 'Bearer abc', 'X-Forwarded-For': '6.6.6.6'},
                                              max_size=None) as ws:
                    print('subprotocol', ws.subprotocol)
                    print('headers', await asyncio.wait_for(ws.recv(), 5))
                    await ws.send('grüße')
                    print('text', await asyncio.wait_for(ws.recv(), 5) == 'grüße')
                    big = bytes(range(256)) * 1000
                    await ws.send(big)
                    got = await asyncio.wait_for(ws.recv(), 5)
                    print('binary', isinstance(got, bytes) and got == big)
                    await asyncio.wait_for(await ws.ping(b'c'), 5)
                    print('client hop pong')
                    await ws.close(4002, 'client says bye')
                value = 'none'
                for _ in range(40):
                    async with websockets.connect(url + '/lastclose') as ws:
                        value = await asyncio.wait_for(ws.recv(), 5)
                    if value != 'none': break
                    await asyncio.sleep(0.1)
                print('lastclose', value)
            asyncio.run(main())
            """
        let result = try runPython(script, ["ws://127.0.0.1:\(harness.port)"])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("subprotocol chat.v1"), "\(result.stdout) \(result.stderr)")
        #expect(lines.contains("text True"))
        #expect(lines.contains("binary True"))
        #expect(lines.contains("client hop pong"))
        #expect(lines.contains("lastclose 4002 client says bye"), "the client's close code and reason reach the backend")
        let json = lines.first { $0.hasPrefix("headers ") }.map { String($0.dropFirst("headers ".count)) } ?? "[]"
        let pairs = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [[String]] ?? []
        let headers = Dictionary(pairs.map { ($0[0], $0[1]) }, uniquingKeysWith: { a, b in a + "|" + b })
        #expect(headers["host"] == "127.0.0.1:\(backendPort)", "\(headers)")
        #expect(headers["origin"] == "http://127.0.0.1:\(harness.port)")
        #expect(headers["cookie"] == "a=1")
        #expect(headers["authorization"] == "Bearer abc")
        #expect(headers["x-forwarded-for"] == "127.0.0.1", "an untrusted peer's X-Forwarded-For is replaced")
        #expect(headers["x-forwarded-proto"] == "http")
        #expect(headers["x-forwarded-host"] == "127.0.0.1:\(harness.port)")
        #expect(headers["forwarded"] == "for=127.0.0.1;proto=http;host=\"127.0.0.1:\(harness.port)\"")
        #expect(headers["sec-websocket-protocol"] == "chat.v1, other")
        #expect(
            headers["sec-websocket-extensions"] == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
            "the backend hop gets the gateway's own offer, never the client's")
    }

    @Test func theBackendHopNegotiatesItsOwnCompressionAndMessagesPassBothWays() throws {
        // The client offers nothing (compression=None): only the backend's hop is compressed, so
        // every message is inflated and deflated again by the gateway on its way.
        let (lines, output) = try Self.throughPythonBackend("""
            async def main():
                for path in ['/ext', '/ext-off']:
                    async with websockets.connect(url + path, compression=None, max_size=None) as ws:
                        print(path, 'client hop', ws.response_headers.get('Sec-WebSocket-Extensions', 'none'))
                        print(path, 'backend hop', await asyncio.wait_for(ws.recv(), 5))
                        text = ('{"user": "ada", "text": "grüße aus dem backend"} ' * 4000)[:150000]
                        await ws.send(text)
                        print(path, 'text', await asyncio.wait_for(ws.recv(), 5) == text)
                        blob = bytes(range(256)) * 512
                        await ws.send(blob)
                        print(path, 'binary', await asyncio.wait_for(ws.recv(), 5) == blob)
                        await ws.send('short')
                        print(path, 'short', await asyncio.wait_for(ws.recv(), 5) == 'short')
            asyncio.run(main())
            """)
        #expect(lines.contains("/ext client hop none"), "\(output)")
        #expect(lines.contains("/ext backend hop permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"), "\(lines)")
        #expect(lines.contains("/ext text True"))
        #expect(lines.contains("/ext binary True"))
        #expect(lines.contains("/ext short True"))
        #expect(lines.contains("/ext-off backend hop none"), "compression: off offers nothing to the backend either")
        #expect(lines.contains("/ext-off text True"))
        #expect(lines.contains("/ext-off binary True"))
    }

    @Test func aBackendsCloseCodeAndReasonReachTheClient() throws {
        let (backend, backendPort) = try Self.python()
        defer { backend.stop() }
        let harness = try Self.gateway(backendPort: backendPort)
        defer { harness.stop() }
        let script = BridgeEndToEndTests.pythonPrelude + """
            async def main():
                async with websockets.connect(url + '/close') as ws:
                    print('first', await asyncio.wait_for(ws.recv(), 5))
                    try:
                        await asyncio.wait_for(ws.recv(), 5)
                    except websockets.ConnectionClosed:
                        pass
                    print('close', ws.close_code, ws.close_reason)
            asyncio.run(main())
            """
        let result = try runPython(script, ["ws://127.0.0.1:\(harness.port)"])
        #expect(result.stdout.contains("first bye soon"), "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("close 4001 backend says bye"))
    }

    @Test func theBackendsPingsAreAnsweredOnItsHop() throws {
        let (backend, backendPort) = try Self.python()
        defer { backend.stop() }
        let harness = try Self.gateway(backendPort: backendPort)
        defer { harness.stop() }
        let script = BridgeEndToEndTests.pythonPrelude + """
            async def main():
                async with websockets.connect(url + '/ping') as ws:
                    print('got', await asyncio.wait_for(ws.recv(), 5))
            asyncio.run(main())
            """
        let result = try runPython(script, ["ws://127.0.0.1:\(harness.port)"])
        #expect(result.stdout.contains("got pong ok"), "\(result.stdout) \(result.stderr)")
    }

    // MARK: Refusals before any 101

    @Test func aBackendAnsweringAnythingButA101Is502WithItsStatus() throws {
        let (backend, backendPort) = try Self.python()
        defer { backend.stop() }
        let harness = try Self.gateway(backendPort: backendPort)
        defer { harness.stop() }
        let reply = String(
            decoding: try rawExchange(port: harness.port, [BridgeEndToEndTests.handshake(port: harness.port, path: "/refuse")]), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 502 "), "\(reply)")
        #expect(!reply.contains(" 101 "))
        let body = reply.components(separatedBy: "\r\n\r\n").dropFirst().joined()
        #expect(body.contains("403 Forbidden"), "the body names the backend's status: \(body)")
        #expect(harness.gateway.metrics.upstreamFailures.load == 1)
    }

    @Test func aBackendThatNeverAnswersItsHandshakeIs504() throws {
        // The kernel completes connects into the backlog; nobody ever accepts or answers.
        let (listenFD, port) = try OpsSocket.listen(backlog: 8)
        defer { close(listenFD) }
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
              - path: /silent
                upstream: ws://127.0.0.1:\(port)/
                connect_timeout_ms: 400

            """))
        defer { harness.stop() }
        let start = Date()
        let reply = String(
            decoding: try rawExchange(port: harness.port, [BridgeEndToEndTests.handshake(port: harness.port, path: "/silent")]), as: UTF8.self)
        let elapsed = Date().timeIntervalSince(start)
        #expect(reply.hasPrefix("HTTP/1.1 504 "), "\(reply)")
        #expect(elapsed >= 0.35 && elapsed < 3, "answered after \(elapsed) s")
    }

    @Test func aRefusedBackendConnectIs502() throws {
        let deadPort = try OpsSocket.freePort()
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: "  - path: /dead\n    upstream: ws://127.0.0.1:\(deadPort)/\n"))
        defer { harness.stop() }
        let reply = String(
            decoding: try rawExchange(port: harness.port, [BridgeEndToEndTests.handshake(port: harness.port, path: "/dead")]), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 502 "), "\(reply)")
    }

    // MARK: Backpressure

    /// A backend that stops reading: the client's sends stop being read soon after, so what the
    /// gateway holds stays bounded (its write watermarks, one message, the kernel's buffers).
    @Test func aBackendThatStopsReadingStopsTheClientsSends() throws {
        let (backend, backendPort) = try Self.startBackend("/usr/bin/python3", ["-c", Self.stallingBackend])
        defer { backend.stop() }
        let harness = try Self.gateway(backendPort: backendPort)
        defer { harness.stop() }
        let script = BridgeEndToEndTests.pythonPrelude + """
            import os
            async def main():
                # Not compressed: 64 KiB that deflate cannot shrink, on a hop without permessage-deflate.
                async with websockets.connect(url + '/stall', max_size=None, write_limit=65536, close_timeout=1, compression=None) as ws:
                    chunk = os.urandom(65536)
                    sent = 0
                    loop = asyncio.get_running_loop()
                    end = loop.time() + 3
                    try:
                        while loop.time() < end and sent < 2048:
                            await asyncio.wait_for(ws.send(chunk), max(0.05, end - loop.time()))
                            sent += 1
                    except asyncio.TimeoutError:
                        pass
                    print('sent', sent * 65536)
            asyncio.run(main())
            """
        let result = try runPython(script, ["ws://127.0.0.1:\(harness.port)"], timeout: 20)
        let sent = result.stdout.split(separator: "\n").first { $0.hasPrefix("sent ") }.flatMap { Int($0.dropFirst(5)) }
        #expect(sent != nil, "\(result.stdout) \(result.stderr)")
        // Linux lets a socket's receive buffer grow to tcp_rmem's maximum (32 MiB here) and its
        // send buffer to 4 MiB: with the gateway's 1 MiB watermark and one message, ~42 MiB may
        // leave the client before anything pushes back. 2,048 × 64 KiB (128 MiB, what an unbounded
        // relay takes in well under the 3 s) would mean nothing did.
        #expect((sent ?? .max) < 64 << 20, "the client got \(sent ?? -1) bytes out against a backend that reads nothing")
    }

    // MARK: hixie clients, node ws backend

    @Test(arguments: [ClientDialect.hixie76, ClientDialect.hixie75])
    func hixieClientsUseAnRFC6455OnlyBackend(dialect: ClientDialect) async throws {
        let (backend, backendPort) = try Self.node()
        defer { backend.stop() }
        let harness = try Self.gateway(backendPort: backendPort)
        defer { harness.stop() }
        let client = try await LegacyTestSupport.connect(port: harness.port, path: "/echo", dialect: dialect)
        client.send("grüße, hixie")
        #expect(try await client.nextText(timeout: .seconds(5)) == "grüße, hixie")
        try await client.close()

        let binary = try await LegacyTestSupport.connect(port: harness.port, path: "/binary", dialect: dialect)
        let reply = try await binary.nextText(timeout: .seconds(5))
        #expect(Base64.decode(reply) == [0, 1, 254, 255], "binary from the backend reaches hixie clients as base64 text: \(reply)")
        try await binary.close()

        let closing = try await LegacyTestSupport.connect(port: harness.port, path: "/close", dialect: dialect)
        #expect(try await closing.nextText(timeout: .seconds(5)) == "bye soon")
        let close = try await closing.closeEvent(timeout: .seconds(5))
        #expect(close.code == nil, "hixie has no close codes: \(close)")
    }

    @Test func anRFC6455ClientThroughANodeBackendGetsBinaryAsBinary() throws {
        let (backend, backendPort) = try Self.node()
        defer { backend.stop() }
        let harness = try Self.gateway(backendPort: backendPort)
        defer { harness.stop() }
        let script = BridgeEndToEndTests.pythonPrelude + """
            async def main():
                async with websockets.connect(url + '/binary') as ws:
                    first = await asyncio.wait_for(ws.recv(), 5)
                    print('first', list(first) if isinstance(first, bytes) else first)
                    await ws.send(b'\\x00\\xff')
                    print('echo', list(await asyncio.wait_for(ws.recv(), 5)))
                async with websockets.connect(url + '/close') as ws:
                    await ws.recv()
                    try:
                        await asyncio.wait_for(ws.recv(), 5)
                    except websockets.ConnectionClosed:
                        pass
                    print('close', ws.close_code, ws.close_reason)
            asyncio.run(main())
            """
        let result = try runPython(script, ["ws://127.0.0.1:\(harness.port)"])
        #expect(result.stdout.contains("first [0, 1, 254, 255]"), "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("echo [0, 255]"))
        #expect(result.stdout.contains("close 4001 backend says bye"))
    }
}
