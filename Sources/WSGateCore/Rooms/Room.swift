import NIOConcurrencyHelpers
import NIOCore
import WSGateWire

/// A broadcast hub's membership and fan-out: every member receives every message delivered after
/// it joined, exactly once, in the order its `RoomOrdering` handed them over (docs/SPEC.md "Rooms").
///
/// `deliver` appends the message to an outbox per event loop; each loop drains its outbox in one
/// task: it writes every pending message to each of its members and flushes each member once, so
/// writes coalesce across the messages of a tick. Since the ordering hands messages over one at a
/// time, in order, members on different loops see the same order.
final class Room: @unchecked Sendable {  // all mutable state is guarded by `lock`
    /// The default least time between two deliveries on one event loop: messages delivered within
    /// it after a drain wait for the next, so that at high rates each member's write carries
    /// several messages (a 200-member room at 2,000 msg/s: 1.3 instead of 2.2 CPU-µs per delivery)
    /// while at low rates (one message per window or fewer) nothing waits at all. Adds at most this
    /// much latency.
    static let defaultCoalescingWindow = TimeAmount.milliseconds(4)

    /// This room's coalescing window (zero: every message is delivered at once).
    let coalescingWindow: TimeAmount
    /// The room's name.
    let name: String
    /// Where its messages are ordered and its history kept.
    let ordering: any RoomOrdering

    /// The members on one event loop and what waits for them. Guarded by the room's lock; `drain`
    /// runs on `eventLoop`.
    private final class Shard: @unchecked Sendable {
        let eventLoop: EventLoop
        var members: [UInt64: RoomMember] = [:]
        var pending: [RoomDelivery] = []
        var isDrainScheduled = false
        var lastDrain: NIODeadline?
        init(eventLoop: EventLoop) { self.eventLoop = eventLoop }
    }

    private let lock = NIOLock()
    private var shards: [ObjectIdentifier: Shard] = [:]
    private var memberCount = 0
    /// Members by frame family: what each message is encoded in (at most a handful of entries).
    private var familyCounts: [FrameFamily: Int] = [:] {
        // Kept as an array too, so that a publish reads it without building one.
        didSet { self.familyList = self.familyCounts.isEmpty ? [.rfc6455] : Array(self.familyCounts.keys) }
    }
    /// `familyCounts`' keys; with no member (history only), plain RFC 6455: what most joiners need.
    private var familyList: [FrameFamily] = [.rfc6455]
    private let metrics: GatewayMetrics

    init(name: String, ordering: any RoomOrdering, metrics: GatewayMetrics, coalescingWindow: TimeAmount = Room.defaultCoalescingWindow) {
        self.coalescingWindow = coalescingWindow
        self.name = name
        self.ordering = ordering
        self.metrics = metrics
    }

    /// Members now.
    var count: Int { self.lock.withLock { self.memberCount } }

    /// The frame families its members need now: what a message is encoded in before delivery.
    var families: [FrameFamily] {
        self.lock.withLock { self.familyList }
    }

    /// Whether the room can be forgotten: no members and no history.
    var isDisposable: Bool { self.count == 0 && !self.ordering.retainsHistory }

    /// Adds a member that receives what is delivered after `sequence`. Called by the ordering,
    /// under its lock, so that nothing is delivered between the history snapshot and the join.
    func addMember(_ member: RoomMember, after sequence: UInt64) {
        self.lock.withLock {
            let key = ObjectIdentifier(member.eventLoop)
            let shard = self.shards[key] ?? {
                let new = Shard(eventLoop: member.eventLoop)
                self.shards[key] = new
                return new
            }()
            member.joinSequence = sequence
            shard.members[member.id] = member
            self.memberCount += 1
            self.familyCounts[member.family, default: 0] += 1
        }
        self.metrics.roomMembers.add(1)
    }

