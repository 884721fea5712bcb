import Foundation
import Testing

@Suite(.serialized, .timeLimit(.minutes(1)))
struct StaticHTTPSmokeTests {
    @Test func demoPageIsServedFromTheStaticRoute() throws {
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: "  - path: /\n    static: etc/www\n"))
        defer { harness.stop() }
        let reply = try rawExchange(port: harness.port, [Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)])
        let text = String(decoding: reply, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("Content-Type: text/html; charset=utf-8"))
        #expect(text.contains("<title>wsgate chat</title>"))
    }
}
