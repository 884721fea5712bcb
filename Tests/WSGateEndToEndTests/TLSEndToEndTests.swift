import Foundation
import NIOCore
import Testing
import WSGateClient
import WSGateTLS
import WSGateWire

/// Issue #5: wss:// and https:// end to end, with independent clients (Python ssl + websockets,
/// openssl s_client, curl) and our own, and the ways a TLS connection can go wrong.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct TLSEndToEndTests {
    static let routes = """
          - path: /echo
            echo: true
          - path: /mixed
            room: tls-mixed
          - path: /
            static: etc/www

        """
    static let limits = "  max_message_bytes: 8388608\n  handshake_timeout_ms: 1000\n"

    /// TLS listener first (`ports[0]`), plain listener second (`ports[1]`).
    private func harness(plain: String = "reject", sni: Bool = false) throws -> GatewayHarness {
        try GatewayHarness(yaml: LegacyTestSupport.tlsYAML(routes: Self.routes, plain: plain, limits: Self.limits, sni: sni))
    }

    static let pythonClient = """
        import asyncio, ssl, sys, websockets
        async def main():
            context = ssl.create_default_context(cafile=sys.argv[2])
            async with websockets.connect(sys.argv[1], ssl=context, max_size=None) as ws:
                await ws.send("hello over tls")
                print("text:" + await ws.recv())
                big = bytes(range(256)) * (3 * 4096)
                await ws.send(big)
                reply = await ws.recv()
                print("big:%s:%d" % (reply == big, len(reply)))
        asyncio.run(main())
        """

    @Test func pythonSSLAndWebsocketsEchoOverWSS() throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let result = try runPython(Self.pythonClient, ["wss://127.0.0.1:\(harness.port)/echo", LegacyTestSupport.caPath], timeout: 20)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("text:hello over tls"))
        #expect(result.stdout.contains("big:True:3145728"))
    }

    @Test func opensslSClientVerifiesTheChain() throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let result = try runProcess(
            "/usr/bin/openssl",
            ["s_client", "-connect", "127.0.0.1:\(harness.port)", "-CAfile", LegacyTestSupport.caPath, "-verify_return_error", "-alpn", "http/1.1"],
            stdin: Data("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8), timeout: 10)
        #expect(result.stdout.contains("Verify return code: 0 (ok)"), "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("CN = localhost"))
        #expect(result.stdout.contains("ALPN protocol: http/1.1"))
        #expect(result.stdout.contains("TLSv1.3") || result.stdout.contains("TLSv1.2"))
    }

    @Test func largeMessagesCrossWSSBothWays() async throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let client = try await LegacyTestSupport.connect(
            port: harness.port, path: "/echo", dialect: .rfc6455, tls: try LegacyTestSupport.verifyingTLS())
        var big = ByteBuffer()
        big.writeBytes((0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) })
        client.send(.binary(big))
        #expect(try await client.next(timeout: .seconds(20)) == .binary(big))
        let text = String(repeating: "wss ✓ ", count: 300_000)  // 2.4 MB of UTF-8
        client.send(text)
        #expect(try await client.nextText(timeout: .seconds(20)) == text)
        try await client.close()
    }

    @Test(arguments: [ClientDialect.rfc6455(version: 13), .rfc6455(version: 8), .hixie76, .hixie75])
    func everyDialectWorksOverTLS(dialect: ClientDialect) async throws {
        let harness = try self.harness()
        defer { harness.stop() }
        // Our client checks that a hixie Location says wss:// (it expects the scheme it connected with).
        let client = try await LegacyTestSupport.connect(
            port: harness.port, path: "/echo", dialect: dialect, tls: try LegacyTestSupport.verifyingTLS())
        let location = client.client.responseHeaders.first { $0.0.hasSuffix("WebSocket-Location") }?.1
        if dialect.isHixie { #expect(location == "wss://127.0.0.1:\(harness.port)/echo") }
        client.send("over tls: \(dialect)")
        #expect(try await client.nextText() == "over tls: \(dialect)")
        try await client.close()
    }

    @Test func staticFilesAreServedOverHTTPS() throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let result = try runProcess(
            "/usr/bin/curl", ["-sS", "--max-time", "5", "--cacert", LegacyTestSupport.caPath, "-D", "-", "https://127.0.0.1:\(harness.port)/"],
            timeout: 10)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("HTTP/1.1 200 OK"))
        #expect(result.stdout.contains("<title>wsgate chat</title>"))
    }

    @Test func aRoomMixesWSAndWSSMembers() async throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let tls = try LegacyTestSupport.verifyingTLS()
        let members = [
            try await LegacyTestSupport.connect(port: harness.ports[0], path: "/mixed", dialect: .rfc6455, tls: tls),
            try await LegacyTestSupport.connect(port: harness.ports[1], path: "/mixed", dialect: .rfc6455),
            try await LegacyTestSupport.connect(port: harness.ports[0], path: "/mixed", dialect: .hixie76, tls: tls),
            try await LegacyTestSupport.connect(port: harness.ports[1], path: "/mixed", dialect: .hixie75),
        ]
        for (index, member) in members.enumerated() { member.send("from \(index)") }
        var sequences: [[String]] = []
        for member in members {
            var seen: [String] = []
            for _ in members { seen.append(try await member.nextText()) }
            sequences.append(seen)
        }
        for sequence in sequences { #expect(sequence == sequences[0]) }
        #expect(Set(sequences[0]) == Set((0..<members.count).map { "from \($0)" }))
        for member in members { try await member.close() }
    }

    @Test func badClientsAreRefusedWithoutHurtingAHealthyConnection() async throws {
        let harness = try self.harness()
        defer { harness.stop() }
        let port = harness.port
        let healthy = try await LegacyTestSupport.connect(
            port: port, path: "/echo", dialect: .rfc6455, tls: try LegacyTestSupport.verifyingTLS())
        func stillEchoes(_ label: String) async throws {
            healthy.send("still here after \(label)")
            #expect(try await healthy.nextText() == "still here after \(label)", "\(label)")
        }

        // Garbage that starts like a TLS record, then is not a ClientHello.
        let garbage = try LegacyRawSocket(port: port)
        garbage.send([0x16, 0x03, 0x01, 0x00, 0x10] + [UInt8](repeating: 0x41, count: 64))
        #expect(garbage.waitForClose(), "garbage handshake closed")
        try await stillEchoes("garbage")

        // A ClientHello that stops halfway: dropped by the handshake timeout (1 s here).
        let stalled = try LegacyRawSocket(port: port)
        stalled.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03] + [UInt8](repeating: 0x11, count: 20))
        #expect(stalled.waitForClose(timeout: 4), "stalled handshake dropped")
        try await stillEchoes("a stalled handshake")

        // A client that connects and says nothing at all is dropped too.
        let silent = try LegacyRawSocket(port: port)
        #expect(silent.waitForClose(timeout: 4), "silent connection dropped")
        try await stillEchoes("a silent connection")

        // TLS 1.0 only, from openssl (security level 0 so that the client itself allows it) and Python.
        let tls1 = try runProcess(
            "/usr/bin/openssl",
            ["s_client", "-connect", "127.0.0.1:\(port)", "-tls1", "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", LegacyTestSupport.caPath],
            stdin: Data(), timeout: 10)
        #expect(tls1.status != 0)
        #expect(tls1.stdout.contains("no peer certificate available"), "\(tls1.stdout)")
        #expect(tls1.stdout.contains("Cipher is (NONE)"), "\(tls1.stdout)\n\(tls1.stderr)")
        try await stillEchoes("openssl -tls1")
        let python = try runPython("""
            import socket, ssl, sys
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.load_verify_locations(sys.argv[2])
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1
            context.set_ciphers("DEFAULT@SECLEVEL=0")
            try:
                with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) as raw:
                    with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                        print("connected:" + tls.version())
            except ssl.SSLError as error:
                print("refused:" + error.reason)
            """, [String(port), LegacyTestSupport.caPath], timeout: 10)
        #expect(python.stdout.hasPrefix("refused:"), "\(python.stdout) \(python.stderr)")
        try await stillEchoes("python TLS 1.0")

        // Plaintext on a `plain: reject` port: dropped without an answer.
        let plaintext = try LegacyRawSocket(port: port)
        plaintext.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(plaintext.waitForClose())
        #expect(plaintext.received.isEmpty)
        try await stillEchoes("plaintext")

        try await healthy.close()
    }

    @Test func plainAcceptServesTLSAndPlainOnOnePort() async throws {
        let harness = try self.harness(plain: "accept")
        defer { harness.stop() }
        let port = harness.port
        let secure = try await LegacyTestSupport.connect(
            port: port, path: "/echo", dialect: .rfc6455, tls: try LegacyTestSupport.verifyingTLS())
        let plain = try await LegacyTestSupport.connect(port: port, path: "/echo", dialect: .hixie76)
        secure.send("wss")
        plain.send("ws")
        #expect(try await secure.nextText() == "wss")
        #expect(try await plain.nextText() == "ws")
        let http = String(decoding: try rawExchange(port: port, [Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)]), as: UTF8.self)
        #expect(http.hasPrefix("HTTP/1.1 200 OK"))
        let https = try runProcess(
            "/usr/bin/curl", ["-sS", "--max-time", "5", "--cacert", LegacyTestSupport.caPath, "https://127.0.0.1:\(port)/"], timeout: 10)
        #expect(https.stdout.contains("<title>wsgate chat</title>"), "\(https.stderr)")
        try await secure.close()
        try await plain.close()
    }

    @Test func sniChoosesTheCertificateByServerName() throws {
        let harness = try self.harness(sni: true)
        defer { harness.stop() }
        func subject(serverName: String?) throws -> String {
            var arguments = ["s_client", "-connect", "127.0.0.1:\(harness.port)", "-CAfile", LegacyTestSupport.caPath, "-verify_return_error"]
            if let serverName { arguments += ["-servername", serverName] }
            let result = try runProcess("/usr/bin/openssl", arguments, stdin: Data(), timeout: 10)
            #expect(result.stdout.contains("Verify return code: 0 (ok)"), "\(result.stdout)\n\(result.stderr)")
            return result.stdout.components(separatedBy: "\n").first { $0.hasPrefix("subject=") } ?? ""
        }
        #expect(try subject(serverName: "other.test").hasSuffix("CN = other.test"))
        #expect(try subject(serverName: "OTHER.test").hasSuffix("CN = other.test"))
        #expect(try subject(serverName: "localhost").hasSuffix("CN = localhost"))
        #expect(try subject(serverName: nil).hasSuffix("CN = localhost"))
    }
}