    /// Writes the history to a member that just joined, then announces it. On the member's loop.
    func welcome(_ member: RoomMember, replay: [RoomDelivery]) {
        member.eventLoop.preconditionInEventLoop()
        if let sink = member.sink, !replay.isEmpty {
            for delivery in replay { sink.roomWrite(delivery.framed.bytes(for: member.family)) }
            sink.roomFlush()
        }
        if member.announces { self.ordering.publish(.text("* \(member.noticeName) joined \(self.name) (\(self.count) now)"), from: nil, room: self) }
    }

    /// Removes a member; it receives nothing more. Announces it when its route says so.
    func leave(_ member: RoomMember) {
        let removed: Bool = self.lock.withLock {
            guard let shard = self.shards[ObjectIdentifier(member.eventLoop)],
                shard.members.removeValue(forKey: member.id) != nil
            else { return false }
            self.memberCount -= 1
            if let count = self.familyCounts[member.family], count > 1 {
                self.familyCounts[member.family] = count - 1
            } else {
                self.familyCounts.removeValue(forKey: member.family)
            }
            return true
        }
        guard removed else { return }
        self.metrics.roomMembers.add(-1)
        if member.announces { self.ordering.publish(.text("* \(member.noticeName) left \(self.name) (\(self.count) now)"), from: nil, room: self) }
    }

    /// Fans out one message, already in its place in the order. The ordering calls it for each
    /// message in turn (under its own lock for the in-process broker).
    func deliver(_ delivery: RoomDelivery) {
        self.lock.withLock {
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
        if delivery.framed.compressions > 0 { self.metrics.roomCompressions.add(delivery.framed.compressions) }
    }

    private func drain(_ shard: Shard) {
        let (deliveries, members): ([RoomDelivery], [RoomMember]) = self.lock.withLock {
            let pending = shard.pending
            shard.pending.removeAll(keepingCapacity: true)
            shard.isDrainScheduled = false
            shard.lastDrain = shard.eventLoop.now
            return (pending, Array(shard.members.values))
        }
        guard let first = deliveries.first else { return }
        // Several messages at once (a high rate): a member that takes all of them gets them as one
        // buffer, built once per family for the whole shard (one write instead of one per message).
        var batches = RoomBatches(deliveries: deliveries)
        var deliveredCount = 0
        for member in members {
            guard let sink = member.sink else { continue }
            if deliveries.count > 1, member.joinSequence < first.sequence,
                member.includeSender || !deliveries.contains(where: { $0.senderID == member.id })
            {
                sink.roomWrite(batches.bytes(for: member.family))
                sink.roomFlush()
                deliveredCount += deliveries.count
                continue
            }
            var wrote = false
            for delivery in deliveries where delivery.sequence > member.joinSequence {
                if delivery.senderID == member.id && !member.includeSender { continue }
                sink.roomWrite(delivery.framed.bytes(for: member.family))
                wrote = true
                deliveredCount += 1
            }
            if wrote { sink.roomFlush() }
        }
        self.metrics.roomDeliveries.add(deliveredCount)
        self.metrics.messagesOut.add(deliveredCount)
    }
}

/// The messages of one drain framed back to back, once per frame family, for the members that
/// take all of them: every member of a family is written the same buffer.
struct RoomBatches {
    private let deliveries: [RoomDelivery]
    private var built: [(family: FrameFamily, bytes: ByteBuffer)] = []

    init(deliveries: [RoomDelivery]) { self.deliveries = deliveries }

    /// The deliveries' frames for `family`, in order, in one buffer.
    mutating func bytes(for family: FrameFamily) -> ByteBuffer {
        for entry in self.built where entry.family == family { return entry.bytes }
        var frames = self.deliveries.map { $0.framed.bytes(for: family) }
        var batch = ByteBufferAllocator().buffer(capacity: frames.reduce(0) { $0 + $1.readableBytes })
        for index in frames.indices { batch.writeBuffer(&frames[index]) }
        self.built.append((family, batch))
        return batch
    }
}
