import Foundation
import NIOConcurrencyHelpers
import NIOCore
import WSGateClient
import WSGateWire

/// `idle`: N connections (a mix of dialects) opened and held; reports the server's RSS per
/// connection. Source addresses are spread over 127.0.0.x so ephemeral ports do not run out.
///
/// With a TLS session cache (`--tls-resume`), one connection is opened and closed before the measured
/// ones (its session is what they offer) and the report counts the measured handshakes that resumed.
///
/// With `warmSize` > 0 (an echo route), each connection then sends one JSON message and waits for
/// it to come back before all idle: with compression negotiated, the server then holds zlib state
/// for both directions of every connection, which the extra RSS per connection measures.
enum IdleBench {
    static func run(
        connector: BenchConnector, dialects: [ClientDialect], connections: Int, sourceAddresses: Int, warmSize: Int = 0, hold: Double,
        serverPID: Int32?, group: EventLoopGroup, commandLine: String
    ) throws -> BenchReport {
        // --tls-resume: one connection first, not measured, so that every measured one offers its session.
        let primed = try connector.primeSessionCache(dialect: dialects[0], group: group)
        let before = serverPID.flatMap(ProcessSample.read)
        let start = Date()
        let echoed = NIOLockedValueBox(0)
        let clients = try connector.connectMany(count: connections, parallel: 128, group: group) { index, loop in
            let source = sourceAddresses > 1 ? "127.0.0.\(2 + index % sourceAddresses)" : nil
            return connector.connect(dialect: dialects[index % dialects.count], sourceAddress: source, on: loop) { _ in
                echoed.withLockedValue { $0 += 1 }
            }
        }
        let connectSeconds = Date().timeIntervalSince(start)
        let negotiated = clients.filter { $0.negotiatedCompression != nil }.count
        var connected: ProcessSample?
        var warmSeconds = 0.0
        if warmSize > 0 {
            Thread.sleep(forTimeInterval: 1)
            connected = serverPID.flatMap(ProcessSample.read)
            let warmStart = Date()
            let allocator = ByteBufferAllocator()
            for (index, client) in clients.enumerated() {
                client.send(.text(BenchPayload.make(sender: index, sequence: 1, size: warmSize, kind: .json, allocator: allocator)))
            }
            while echoed.withLockedValue({ $0 }) < clients.count, Date().timeIntervalSince(warmStart) < 30 {
                Thread.sleep(forTimeInterval: 0.05)
            }
            warmSeconds = Date().timeIntervalSince(warmStart)
        }
        Thread.sleep(forTimeInterval: hold)
        let after = serverPID.flatMap(ProcessSample.read)
        let replies = echoed.withLockedValue { $0 }
        for client in clients { _ = client.close(code: 1000) }
        Thread.sleep(forTimeInterval: 0.5)
        var report = BenchReport(mode: "idle", commandLine: commandLine, seconds: hold)
        report.add("connections", "connections", Double(clients.count), format: "%.0f")
        report.add("connections that negotiated compression", "compressed_connections", Double(negotiated), format: "%.0f")
        report.add("connect time (s)", "connect_s", connectSeconds, format: "%.2f")
        report.add("handshakes/s", "handshakes_per_s", Double(clients.count) / connectSeconds, format: "%.0f")
        connector.addTLSResumption(to: &report, since: primed)
        if warmSize > 0 {
            report.add("warm-up message size (B)", "warm_size", Double(warmSize), format: "%.0f")
            report.add("warm-up replies", "warm_replies", Double(replies), format: "%.0f")
            report.add("warm-up time (s)", "warm_s", warmSeconds, format: "%.2f")
            if let connected, let after, let before, !clients.isEmpty {
                report.add("server RSS per connection, connected (KiB)", "server_rss_kib_per_conn_connected",
                    Double(connected.rssKiB - before.rssKiB) / Double(clients.count), format: "%.2f")
                report.add("server RSS per connection added by the warm-up (KiB)", "server_rss_kib_per_conn_warm_delta",
                    Double(after.rssKiB - connected.rssKiB) / Double(clients.count), format: "%.2f")
            }
        }
        report.addServer(before: before, after: after, units: [], connections: clients.count)
        return report
    }
}
