import Foundation
import NIOCore
import Testing
import WSGateClient

/// Our client against an independent implementation: Debian's node-faye-websocket, which serves
/// draft-75, draft-76 and hybi as a server, and speaks hybi (RFC 6455) as a client.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct LegacyFayeInteropTests {
    static let fayePath = "/usr/share/nodejs/faye-websocket"

    /// A faye echo server on an ephemeral port; prints the port, exits by itself after 30 s.
    static let echoServer = """
        const http = require('http');
        const WebSocket = require('\(fayePath)');
        const server = http.createServer();
        server.on('upgrade', (request, socket, body) => {
          if (!WebSocket.isWebSocket(request)) return socket.end();
          const ws = new WebSocket(request, socket, body);
          ws.on('message', (event) => ws.send(event.data));
        });
        server.listen(0, '127.0.0.1', () => console.log(server.address().port));
        setTimeout(() => process.exit(0), 30000);
        """

    /// faye's client: connects, sends one message, prints what comes back and the close code.
    static let echoClient = """
        const WebSocket = require('\(fayePath)');
        const ws = new WebSocket.Client(process.argv[1]);
        ws.on('open', () => ws.send('hello from faye ✓'));
        ws.on('message', (event) => { console.log('message:' + event.data); ws.close(1000, 'bye'); });
        ws.on('close', (event) => { console.log('close:' + event.code); process.exit(0); });
        setTimeout(() => { console.log('timeout'); process.exit(1); }, 5000);
        """

    @Test(arguments: [ClientDialect.hixie76, .hixie75, .rfc6455(version: 13)])
    func ourClientRoundTripsWithAFayeServer(dialect: ClientDialect) async throws {
        let server = try LegacyBackgroundProcess(
            "/usr/bin/env", ["NODE_PATH=/usr/share/nodejs", "node", "-e", Self.echoServer])
        defer { server.stop() }
        let line = try #require(server.firstLine(), "faye server did not print its port")
        let port = try #require(Int(line.trimmingCharacters(in: .whitespaces)))
        let client = try await LegacyTestSupport.connect(port: port, path: "/faye", dialect: dialect)
        for text in ["hello faye", "ünïcödé ✓"] {
            client.send(text)
            #expect(try await client.nextText() == text)
        }
        try await client.close()
    }

    @Test func fayeClientTalksToTheGatewayOverRFC6455() throws {
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: "  - path: /echo\n    echo: true\n"))
        defer { harness.stop() }
        let result = try runProcess(
            "/usr/bin/env", ["NODE_PATH=/usr/share/nodejs", "node", "-e", Self.echoClient, "ws://127.0.0.1:\(harness.port)/echo"],
            timeout: 10)
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("message:hello from faye ✓"))
        #expect(result.stdout.contains("close:1000"))
    }
}
