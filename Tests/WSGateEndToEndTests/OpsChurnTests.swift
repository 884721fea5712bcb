import Foundation
import Testing

/// ~1000 connections opened and closed in every flavour (RFC echo, RFC and hixie-76 room members,
/// bridges, refusals): descriptors return to their baseline and memory stays bounded.
@Suite(.timeLimit(.minutes(1)))
struct OpsChurnTests {
    @Test func churnLeaksNoDescriptorsAndBoundedMemory() throws {
        try opsHeavyLock.withLock {
            let echoUpstream = try OpsTCPServer.echo()
            defer { echoUpstream.stop() }
            let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
                  - path: /echo
                    echo: true
                  - path: /chat
                    room: churn
                    announce: true
                  - path: /up
                    upstream: tcp://127.0.0.1:\(echoUpstream.port)

                """))
            defer { harness.stop() }
            let port = harness.port
            // Warm up, so that one-time allocations are not counted as growth.
            for _ in 0..<20 {
                let ws = try OpsWebSocket(port: port, path: "/echo")
                ws.sendText("warm")
                _ = ws.readFrame()
                ws.close()
            }
            usleep(200_000)
            let baselineFDs = OpsProcess.fdCount()
            let baselineSockets = OpsProcess.socketFDs(port: port) + OpsProcess.socketFDs(port: echoUpstream.port)
            let baselineRSS = OpsProcess.rss()
            let anchor = try OpsWebSocket(port: port, path: "/chat")  // keeps the room alive throughout
            let start = Date()
            for i in 0..<1000 {
                switch i % 5 {
                case 0:  // RFC echo, closed with a closing handshake
                    let ws = try OpsWebSocket(port: port, path: "/echo")
                    ws.send(opcode: 0x2, [UInt8](repeating: UInt8(i & 0xFF), count: 1000))
                    #expect(ws.readFrame()?.payload.count == 1000)
                    ws.sendClose()
                    _ = ws.waitForEOF(timeout: 5)
                    ws.close()
                case 1:  // RFC room member, TCP dropped without a close frame
                    let ws = try OpsWebSocket(port: port, path: "/chat")
                    ws.sendText("hi \(i)")
                    _ = ws.readFrame()
                    ws.close()
                case 2:  // hixie-76 room member, closing handshake
                    let (fd, _) = try OpsHixie76.open(port: port, path: "/chat")
                    OpsSocket.sendAll(fd, [0x00] + Array("hixie \(i)".utf8) + [0xFF, 0xFF, 0x00])
                    _ = OpsSocket.receiveAll(fd, timeout: 5)
                    close(fd)
                case 3:  // bridge, client closes
                    let ws = try OpsWebSocket(port: port, path: "/up")
                    ws.send(opcode: 0x2, Array("bridge \(i)".utf8))
                    _ = ws.readFrame()
                    ws.sendClose()
                    _ = ws.waitForEOF(timeout: 5)
                    ws.close()
                default:  // refused (404) and a half-sent handshake dropped by the client
                    _ = try rawExchange(port: port, [Array("GET /nowhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n".utf8)])
                    let fd = try OpsSocket.connect(port: port)
                    OpsSocket.sendAll(fd, Array("GET /echo HTTP/1.1\r\nHo".utf8))
                    close(fd)
                }
                // Drain the anchor's inbox now and then (announcements and room messages).
                if i % 50 == 0 { while anchor.readFrame(timeout: 0.01) != nil {} }
            }
            let elapsed = Date().timeIntervalSince(start)
            anchor.close()
            let settled = OpsProcess.eventually(timeout: 10) {
                OpsProcess.socketFDs(port: port) + OpsProcess.socketFDs(port: echoUpstream.port) <= baselineSockets
            }
            let fdsBack = OpsProcess.eventually(timeout: 10) { abs(OpsProcess.fdCount() - baselineFDs) <= 8 }
            let growth = OpsProcess.rss() - baselineRSS
            print("[churn] 1200 connections in \(String(format: "%.1f", elapsed)) s; /proc/self/fd \(baselineFDs) → \(OpsProcess.fdCount()); sockets on gateway/upstream ports \(baselineSockets) → \(OpsProcess.socketFDs(port: port) + OpsProcess.socketFDs(port: echoUpstream.port)); RSS \(baselineRSS >> 20) → \(OpsProcess.rss() >> 20) MiB")
            #expect(settled, "sockets left: \(OpsProcess.socketFDs(port: port)) gateway, \(OpsProcess.socketFDs(port: echoUpstream.port)) upstream")
            #expect(fdsBack, "fds \(OpsProcess.fdCount()) vs baseline \(baselineFDs)")
            #expect(growth < 64 << 20, "RSS grew \(growth >> 20) MiB")
            #expect(OpsProcess.eventually(timeout: 5) { harness.gateway.metrics.connectionsOpen.load == 0 })
            #expect(OpsProcess.eventually(timeout: 5) { harness.gateway.rooms.snapshot().isEmpty }, "the room goes with its last member")
        }
    }
}
