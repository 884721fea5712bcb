import Foundation
import NIOCore
import WSGateClient

/// `idle`: N connections (a mix of dialects) opened and held; reports the server's RSS per
/// connection. Source addresses are spread over 127.0.0.x so ephemeral ports do not run out.
enum IdleBench {
    static func run(
        connector: BenchConnector, dialects: [ClientDialect], connections: Int, sourceAddresses: Int, hold: Double,
        serverPID: Int32?, group: EventLoopGroup, commandLine: String
    ) throws -> BenchReport {
        let before = serverPID.flatMap(ProcessSample.read)
        let start = Date()
        let clients = try connector.connectMany(count: connections, parallel: 128, group: group) { index, loop in
            let source = sourceAddresses > 1 ? "127.0.0.\(2 + index % sourceAddresses)" : nil
            return connector.connect(dialect: dialects[index % dialects.count], sourceAddress: source, on: loop) { _ in }
        }
        let connectSeconds = Date().timeIntervalSince(start)
        Thread.sleep(forTimeInterval: hold)
        let after = serverPID.flatMap(ProcessSample.read)
        for client in clients { _ = client.close(code: 1000) }
        Thread.sleep(forTimeInterval: 0.5)
        var report = BenchReport(mode: "idle", commandLine: commandLine, seconds: hold)
        report.add("connections", "connections", Double(clients.count), format: "%.0f")
        report.add("connect time (s)", "connect_s", connectSeconds, format: "%.2f")
        report.add("handshakes/s", "handshakes_per_s", Double(clients.count) / connectSeconds, format: "%.0f")
        report.addServer(before: before, after: after, units: [], connections: clients.count)
        return report
    }
}
