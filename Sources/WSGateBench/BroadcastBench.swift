import Foundation
import Histogram
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import WSGateClient
import WSGateWire

/// `broadcast`: R receivers and S senders in one room; the senders share a fixed total rate. Each
/// receiver checks every sender's sequence: deliveries, latency, and missing, duplicate and
/// out-of-order messages.
enum BroadcastBench {
    /// What one receiver saw from every sender.
    final class ReceiverState: @unchecked Sendable {
        var lastSequence: [Int: UInt64] = [:]
        var received = 0
        var duplicatesOrReordered = 0
        var gaps = 0
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }

    static func run(
        connector: BenchConnector, dialects: [ClientDialect], receivers: Int, senders: Int, rate: Double, size: Int,
        payload kind: BenchPayloadKind = .plain, duration: Double, serverPID: Int32?, group: EventLoopGroup, commandLine: String
    ) throws -> BenchReport {
        let allocator = ByteBufferAllocator()
        let states = (0..<receivers).map { _ in ReceiverState() }
        let measuring = NIOLockedValueBox(false)
        let receiverCounter = WireByteCounter()
        let senderCounter = WireByteCounter()
        let receiverClients = try connector.connectMany(count: receivers, group: group) { index, loop in
            let state = states[index]
            return connector.connect(dialect: dialects[index % dialects.count], counter: receiverCounter, on: loop) { message in
                guard measuring.withLockedValue({ $0 }), let header = BenchPayload.read(message.payload) else { return }
                state.received += 1
                _ = state.histogram.record(NIODeadline.now().uptimeNanoseconds &- header.sentAt)
                let last = state.lastSequence[header.sender] ?? 0
                if header.sequence <= last {
                    state.duplicatesOrReordered += 1
                } else {
                    if header.sequence > last + 1 && last != 0 { state.gaps += Int(header.sequence - last - 1) }
                    state.lastSequence[header.sender] = header.sequence
                }
            }
        }
        let senderClients = try connector.connectMany(count: senders, group: group) { _, loop in
            connector.connect(dialect: .rfc6455(version: 13), counter: senderCounter, on: loop) { _ in }
        }
        Thread.sleep(forTimeInterval: 0.5)  // let joins settle
        let negotiated = (receiverClients + senderClients).filter { $0.negotiatedCompression != nil }.count
        measuring.withLockedValue { $0 = true }
        let before = serverPID.flatMap(ProcessSample.read)
        let wireBefore = (received: receiverCounter.bytesRead, sent: senderCounter.bytesWritten)
        let perSender = rate / Double(senders)
        let sent = NIOLockedValueBox([Int](repeating: 0, count: senders))
        let start = NIODeadline.now()
        let end = start + .nanoseconds(Int64(duration * 1e9))
        var tasks: [RepeatedTask] = []
        for (index, client) in senderClients.enumerated() {
            let loop = client.channel.eventLoop
            let sequenceBox = NIOLoopBoundBox.makeBoxSendingValue(UInt64(0), eventLoop: loop)
            let task = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { task in
                var sequence = sequenceBox.value
                defer { sequenceBox.value = sequence }
                let now = NIODeadline.now()
                if now >= end {
                    task.cancel()
                    return
                }
                let due = UInt64(Double(now.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 * perSender) + 1
                var wrote = false
                while sequence < due {
                    sequence += 1
                    let payload = BenchPayload.make(sender: index, sequence: sequence, size: size, kind: kind, allocator: allocator)
                    client.send(.text(payload), flush: false)
                    wrote = true
                }
                if wrote { client.channel.flush() }
                sent.withLockedValue { $0[index] = Int(sequence) }
            }
            tasks.append(task)
        }
        Thread.sleep(forTimeInterval: duration)
        let after = serverPID.flatMap(ProcessSample.read)
        Thread.sleep(forTimeInterval: 1.0)  // deliveries in flight at the deadline
        measuring.withLockedValue { $0 = false }
        let wireAfter = (received: receiverCounter.bytesRead, sent: senderCounter.bytesWritten)
        for task in tasks { task.cancel() }
        let totalSent = sent.withLockedValue { $0.reduce(0, +) }
        // Read each receiver's state on its own event loop.
        var received = 0
        var duplicates = 0
        var gaps = 0
        var missing = 0
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for (index, client) in receiverClients.enumerated() {
            let state = states[index]
            let (stateReceived, stateDuplicates, stateGaps, stateHistogram) = try client.channel.eventLoop.submit {
                (state.received, state.duplicatesOrReordered, state.gaps, state.histogram)
            }.wait()
            received += stateReceived
            duplicates += stateDuplicates
            gaps += stateGaps
            missing += max(0, totalSent - stateReceived)
            histogram.add(stateHistogram)
        }
        for client in receiverClients + senderClients { _ = client.close(code: 1000) }
        var report = BenchReport(mode: "broadcast", commandLine: commandLine, seconds: duration)
        report.add("receivers", "receivers", Double(receivers), format: "%.0f")
        report.add("senders", "senders", Double(senders), format: "%.0f")
        report.add("offered rate (msg/s)", "rate", rate, format: "%.0f")
        report.add("message size (B)", "size", Double(size), format: "%.0f")
        report.add("payload (0 plain, 1 json)", "payload_json", kind == .json ? 1 : 0, format: "%.0f")
        report.add("connections that negotiated compression", "compressed_connections", Double(negotiated), format: "%.0f")
        report.add("messages sent", "sent", Double(totalSent), format: "%.0f")
        report.add("deliveries", "deliveries", Double(received), format: "%.0f")
        report.add("deliveries/s", "deliveries_per_s", Double(received) / duration, format: "%.0f")
        report.add("missing", "missing", Double(missing), format: "%.0f")
        report.add("duplicate or out of order", "duplicate_or_reordered", Double(duplicates), format: "%.0f")
        report.add("gaps", "gaps", Double(gaps), format: "%.0f")
        if received > 0 {
            report.add("wire bytes received per delivery", "wire_rx_bytes_per_delivery", Double(wireAfter.received - wireBefore.received) / Double(received))
        }
        if totalSent > 0 {
            report.add("wire bytes sent per message", "wire_tx_bytes_per_msg", Double(wireAfter.sent - wireBefore.sent) / Double(totalSent))
        }
        report.addLatency(histogram)
        report.addServer(before: before, after: after, units: [("delivery", Double(received))], connections: 0)
        return report
    }
}
