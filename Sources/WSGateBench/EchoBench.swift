import Foundation
import Histogram
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import WSGateClient
import WSGateWire

/// `echo`: N connections, each keeping `inFlight` messages of `size` bytes in flight (closed loop)
/// against an echo route, for `duration` seconds.
enum EchoBench {
    static func run(
        connector: BenchConnector, dialect: ClientDialect, connections: Int, size: Int, payload kind: BenchPayloadKind = .plain, inFlight: Int,
        duration: Double, serverPID: Int32?, group: EventLoopGroup, commandLine: String
    ) throws -> BenchReport {
        final class State: @unchecked Sendable {
            let lock = NIOLock()
            var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
            var received = 0
            var isMeasuring = false
            var deadline = NIODeadline.distantFuture
        }
        let state = State()
        let useText = dialect.isHixie || kind == .json
        let counter = WireByteCounter()
        let clientsByIndex = NIOLockedValueBox<[Int: WebSocketClient]>([:])
        let allocator = ByteBufferAllocator()
        @Sendable func send(_ index: Int, sequence: UInt64) {
            guard let client = clientsByIndex.withLockedValue({ $0[index] }) else { return }
            let payload = BenchPayload.make(sender: index, sequence: sequence, size: size, kind: kind, allocator: allocator)
            client.send(useText ? .text(payload) : .binary(payload))
        }
        let clients = try connector.connectMany(count: connections, group: group) { index, loop in
            let sequence = NIOLoopBoundBox.makeBoxSendingValue(UInt64(0), eventLoop: loop)  // messages run on `loop`
            return connector.connect(dialect: dialect, counter: counter, on: loop) { message in
                guard let header = BenchPayload.read(message.payload) else { return }
                let now = NIODeadline.now()
                state.lock.withLock {
                    if state.isMeasuring {
                        state.received += 1
                        _ = state.histogram.record(now.uptimeNanoseconds &- header.sentAt)
                    }
                }
                if now < state.lock.withLock({ state.deadline }) {
                    sequence.value += 1
                    send(index, sequence: sequence.value)
                }
            }
        }
        clientsByIndex.withLockedValue { for (index, client) in clients.enumerated() { $0[index] = client } }
        let negotiated = clients.filter { $0.negotiatedCompression != nil }.count
        let before = serverPID.flatMap(ProcessSample.read)
        let wireBefore = (read: counter.bytesRead, written: counter.bytesWritten)
        let start = NIODeadline.now()
        state.lock.withLock {
            state.isMeasuring = true
            state.deadline = start + .nanoseconds(Int64(duration * 1e9))
        }
        for index in 0..<connections {
            for k in 0..<inFlight { send(index, sequence: UInt64(k)) }
        }
        Thread.sleep(forTimeInterval: duration)
        let after = serverPID.flatMap(ProcessSample.read)
        let wireAfter = (read: counter.bytesRead, written: counter.bytesWritten)
        let (received, histogram) = state.lock.withLock { () -> (Int, Histogram<UInt64>) in
            state.isMeasuring = false
            return (state.received, state.histogram)
        }
        Thread.sleep(forTimeInterval: 0.3)
        for client in clients { _ = client.close(code: 1000) }
        var report = BenchReport(mode: "echo", commandLine: commandLine, seconds: duration)
        report.add("connections", "connections", Double(connections), format: "%.0f")
        report.add("message size (B)", "size", Double(size), format: "%.0f")
        report.add("payload (0 plain, 1 json)", "payload_json", kind == .json ? 1 : 0, format: "%.0f")
        report.add("connections that negotiated compression", "compressed_connections", Double(negotiated), format: "%.0f")
        report.add("messages echoed", "messages", Double(received), format: "%.0f")
        report.add("messages/s", "messages_per_s", Double(received) / duration, format: "%.0f")
        if received > 0 {
            report.add("wire bytes received per message", "wire_rx_bytes_per_msg", Double(wireAfter.read - wireBefore.read) / Double(received))
            report.add("wire bytes sent per message", "wire_tx_bytes_per_msg", Double(wireAfter.written - wireBefore.written) / Double(received))
        }
        report.addLatency(histogram)
        report.addServer(before: before, after: after, units: [("msg", Double(received))], connections: 0)
        connector.addTLSResumption(to: &report)
        return report
    }
}
