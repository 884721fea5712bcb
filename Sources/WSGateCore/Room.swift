import NIOConcurrencyHelpers
import NIOCore
import WSGateWire

/// A broadcast hub: every member receives every message sent after it joined, exactly once, in
/// one order shared by all members (SPEC "Rooms").
///
/// Publishing takes the room lock, gives the message the next sequence number, encodes it once per
/// dialect family and appends it to an outbox per event loop. Each loop drains its outbox in one
/// task: it writes every pending message to each of its members and flushes each member once, so
/// writes coalesce across the messages of a tick. Because every outbox is filled under one lock,
/// members on different loops see the same order.
final class Room: @unchecked Sendable {
    /// The default least time between two deliveries on one event loop: messages published within
    /// it after a delivery wait for the next, so that at high rates each member's write carries
    /// several messages (a 200-member room at 2,000 msg/s: 1.3 instead of 2.2 CPU-µs per delivery)
    /// while at low rates (one message per window or fewer) nothing waits at all. Adds at most this
    /// much latency.
    static let defaultCoalescingWindow = TimeAmount.milliseconds(4)

    /// This room's coalescing window (zero: every message is delivered at once).
    let coalescingWindow: TimeAmount

    /// The room's name.
    let name: String
    /// How many messages are replayed to a new member.
    let historyLimit: Int

    private final class Shard {
        let eventLoop: EventLoop
        var members: [UInt64: RoomMember] = [:]
        var pending: [RoomDelivery] = []
        var isDrainScheduled = false
        var lastDrain: NIODeadline?
        init(eventLoop: EventLoop) { self.eventLoop = eventLoop }
    }

    private let lock = NIOLock()
    private var sequence: UInt64 = 0
    private var shards: [ObjectIdentifier: Shard] = [:]
    private var history: CircularBuffer<RoomDelivery>
    private var hixieMembers = 0
    private var memberCount = 0
    private let metrics: GatewayMetrics

    init(name: String, historyLimit: Int, metrics: GatewayMetrics, coalescingWindow: TimeAmount = Room.defaultCoalescingWindow) {
        self.coalescingWindow = coalescingWindow
        self.name = name
        self.historyLimit = historyLimit
        self.history = CircularBuffer(initialCapacity: max(1, historyLimit))
        self.metrics = metrics
    }

    /// Members now.
    var count: Int { self.lock.withLock { self.memberCount } }
    /// Messages published so far.
    var messageCount: UInt64 { self.lock.withLock { self.sequence } }
    /// Whether the room can be forgotten: no members and no history.
    var isDisposable: Bool { self.lock.withLock { self.memberCount == 0 && self.history.isEmpty } }

    /// Adds a member and returns the history to replay to it. The registry calls it under its lock.
    func addMember(_ member: RoomMember) -> [RoomDelivery] {
        let replay: [RoomDelivery] = self.lock.withLock {
            let key = ObjectIdentifier(member.eventLoop)
            let shard = self.shards[key] ?? {
                let new = Shard(eventLoop: member.eventLoop)
                self.shards[key] = new
                return new
            }()
            member.joinSequence = self.sequence
            shard.members[member.id] = member
            self.memberCount += 1
            if member.isHixie { self.hixieMembers += 1 }
            return Array(self.history)
        }
        self.metrics.roomMembers.add(1)
        return replay
    }

    /// Writes the history to a member that just joined, then announces it. On the member's loop.
    func welcome(_ member: RoomMember, replay: [RoomDelivery]) {
        member.eventLoop.preconditionInEventLoop()
        if let sink = member.sink, !replay.isEmpty {
            for delivery in replay { sink.roomWrite(delivery.frame(forHixie: member.isHixie)) }
            sink.roomFlush()
        }
        if member.announces { self.publish(.text("* a member joined \(self.name) (\(self.count) now)"), from: nil) }
    }

    /// Removes a member; it receives nothing more.
    func leave(_ member: RoomMember) {
        let removed: Bool = self.lock.withLock {
            guard let shard = self.shards[ObjectIdentifier(member.eventLoop)],
                shard.members.removeValue(forKey: member.id) != nil
            else { return false }
            self.memberCount -= 1
            if member.isHixie { self.hixieMembers -= 1 }
            return true
        }
        guard removed else { return }
        self.metrics.roomMembers.add(-1)
        if member.announces { self.publish(.text("* a member left \(self.name) (\(self.count) now)"), from: nil) }
    }

    /// Sends a message to every member (and to history, unless it is a notice from the gateway).
    func publish(_ message: GatewayMessage, from senderID: UInt64?) {
        self.lock.withLock {
            self.sequence += 1
            let delivery = RoomDelivery(
                sequence: self.sequence, senderID: senderID, message: message, encodeForHixie: self.hixieMembers > 0)
            if self.historyLimit > 0, senderID != nil {
                if self.history.count == self.historyLimit { self.history.removeFirst() }
                self.history.append(delivery)
            }
            for shard in self.shards.values where !shard.members.isEmpty {
                shard.pending.append(delivery)
                if !shard.isDrainScheduled {
                    shard.isDrainScheduled = true
                    // At a high message rate, let a few messages gather so that each member gets
                    // one write for several of them; at a low rate, deliver at once.
                    let now = shard.eventLoop.now
                    let next = shard.lastDrain.map { $0 + self.coalescingWindow } ?? now
                    if now >= next {
                        shard.eventLoop.execute { self.drain(shard) }
                    } else {
                        shard.eventLoop.scheduleTask(deadline: next) { self.drain(shard) }
                    }
                }
            }
        }
        self.metrics.roomMessages.add(1)
    }

    private func drain(_ shard: Shard) {
        let (deliveries, members): ([RoomDelivery], [RoomMember]) = self.lock.withLock {
            let pending = shard.pending
            shard.pending.removeAll(keepingCapacity: true)
            shard.isDrainScheduled = false
            shard.lastDrain = shard.eventLoop.now
            return (pending, Array(shard.members.values))
        }
        var deliveredCount = 0
        for member in members {
            guard let sink = member.sink else { continue }
            var wrote = false
            for delivery in deliveries where delivery.sequence > member.joinSequence {
                if delivery.senderID == member.id && !member.includeSender { continue }
                sink.roomWrite(delivery.frame(forHixie: member.isHixie))
                wrote = true
                deliveredCount += 1
            }
            if wrote { sink.roomFlush() }
        }
        self.metrics.roomDeliveries.add(deliveredCount)
        self.metrics.messagesOut.add(deliveredCount)
    }
}
