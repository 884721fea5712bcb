import Foundation
import Testing
import WSGateClient
import WSGateWire

/// hixie clients over upstream bridges: base64 unless the route says `text` (SPEC "Upstream bridges").
@Suite(.serialized, .timeLimit(.minutes(1)))
struct LegacyBridgeTests {
    @Test(arguments: [ClientDialect.hixie76, ClientDialect.hixie75])
    func hixieClientsSpeakBase64ThroughABinaryBridge(dialect: ClientDialect) async throws {
        let upstream = try OpsTCPServer.echo()
        defer { upstream.stop() }
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
              - path: /tcp
                upstream: tcp://127.0.0.1:\(upstream.port)
                encoding: binary

            """))
        defer { harness.stop() }
        let client = try await LegacyTestSupport.connect(port: harness.port, path: "/tcp", dialect: dialect)
        let bytes: [UInt8] = [0x00, 0xFF, 0x10, 0x80, 0x7F, 0xC3]  // not text: only base64 carries it
        client.send(Base64.encode(bytes))
        let reply = try await client.nextText(timeout: .seconds(5))
        #expect(Base64.decode(reply) == bytes, "the upstream's echo comes back as base64 text: \(reply)")
        client.send("not base64!")
        let close = try await client.closeEvent(timeout: .seconds(5))
        #expect(close.code == nil, "a hixie client is dropped for text that is not base64")
    }

    @Test func hixie76ClientGetsTextThroughATextBridge() async throws {
        let upstream = try OpsTCPServer.echo()
        defer { upstream.stop() }
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
              - path: /tcp
                upstream: tcp://127.0.0.1:\(upstream.port)
                encoding: text

            """))
        defer { harness.stop() }
        let client = try await LegacyTestSupport.connect(port: harness.port, path: "/tcp", dialect: .hixie76)
        client.send("grüße, hixie")
        #expect(try await client.nextText(timeout: .seconds(5)) == "grüße, hixie")
        try await client.close()
    }
}
