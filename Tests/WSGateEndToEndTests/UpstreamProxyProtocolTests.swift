import Foundation
import Testing

/// `unix:` upstreams, IPv6 (`[::1]` in `bind` and upstreams) and `proxy_protocol: v1 | v2` to
/// byte-stream upstreams (SPEC "Upstreams, all forms"), against a Python backend that parses the
/// PROXY header (HAProxy's proxy-protocol.txt) and answers what it read, then echoes.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct UpstreamProxyProtocolTests {
    /// argv: `unix PATH` or `tcp HOST`, then `proxy` to parse a PROXY header first. Prints its
    /// port (or `ready`). The answer to a header: `v1 TCP4 src sport dst dport HEX` then a newline.
    static let backend = """
        import binascii, os, socket, struct, sys, threading
        kind, where = sys.argv[1], sys.argv[2]
        parse = len(sys.argv) > 3 and sys.argv[3] == 'proxy'
        threading.Timer(120, lambda: os._exit(0)).start()
        tls = len(sys.argv) > 4 and sys.argv[4] == 'tls'
        if kind == 'unix':
            s = socket.socket(socket.AF_UNIX)
            s.bind(where)
        else:
            s = socket.socket(socket.AF_INET6 if ':' in where else socket.AF_INET)
            s.bind((where, 0))
        s.listen(16)
        print('ready' if kind == 'unix' else s.getsockname()[1], flush=True)
        SIG = b'\\r\\n\\r\\n\\x00\\r\\nQUIT\\n'
        pending = [b'']
        def more(c, buf, n):
            while len(buf) < n:
                d = c.recv(1 if tls else 65536)  # with TLS after it, not a byte past the header
                if not d: raise EOFError
                buf += d
            return buf
        def header(c):
            buf = more(c, b'', 16)
            if buf.startswith(SIG):
                assert buf[12] == 0x21, 'version 2, PROXY command'
                length = struct.unpack('!H', buf[14:16])[0]
                buf = more(c, buf, 16 + length)
                raw, rest = buf[:16 + length], buf[16 + length:]
                if buf[13] == 0x11:
                    assert length == 12
                    src, dst = socket.inet_ntop(socket.AF_INET, raw[16:20]), socket.inet_ntop(socket.AF_INET, raw[20:24])
                    sport, dport = struct.unpack('!HH', raw[24:28])
                    desc = 'v2 TCP4'
                else:
                    assert buf[13] == 0x21 and length == 36
                    src, dst = socket.inet_ntop(socket.AF_INET6, raw[16:32]), socket.inet_ntop(socket.AF_INET6, raw[32:48])
                    sport, dport = struct.unpack('!HH', raw[48:52])
                    desc = 'v2 TCP6'
            else:
                while b'\\r\\n' not in buf:
                    buf = more(c, buf, len(buf) + 1)
                line, rest = buf.split(b'\\r\\n', 1)
                raw = line + b'\\r\\n'
                assert len(raw) <= 107
                word, proto, src, dst, sport, dport = line.decode('ascii').split(' ')
                assert word == 'PROXY' and proto in ('TCP4', 'TCP6')
                sport, dport = int(sport), int(dport)
                desc = 'v1 ' + proto
            answer = ('%s %s %d %s %d %s\\n' % (desc, src, sport, dst, dport, binascii.hexlify(raw).decode())).encode()
            if tls:
                pending[0] = answer
            else:
                c.sendall(answer)
            return rest
        def serve(c):
            try:
                rest = header(c) if parse else b''
                if tls:
                    # The PROXY header came in the clear; TLS starts after it (HAProxy's send-proxy).
                    import ssl
                    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    context.load_cert_chain('certs-dev/server.crt', 'certs-dev/server.key')
                    assert not rest, 'nothing but the ClientHello may follow the header'
                    c = context.wrap_socket(c, server_side=True)
                    c.sendall(pending[0])
                if rest: c.sendall(rest)
                while True:
                    d = c.recv(65536)
                    if not d: break
                    c.sendall(d)
            except Exception as e:
                c.sendall(('error %r\\n' % e).encode())
            c.close()
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()
        """

    /// Connects to `url`, sends `hello`, prints `port LOCALPORT` and everything received up to the echo.
    static let client = BridgeEndToEndTests.pythonPrelude + """
        async def main():
            async with websockets.connect(url) as ws:
                print('port', ws.local_address[1])
                await ws.send(b'hello')
                got = b''
                while not got.endswith(b'hello'):
                    got += await asyncio.wait_for(ws.recv(), 5)
                print(got.decode())
        asyncio.run(main())
        """

    static func run(_ url: String) throws -> (clientPort: Int, lines: [String]) {
        let result = try runPython(Self.client, [url])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let port = lines.first { $0.hasPrefix("port ") }.flatMap { Int($0.dropFirst(5)) } ?? -1
        #expect(port > 0, "\(result.stdout) \(result.stderr)")
        return (port, lines)
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    static func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    @Test func aUnixUpstreamGetsAByteExactV1Header() throws {
        let path = NSTemporaryDirectory() + "wsgate-unix-\(getpid()).sock"
        unlink(path)
        defer { unlink(path) }
        let backend = try LegacyBackgroundProcess("/usr/bin/python3", ["-c", Self.backend, "unix", path, "proxy"])
        defer { backend.stop() }
        #expect(backend.firstLine() == "ready")
        let plain = try LegacyBackgroundProcess("/usr/bin/python3", ["-c", Self.backend, "unix", path + ".plain"])
        defer { plain.stop(); unlink(path + ".plain") }
        #expect(plain.firstLine() == "ready")
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
              - path: /unix
                upstream: unix:\(path)
                proxy_protocol: v1
              - path: /plain
                upstream: unix:\(path).plain

            """))
        defer { harness.stop() }
        let (clientPort, lines) = try Self.run("ws://127.0.0.1:\(harness.port)/unix")
        let expected = Array("PROXY TCP4 127.0.0.1 127.0.0.1 \(clientPort) \(harness.port)\r\n".utf8)
        #expect(lines.contains("v1 TCP4 127.0.0.1 \(clientPort) 127.0.0.1 \(harness.port) \(Self.hex(expected))"), "\(lines)")
        #expect(lines.last == "hello")
        let (_, plainLines) = try Self.run("ws://127.0.0.1:\(harness.port)/plain")
        #expect(plainLines.last == "hello", "a unix: upstream without proxy_protocol is a plain byte stream: \(plainLines)")
    }

    @Test func aTCPUpstreamGetsAByteExactV2Header() throws {
        let backend = try LegacyBackgroundProcess("/usr/bin/python3", ["-c", Self.backend, "tcp", "127.0.0.1", "proxy"])
        defer { backend.stop() }
        let backendPort = try #require(backend.firstLine().flatMap { Int($0) })
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
              - path: /v2
                upstream: tcp://127.0.0.1:\(backendPort)
                proxy_protocol: v2

            """))
        defer { harness.stop() }
        let (clientPort, lines) = try Self.run("ws://127.0.0.1:\(harness.port)/v2")
        let expected = Self.v2Signature + [0x21, 0x11, 0x00, 0x0C, 127, 0, 0, 1, 127, 0, 0, 1] + Self.be16(clientPort) + Self.be16(harness.port)
        #expect(lines.contains("v2 TCP4 127.0.0.1 \(clientPort) 127.0.0.1 \(harness.port) \(Self.hex(expected))"), "\(lines)")
        #expect(lines.last == "hello")
    }

    /// The PROXY header names the client's real address: from a trusted peer, the address its
    /// `X-Forwarded-For` gives (no port: 0), as logs and per-client limits use it.
    @Test func thePROXYHeaderNamesTheAddressATrustedProxyForwarded() throws {
        let backend = try LegacyBackgroundProcess("/usr/bin/python3", ["-c", Self.backend, "tcp", "127.0.0.1", "proxy"])
        defer { backend.stop() }
        let backendPort = try #require(backend.firstLine().flatMap { Int($0) })
        let harness = try GatewayHarness(yaml: "trusted_proxies: [127.0.0.1/32]\n" + GatewayHarness.yaml(routes: """
              - path: /v1
                upstream: tcp://127.0.0.1:\(backendPort)
                proxy_protocol: v1

            """))
        defer { harness.stop() }
        let ws = try OpsWebSocket(port: harness.port, path: "/v1", headers: ["X-Forwarded-For: 203.0.113.9"])
        let line = String(decoding: ws.readFrame()?.payload ?? [], as: UTF8.self)
        #expect(line.hasPrefix("v1 TCP4 203.0.113.9 0 127.0.0.1 \(harness.port) "), "\(line)")
        ws.close()
    }

    /// `tls://` with `proxy_protocol`: the header goes first, in the clear, then the TLS handshake.
    @Test func aTLSUpstreamGetsTheHeaderInTheClearBeforeTLS() throws {
        let backend = try LegacyBackgroundProcess("/usr/bin/python3", ["-c", Self.backend, "tcp", "127.0.0.1", "proxy", "tls"])
        defer { backend.stop() }
        let backendPort = try #require(backend.firstLine().flatMap { Int($0) })
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
              - path: /tls
                upstream: tls://127.0.0.1:\(backendPort)
                upstream_tls: { ca: certs-dev/ca.crt }
                proxy_protocol: v1

            """))
        defer { harness.stop() }
        let (clientPort, lines) = try Self.run("ws://127.0.0.1:\(harness.port)/tls")
        let expected = Array("PROXY TCP4 127.0.0.1 127.0.0.1 \(clientPort) \(harness.port)\r\n".utf8)
        #expect(lines.contains("v1 TCP4 127.0.0.1 \(clientPort) 127.0.0.1 \(harness.port) \(Self.hex(expected))"), "\(lines)")
        #expect(lines.last == "hello")
    }

    /// `[::1]` in `bind` and in the upstream URL; the PROXY header is TCP6.
    @Test(arguments: ["v1", "v2"])
    func ipv6ListenersAndUpstreamsSendTCP6Headers(version: String) throws {
        let backend = try LegacyBackgroundProcess("/usr/bin/python3", ["-c", Self.backend, "tcp", "::1", "proxy"])
        defer { backend.stop() }
        let backendPort = try #require(backend.firstLine().flatMap { Int($0) })
        let harness = try GatewayHarness(yaml: """
            listeners:
              - bind: "[::1]:0"
            routes:
              - path: /v6
                upstream: "tcp://[::1]:\(backendPort)"
                proxy_protocol: \(version)

            """)
        defer { harness.stop() }
        let (clientPort, lines) = try Self.run("ws://[::1]:\(harness.port)/v6")
        let expected: [UInt8]
        if version == "v1" {
            expected = Array("PROXY TCP6 ::1 ::1 \(clientPort) \(harness.port)\r\n".utf8)
        } else {
            let loopback: [UInt8] = Array(repeating: 0, count: 15) + [1]
            expected = Self.v2Signature + [0x21, 0x21, 0x00, 0x24] + loopback + loopback + Self.be16(clientPort) + Self.be16(harness.port)
        }
        #expect(lines.contains("\(version) TCP6 ::1 \(clientPort) ::1 \(harness.port) \(Self.hex(expected))"), "\(lines)")
        #expect(lines.last == "hello")
    }

    @Test func anIPv6WebSocketUpstreamCarriesMessages() throws {
        let harnessBackend = try WebSocketUpstreamTests.startBackend("/usr/bin/node", ["-e", WebSocketUpstreamTests.nodeBackend.replacingOccurrences(of: "host: '127.0.0.1'", with: "host: '::1'")])
        let (backend, backendPort) = harnessBackend
        defer { backend.stop() }
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: "  - path: /v6\n    upstream: \"ws://[::1]:\(backendPort)/\"\n"))
        defer { harness.stop() }
        let script = BridgeEndToEndTests.pythonPrelude + """
            async def main():
                async with websockets.connect(url) as ws:
                    await ws.send('over IPv6')
                    print('got', await asyncio.wait_for(ws.recv(), 5))
            asyncio.run(main())
            """
        let result = try runPython(script, ["ws://127.0.0.1:\(harness.port)/v6"])
        #expect(result.stdout.contains("got over IPv6"), "\(result.stdout) \(result.stderr)")
    }
}
