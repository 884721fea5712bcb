import Foundation
import NIOCore
import Testing
import WSGateClient
import WSGateWire

/// Shutdown with a bridge open: the client gets close 1001, the upstream every byte and then a FIN.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct OpsShutdownBridgeTests {
    @Test func shutdownLetsBridgesFlushThenClosesBothSides() async throws {
        let received = OpsBox<(bytes: [UInt8], sawEOF: Bool)?>(nil)
        let upstream = try OpsTCPServer { fd in
            received.value = OpsSocket.receiveAll(fd, timeout: 15)
        }
        defer { upstream.stop() }
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
              - path: /tcp
                upstream: tcp://127.0.0.1:\(upstream.port)

            """))
        let client = try await LegacyTestSupport.connect(port: harness.port, path: "/tcp", dialect: .rfc6455(version: 13))
        var sent: [UInt8] = []
        for i in 0..<64 {
            let chunk = [UInt8](repeating: UInt8(i), count: 16 * 1024)
            sent += chunk
            client.send(.binary(ByteBuffer(bytes: chunk)))
        }
        // Every byte reaches the gateway before the drain starts (the client flushes each send).
        try await Task.sleep(for: .milliseconds(300))
        let stopping = Thread { harness.stop(drainTimeout: .seconds(3)) }
        stopping.start()
        let close = try await client.closeEvent(timeout: .seconds(5))
        #expect(close.code == 1001, "going away")
        #expect(upstream.waitIdle(timeout: 10))
        #expect(received.value?.sawEOF == true, "the upstream got a FIN")
        #expect(received.value?.bytes.count == sent.count)
        #expect(received.value?.bytes == sent, "every byte, in order, before the FIN")
    }
}
