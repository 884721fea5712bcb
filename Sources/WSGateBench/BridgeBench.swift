import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import WSGateClient
import WSGateWire

/// `bridge`: binary messages through an upstream route to a TCP echo service that the bench runs
/// itself (`--upstream-port`), closed loop by bytes; reports MB/s echoed back.
enum BridgeBench {
    /// A TCP echo server on 127.0.0.1.
    final class EchoHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.write(data, promise: nil) }
        func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
    }

    static func startUpstream(port: Int, group: EventLoopGroup) throws -> Channel {
        try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
            .bind(host: "127.0.0.1", port: port).wait()
    }

    static func run(
        connector: BenchConnector, connections: Int, size: Int, inFlight: Int, duration: Double, upstreamPort: Int,
        serverPID: Int32?, group: EventLoopGroup, commandLine: String
    ) throws -> BenchReport {
        let upstream = try Self.startUpstream(port: upstreamPort, group: group)
        defer { try? upstream.close().wait() }
        let bytes = NIOLockedValueBox(0)
        let measuring = NIOLockedValueBox(false)
        let deadline = NIOLockedValueBox(NIODeadline.distantFuture)
        let payload = ByteBuffer(repeating: 0x5A, count: size)
        var clients: [WebSocketClient] = []
        let clientsBox = NIOLockedValueBox<[Int: WebSocketClient]>([:])
        clients = try connector.connectMany(count: connections, group: group) { index, loop in
            // The first burst, sent below once all are connected; messages run on `loop`.
            let outstanding = NIOLoopBoundBox.makeBoxSendingValue(inFlight * size, eventLoop: loop)
            return connector.connect(dialect: .rfc6455(version: 13), on: loop) { message in
                let count = message.payload.readableBytes
                if measuring.withLockedValue({ $0 }) { bytes.withLockedValue { $0 += count } }
                outstanding.value -= count
                guard NIODeadline.now() < deadline.withLockedValue({ $0 }),
                    let client = clientsBox.withLockedValue({ $0[index] })
                else { return }
                while outstanding.value <= (inFlight - 1) * size {
                    client.send(.binary(payload))
                    outstanding.value += size
                }
            }
        }
        clientsBox.withLockedValue { for (index, client) in clients.enumerated() { $0[index] = client } }
        let before = serverPID.flatMap(ProcessSample.read)
        deadline.withLockedValue { $0 = .now() + .nanoseconds(Int64(duration * 1e9)) }
        measuring.withLockedValue { $0 = true }
        for client in clients {
            for _ in 0..<inFlight { client.send(.binary(payload)) }
        }
        Thread.sleep(forTimeInterval: duration)
        let after = serverPID.flatMap(ProcessSample.read)
        measuring.withLockedValue { $0 = false }
        let total = bytes.withLockedValue { $0 }
        for client in clients { _ = client.close(code: 1000) }
        Thread.sleep(forTimeInterval: 0.3)
        var report = BenchReport(mode: "bridge", commandLine: commandLine, seconds: duration)
        report.add("connections", "connections", Double(connections), format: "%.0f")
        report.add("message size (B)", "size", Double(size), format: "%.0f")
        report.add("MB/s echoed (each way)", "mb_per_s", Double(total) / duration / 1e6)
        report.addServer(before: before, after: after, units: [("MB", Double(total) / 1e6)], connections: 0)
        connector.addTLSResumption(to: &report)
        return report
    }
}
