import Foundation
import NIOCore
import Testing
import WSGateWire

/// A small compressed message that inflates far past `max_message_bytes` costs the gateway at most
/// the limit: inflation stops there with close 1009, and the process's peak memory shows it.
@Suite(.timeLimit(.minutes(1)))
struct CompressionBombTests {
    private func status(_ pid: Int32, _ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return 0
    }

    @Test func aBombStopsAtTheLimitWith1009AndPeakMemoryStaysNearIt() throws {
        let directory = try opsTemporaryDirectory()
        let port = try OpsSocket.freePort()
        let config = directory + "/wsgate.yaml"
        let limit = 2 << 20
        try """
            listeners:
              - bind: 127.0.0.1:\(port)
            routes:
              - path: /echo
                echo: true
                max_message_bytes: \(limit)

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let gateway = try OpsGatewayProcess(configPath: config, waitForPorts: [port])
        defer { gateway.kill() }
        let pid = gateway.process.processIdentifier

        // 256 MiB of zeros compress to about 256 KiB: well under the limit on the wire.
        var bomb = ByteBuffer()
        let chunk = ByteBuffer(repeating: 0, count: 1 << 20)
        let streaming = Deflater(windowBits: 15, memLevel: 8, level: 9, noContextTakeover: false)
        for index in 0..<256 {
            // Each piece ends at a sync flush whose 00 00 ff ff tail `compress` removed: put it back
            // between pieces, so that the whole is one message (RFC 7692 section 7.2.1).
            if index > 0 { bomb.writeBytes([0x00, 0x00, 0xFF, 0xFF]) }
            bomb.writeImmutableBuffer(streaming.compress(chunk))
        }
        #expect(bomb.readableBytes < limit / 4, "the bomb is small on the wire: \(bomb.readableBytes) bytes")
        let key: (UInt8, UInt8, UInt8, UInt8) = (1, 2, 3, 4)
        let frame = RFC6455FrameEncoder.compressedFrame(opcode: .binary, payload: bomb, maskingKey: key)

        let ws = try OpsWebSocket(port: port, path: "/echo", headers: ["Sec-WebSocket-Extensions: permessage-deflate"])
        #expect(ws.responseHead.lowercased().contains("sec-websocket-extensions: permessage-deflate"), "\(ws.responseHead)")
        let before = self.status(pid, "VmHWM")
        OpsSocket.sendAll(ws.fd, Array(frame.readableBytesView))
        let close = ws.readFrame(timeout: 10)
        #expect(close?.opcode == 0x8)
        #expect(close.map { Array($0.payload.prefix(2)) } == [0x03, 0xF1], "close 1009")
        let peak = self.status(pid, "VmHWM")
        print("[bomb] \(bomb.readableBytes) bytes inflating to 256 MiB, limit \(limit >> 20) MiB: peak RSS \(before >> 20) → \(peak >> 20) MiB")
        #expect(peak - before < 3 * limit + (4 << 20), "peak memory grew by \((peak - before) >> 20) MiB for a \(limit >> 20) MiB limit")
        // The gateway keeps serving.
        let other = try OpsWebSocket(port: port, path: "/echo")
        other.sendText("still here")
        #expect(other.readFrame()?.payload == Array("still here".utf8))
    }
}
