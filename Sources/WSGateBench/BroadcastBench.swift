import Foundation
import Histogram
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import WSGateClient
import WSGateWire

/// `broadcast`: R receivers and S senders in one room; the senders share a fixed total rate. Each
/// receiver checks every sender's sequence: deliveries, latency, and missing, duplicate and
/// out-of-order messages. With a second gateway (`connector2`, a cluster on one Redis), receivers
/// and senders alternate between the two, and every receiver also hashes the whole order it saw:
/// receivers whose order differs from the first one's are counted.
enum BroadcastBench {
    /// What one receiver saw from every sender.
    final class ReceiverState: @unchecked Sendable {
        var lastSequence: [Int: UInt64] = [:]
        var received = 0
        var duplicatesOrReordered = 0
        var gaps = 0
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        /// FNV-1a over every (sender, sequence) in arrival order, and how many went into it.
        var orderHash: UInt64 = 0xcbf2_9ce4_8422_2325
        var orderCount = 0
        /// The hash after every 1,000 messages: receivers are compared over the messages all of them got.
        var checkpoints: [UInt64] = []
    }

    /// The processes whose CPU is reported: a label, a pid, and what a unit of its work is.
    struct Watched {
        var label: String
        var pid: Int32
        /// Which receivers' deliveries it made (nil: count messages sent instead, e.g. Redis).
        var receiverParity: Int?
    }

    static func run(
        connector: BenchConnector, connector2: BenchConnector? = nil, dialects: [ClientDialect], receivers: Int, senders: Int,
        rate: Double, size: Int, payload kind: BenchPayloadKind = .plain, duration: Double, serverPID: Int32?, watched: [Watched] = [],
        waitForAll: Bool = false, group: EventLoopGroup, commandLine: String
    ) throws -> BenchReport {
        let connectors = [connector] + (connector2.map { [$0] } ?? [])
        let allocator = ByteBufferAllocator()
        let states = (0..<receivers).map { _ in ReceiverState() }
        let measuring = NIOLockedValueBox(false)
        let receiverCounter = WireByteCounter()
        let senderCounter = WireByteCounter()
        let receiverClients = try connector.connectMany(count: receivers, group: group) { index, loop in
            let state = states[index]
            return connectors[index % connectors.count].connect(dialect: dialects[index % dialects.count], counter: receiverCounter, on: loop) { message in
                guard let header = BenchPayload.read(message.payload) else { return }
                state.orderHash = (state.orderHash ^ (UInt64(header.sender) << 48 | header.sequence)) &* 0x100_0000_01b3
                state.orderCount += 1
                if state.orderCount % 1000 == 0 { state.checkpoints.append(state.orderHash) }
                guard measuring.withLockedValue({ $0 }) else { return }
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
        let senderClients = try connector.connectMany(count: senders, group: group) { index, loop in
            connectors[index % connectors.count].connect(dialect: .rfc6455(version: 13), counter: senderCounter, on: loop) { _ in }
        }
        Thread.sleep(forTimeInterval: 0.5)  // let joins settle
        let negotiated = (receiverClients + senderClients).filter { $0.negotiatedCompression != nil }.count
        measuring.withLockedValue { $0 = true }
        let before = serverPID.flatMap(ProcessSample.read)
        let watchedBefore = watched.map { ProcessSample.read(pid: $0.pid) }
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
        let watchedAfter = watched.map { ProcessSample.read(pid: $0.pid) }
        for task in tasks { task.cancel() }
        let totalSent = sent.withLockedValue { $0.reduce(0, +) }
        // Deliveries in flight at the deadline: 1 s, and with `waitForAll` until every receiver has
        // every message (at most 10 s more), so that "missing" means lost, not late.
        Thread.sleep(forTimeInterval: 1.0)
        if waitForAll {
            let deadline = NIODeadline.now() + .seconds(10)
            while NIODeadline.now() < deadline {
                let behind = try receiverClients.enumerated().contains { index, client in
                    let state = states[index]
                    return try client.channel.eventLoop.submit { state.orderCount < totalSent }.wait()
                }
                if !behind { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        measuring.withLockedValue { $0 = false }
        let wireAfter = (received: receiverCounter.bytesRead, sent: senderCounter.bytesWritten)
        // Read each receiver's state on its own event loop.
        var received = 0
        var duplicates = 0
        var gaps = 0
        var missing = 0
        var receivedByParity = [0, 0]
        var orders: [[UInt64]] = []
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for (index, client) in receiverClients.enumerated() {
            let state = states[index]
            let (stateReceived, stateDuplicates, stateGaps, stateHistogram, order) = try client.channel.eventLoop.submit {
                (state.received, state.duplicatesOrReordered, state.gaps, state.histogram, state.checkpoints)
            }.wait()
            receivedByParity[index % 2] += stateReceived
            orders.append(order)
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
        if connector2 != nil {
            // Compared over the checkpoints every receiver reached (a receiver that fell behind is
            // counted as missing, not as reordered).
            let common = orders.map(\.count).min() ?? 0
            let differing = orders.filter { Array($0.prefix(common)) != Array(orders[0].prefix(common)) }.count
            report.add("receivers whose order differs", "order_differs", Double(differing), format: "%.0f")
        }
        if received > 0 {
            report.add("wire bytes received per delivery", "wire_rx_bytes_per_delivery", Double(wireAfter.received - wireBefore.received) / Double(received))
        }
        if totalSent > 0 {
            report.add("wire bytes sent per message", "wire_tx_bytes_per_msg", Double(wireAfter.sent - wireBefore.sent) / Double(totalSent))
        }
        report.addLatency(histogram)
        report.addServer(before: before, after: after, units: [("delivery", Double(received))], connections: 0)
        for (index, process) in watched.enumerated() {
            guard let before = watchedBefore[index], let after = watchedAfter[index] else { continue }
            let cpu = after.cpuMicroseconds - before.cpuMicroseconds
            let key = process.label.replacingOccurrences(of: " ", with: "_")
            report.add("\(process.label) CPU (% of one core)", "\(key)_cpu_pct", cpu / (duration * 1_000_000) * 100)
            if let parity = process.receiverParity {
                let deliveries = connector2 == nil ? Double(received) : Double(receivedByParity[parity])
                if deliveries > 0 {
                    report.add("\(process.label) CPU-µs per delivery", "\(key)_cpu_us_per_delivery", cpu / deliveries, format: "%.2f")
                }
            } else if totalSent > 0 {
                report.add("\(process.label) CPU-µs per message", "\(key)_cpu_us_per_message", cpu / Double(totalSent), format: "%.2f")
            }
        }
        connector.addTLSResumption(to: &report)
        return report
    }
}
