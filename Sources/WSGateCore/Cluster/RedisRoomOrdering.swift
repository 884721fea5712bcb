import Logging
import NIOConcurrencyHelpers
import NIOCore
import WSGateRedis
import WSGateWire

/// One cluster room as this gateway sees it (docs/SPEC.md "Cluster"): the room's epoch and the last
/// offset delivered here, the messages that came early, the history to replay, the local members,
/// and the outbox of messages on their way to Redis.
///
/// Offset `last + 1` is handed to `Room.deliver`; an offset at or below `last` is a duplicate and
/// dropped; a later one waits while the gap is read from the stream (XRANGE). When the stream cannot
/// fill it (trimmed, or the epoch changed), every local member is closed with 1012 `room state lost`.
/// After every (re)subscribe, `sync` compares the room's top offset with `last` at once and checks
/// that the stream's entry at `last` is still the message delivered here; if Redis came back with
/// older data under the same epoch, the epoch is rotated so that every gateway notices.
///
/// Thread safety: all state is guarded by `lock`; Redis replies and subscription messages arrive on
/// the broker's event loop. Lock order: the registry's, this one, the room's; the connection's lock
/// is taken under this one, never the other way round.
final class RedisRoomOrdering: RoomOrdering, @unchecked Sendable {
    let name: String
    let keys: ClusterRoomKeys
    private unowned let broker: RedisBroker
    private let lock = NIOLock()

    // Guarded by `lock`.
    private weak var room: Room?
    private var historyLimit: Int
    private var epoch: String?
    private var last: UInt64 = 0
    private var lastMessageID = ""
    /// The epoch and `last` are known (a first sync is done).
    private var isSynced = false
    private var isSyncing = false
    /// A (re)sync is owed: set on reconnect and when one failed, cleared when one is applied.
    private var needsSync = false
    private var isRepairing = false
    /// Publish pipelines sent and not answered yet (at most `maxPipelines`).
    private var pipelinesInFlight = 0
    private static let maxPipelines = 4
    private var isFlushScheduled = false
    /// The connection generation the channel is subscribed on.
    private var subscribedGeneration = -1
    private var early: [UInt64: ClusterMessage] = [:]
    private var history: CircularBuffer<ClusterMessage>
    private var waiters: [EventLoopPromise<Void>] = []
    private var members: [UInt64: RoomMember] = [:]
    private var outbox: ClusterOutbox
    private var lastUse = NIODeadline.now()

    init(name: String, historyLimit: Int, broker: RedisBroker) {
        self.name = name
        self.keys = ClusterRoomKeys(prefix: broker.configuration.prefix, room: name)
        self.broker = broker
        self.historyLimit = historyLimit
        self.history = CircularBuffer(initialCapacity: max(1, historyLimit))
        self.outbox = ClusterOutbox(limit: broker.configuration.outageQueue)
    }

    private var logger: Logger { self.broker.logger }
    private var metrics: GatewayMetrics { self.broker.metrics }

    // MARK: RoomOrdering

    func join(_ member: RoomMember, room: Room) -> [RoomDelivery] {
        self.lock.withLock {
            self.room = room
            self.members[member.id] = member
            self.lastUse = .now()
            room.addMember(member, after: self.last)
            return self.history.map { message in
                RoomDelivery(
                    sequence: message.offset, senderID: nil, framed: FramedMessage(message.gatewayMessage, families: [member.family]))
            }
        }
    }

    func leave(_ member: RoomMember, room: Room) {
        self.lock.withLock {
            self.members[member.id] = nil
            self.lastUse = .now()
        }
    }

    func publish(_ message: GatewayMessage, from senderID: UInt64?, room: Room) {
        let kind: ClusterMessage.Kind = senderID == nil ? .notice : (message.isText ? .text : .binary)
        self.lock.withLock {
            if self.room == nil { self.room = room }
            let item = ClusterOutbox.Item(counter: self.broker.nextCounter(), kind: kind, senderID: senderID, data: message.payload)
            guard self.outbox.append(item, isConnected: self.broker.connection.isUp) else {
                // The bounded outage queue is full: the sender goes (1013), never its message silently.
                // A notice that does not fit is dropped: it has no sender to tell.
                if let senderID, let member = self.members.removeValue(forKey: senderID) {
                    self.metrics.clusterQueueFullCloses.add(1)
                    self.logger.warning("cluster queue full, sender closed", metadata: ["wsgate.room": "\(self.name)"])
                    Self.close(member, code: .tryAgainLater, reason: "cluster unavailable, try again later")
                }
                return
            }
            self.scheduleFlushLocked()
        }
    }

    var messageCount: UInt64 { self.lock.withLock { self.last } }

    /// The history is in Redis: nothing is lost when the room is forgotten here.
    var retainsHistory: Bool { false }

    // MARK: Broker's calls

    /// Succeeds once the room is subscribed and its top offset read (at once if it is already).
    func prepare(historyLimit: Int, on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let (start, ready): (Bool, Bool) = self.lock.withLock {
            self.lastUse = .now()
            self.raiseHistoryLocked(historyLimit)
            if self.isSynced { return (false, true) }
            self.waiters.append(promise)
            return (!self.isSyncing, false)
        }
        if start { self.broker.eventLoop.execute { self.startSync() } }
        if ready { promise.succeed() }
        return promise.futureResult
    }

    /// A later route may name the room with a larger `history`.
    func raiseHistory(_ limit: Int) {
        self.lock.withLock {
            self.lastUse = .now()
            self.raiseHistoryLocked(limit)
        }
    }

    private func raiseHistoryLocked(_ limit: Int) {
        guard limit > self.historyLimit else { return }
        self.historyLimit = limit
        // Fetched again with the next fresh sync; until then the shorter history is replayed.
        var grown = CircularBuffer<ClusterMessage>(initialCapacity: limit)
        grown.append(contentsOf: self.history)
        self.history = grown
    }

    /// Local members now.
    var memberCount: Int { self.lock.withLock { self.members.count } }

    /// Whether the broker may forget the room: nobody here, nothing to send, not used lately.
    func isIdle(since deadline: NIODeadline) -> Bool {
        self.lock.withLock {
            self.members.isEmpty && self.waiters.isEmpty && self.outbox.isEmpty && self.lastUse < deadline && !self.isSyncing
        }
    }

    /// Whether the channel is subscribed on the connection of `generation`.
    func isSubscribed(generation: Int) -> Bool { self.lock.withLock { self.subscribedGeneration == generation } }

    /// Both connections are up (again): subscribe, resynchronize, publish what waited. On the broker's loop.
    func connectionUp() {
        let (needsSync, hasOutbox): (Bool, Bool) = self.lock.withLock {
            let needsSync = self.isSynced || !self.members.isEmpty || !self.waiters.isEmpty
            self.needsSync = needsSync
            return (needsSync, !self.outbox.isEmpty)
        }
        if needsSync { self.startSync() }
        if hasOutbox { self.flush() }
    }

    /// The connections were lost. On the broker's loop.
    func connectionDown() {
        let waiters: [EventLoopPromise<Void>] = self.lock.withLock {
            self.isSyncing = false
            self.isRepairing = false
            self.pipelinesInFlight = 0
            self.isFlushScheduled = false
            self.outbox.requeueInFlight()
            defer { self.waiters = [] }
            return self.waiters
        }
        for waiter in waiters { waiter.fail(ClusterUnavailable()) }
    }

    /// The heartbeat: a room that needs its sync and has none running gets one (a sync that failed
    /// on a connection that stayed up). On the broker's loop.
    func heartbeat() {
        let start: Bool = self.lock.withLock {
            guard !self.isSyncing else { return false }
            let wanted = !self.members.isEmpty || !self.waiters.isEmpty
            return (!self.isSynced && wanted) || (self.needsSync && (self.isSynced || wanted))
        }
        if start { self.startSync() }
    }

    // MARK: Sync

    private func startSync() {
        self.broker.eventLoop.preconditionInEventLoop()
        guard let live = self.broker.connection.current else {
            let waiters: [EventLoopPromise<Void>] = self.lock.withLock {
                self.isSyncing = false
                defer { self.waiters = [] }
                return self.waiters
            }
            for waiter in waiters { waiter.fail(ClusterUnavailable()) }
            return
        }
        let (check, want, subscribed): (UInt64, Int, Bool) = self.lock.withLock {
            self.isSyncing = true
            return (self.isSynced ? self.last : 0, self.isSynced ? 0 : self.historyLimit, self.subscribedGeneration == live.generation)
        }
        let subscription: EventLoopFuture<Void> =
            subscribed ? self.broker.eventLoop.makeSucceededVoidFuture() : live.subscription.send("SUBSCRIBE", RESPArgument(self.keys.channel)).map { _ in }
        subscription.flatMap { () -> EventLoopFuture<RESPValue> in
            self.lock.withLock { self.subscribedGeneration = live.generation }
            return live.commands.evalSHA(
                script: ClusterScripts.sync, keys: [RESPArgument(self.keys.meta), RESPArgument(self.keys.stream)],
                args: [RESPArgument(self.broker.newEpoch()), RESPArgument(Int(check)), RESPArgument(want)])
        }.whenComplete { result in
            self.synced(result, live: live)
        }
    }

    private func synced(_ result: Result<RESPValue, Error>, live: ClusterConnection.Live) {
        guard self.broker.connection.current?.generation == live.generation else { return }
        let reply: (epoch: String, seq: UInt64, at: ClusterMessage?, history: [ClusterMessage])
        do {
            let value = try result.get()
            guard let parts = value.array, parts.count == 4, let epoch = parts[0].string, let seq = parts[1].int else {
                throw RedisClientError.invalidReply("sync: \(value)")
            }
            reply = (
                epoch, UInt64(max(0, seq)), parts[2].array?.first.flatMap { ClusterMessage(streamEntry: $0) },
                (parts[3].array ?? []).compactMap { ClusterMessage(streamEntry: $0) }.reversed()
            )
        } catch {
            self.logger.warning("cluster room sync failed", metadata: ["wsgate.room": "\(self.name)", "wsgate.error": "\(error)"])
            let waiters: [EventLoopPromise<Void>] = self.lock.withLock {
                self.isSyncing = false
                self.needsSync = true  // the heartbeat tries again
                defer { self.waiters = [] }
                return self.waiters
            }
            for waiter in waiters { waiter.fail(ClusterUnavailable()) }
            return
        }
        enum Next {
            case done
            case rotate(String)
        }
        let next: Next = self.lock.withLock {
            guard self.isSynced, let epoch = self.epoch else {
                // A first sync: take the room as Redis has it.
                self.adoptLocked(epoch: reply.epoch, seq: reply.seq, at: reply.at, history: reply.history)
                return .done
            }
            if reply.epoch != epoch {
                self.stateLostLocked("epoch changed (Redis lost the room)")
                self.adoptLocked(epoch: reply.epoch, seq: reply.seq, at: reply.at, history: [])
                return .done
            }
            let streamLength = UInt64(self.broker.configuration.streamLength)
            if self.last > 0, reply.seq >= self.last, reply.at == nil, reply.seq - self.last >= streamLength {
                self.stateLostLocked("gap trimmed from the stream")
                self.adoptLocked(epoch: epoch, seq: reply.seq, at: nil, history: [])
                return .done
            }
            if self.last > 0,
                reply.seq < self.last || (!self.lastMessageID.isEmpty && reply.at?.messageID != self.lastMessageID)
            {
                // Redis came back with older data under the same epoch: only a new epoch tells the
                // other gateways.
                return .rotate(epoch)
            }
            self.isSyncing = false
            self.needsSync = false
            if reply.seq > self.last, !self.isRepairing {
                self.startRepairLocked(from: self.last + 1, to: reply.seq)
            }
            self.drainEarlyLocked()
            return .done
        }
        if case .rotate(let held) = next { self.rotate(from: held, live: live) }
    }

    private func rotate(from held: String, live: ClusterConnection.Live) {
        let fresh = self.broker.newEpoch()
        live.commands.evalSHA(script: ClusterScripts.rotate, keys: [RESPArgument(self.keys.meta)], args: [RESPArgument(held), RESPArgument(fresh)])
            .whenComplete { result in
                guard self.broker.connection.current?.generation == live.generation else { return }
                self.lock.withLock {
                    self.stateLostLocked("Redis came back with older data")
                    if case .success(let value) = result, let parts = value.array, parts.count == 2, let epoch = parts[0].string,
                        let seq = parts[1].int
                    {
                        self.metrics.clusterEpochRotations.add(1)
                        self.logger.warning(
                            "cluster room epoch rotated", metadata: ["wsgate.room": "\(self.name)", "wsgate.epoch": "\(epoch)"])
                        self.adoptLocked(epoch: epoch, seq: UInt64(max(0, seq)), at: nil, history: [])
                    } else {
                        // Sync again from scratch on the next heartbeat.
                        self.isSyncing = false
                        self.isSynced = false
                        self.needsSync = true
                    }
                }
            }
    }

    /// Takes the room's state from Redis: `seq` is delivered (nothing before it will be).
    private func adoptLocked(epoch: String, seq: UInt64, at: ClusterMessage?, history: [ClusterMessage]) {
        self.epoch = epoch
        self.last = seq
        self.lastMessageID = at?.offset == seq ? (at?.messageID ?? "") : ""
        self.history.removeAll(keepingCapacity: true)
        for message in history.suffix(self.historyLimit) where message.epoch == epoch && message.offset <= seq {
            self.history.append(message)
        }
        self.isSynced = true
        self.isSyncing = false
        self.needsSync = false
        let waiters = self.waiters
        self.waiters = []
        // Not under the lock: a waiter's callbacks open the WebSocket, which joins the room.
        if !waiters.isEmpty { self.broker.eventLoop.execute { for waiter in waiters { waiter.succeed() } } }
        self.early = self.early.filter { $0.key > seq && $0.value.epoch == epoch }
        self.drainEarlyLocked()
    }

    /// Closes every local member with 1012: the room's order cannot be kept for them.
    private func stateLostLocked(_ reason: String) {
        let members = self.members
        self.members = [:]
        self.history.removeAll(keepingCapacity: true)
        self.logger.warning(
            "cluster room state lost, members closed", metadata: ["wsgate.room": "\(self.name)", "wsgate.reason": "\(reason)", "wsgate.members": "\(members.count)"])
        self.metrics.clusterStateLostCloses.add(members.count)
        for member in members.values { Self.close(member, code: .serviceRestart, reason: "room state lost") }
    }

    static func close(_ member: RoomMember, code: WebSocketCloseCode, reason: String) {
        member.eventLoop.execute { member.sink?.roomClose(code: code, reason: reason) }
    }

    // MARK: Delivery

    /// The messages of one PUBLISH on the room's channel, in offset order. On the broker's loop.
    func receive(_ messages: [ClusterMessage]) {
        self.lock.withLock {
            for message in messages { self.receiveLocked(message) }
        }
    }

    private func receiveLocked(_ message: ClusterMessage) {
        guard self.isSynced, !self.isSyncing, let epoch = self.epoch else {
            if self.isSyncing { self.early[message.offset] = message }
            return
        }
        guard message.epoch == epoch else {
            // Another gateway rotated the epoch, or Redis lost the room and made a new one.
            self.stateLostLocked("epoch changed")
            self.isSynced = false
            self.isSyncing = true  // until the sync below: later messages wait in `early`
            self.early = [message.offset: message]
            self.broker.eventLoop.execute { self.startSync() }
            return
        }
        self.acceptLocked(message)
    }

    private func acceptLocked(_ message: ClusterMessage) {
        if message.offset <= self.last {
            self.metrics.clusterDuplicates.add(1)
        } else if message.offset == self.last + 1 {
            self.deliverLocked(message)
            self.drainEarlyLocked()
        } else {
            self.early[message.offset] = message
            if !self.isRepairing { self.startRepairLocked(from: self.last + 1, to: message.offset - 1) }
        }
    }

    private func deliverLocked(_ message: ClusterMessage) {
        self.last = message.offset
        self.lastMessageID = message.messageID
        if message.kind != .notice, self.historyLimit > 0 {
            if self.history.count >= self.historyLimit { self.history.removeFirst() }
            self.history.append(message)
        }
        guard let room = self.room else { return }
        room.deliver(
            RoomDelivery(
                sequence: message.offset, senderID: message.localSender(gatewayID: self.broker.gatewayID),
                framed: FramedMessage(message.gatewayMessage, families: room.families)))
    }

    private func drainEarlyLocked() {
        guard !self.early.isEmpty, !self.isSyncing else { return }
        while let next = self.early.removeValue(forKey: self.last + 1) { self.deliverLocked(next) }
        self.early = self.early.filter { $0.key > self.last }
        if let first = self.early.keys.min(), !self.isRepairing { self.startRepairLocked(from: self.last + 1, to: first - 1) }
    }

    /// Reads offsets `from...to` from the stream, then delivers them and what came early.
    private func startRepairLocked(from: UInt64, to: UInt64) {
        guard let live = self.broker.connection.current, from <= to else { return }
        self.isRepairing = true
        self.metrics.clusterGapRepairs.add(1)
        live.commands.send(["XRANGE", RESPArgument(self.keys.stream), RESPArgument("\(from)-0"), RESPArgument("\(to)-0")])
            .whenComplete { result in
                guard self.broker.connection.current?.generation == live.generation else { return }
                self.lock.withLock {
                    self.isRepairing = false
                    guard case .success(let value) = result, let entries = value.array else {
                        self.logger.warning("cluster gap repair failed", metadata: ["wsgate.room": "\(self.name)", "wsgate.error": "\(result)"])
                        return
                    }
                    guard !self.isSyncing, let epoch = self.epoch else { return }
                    for entry in entries.compactMap({ ClusterMessage(streamEntry: $0) }) where entry.offset > self.last {
                        guard entry.offset == self.last + 1, entry.epoch == epoch else { break }
                        self.deliverLocked(entry)
                    }
                    if self.last < to {
                        // The stream does not have it any more: never a silent gap.
                        self.stateLostLocked("gap trimmed from the stream")
                        self.isSynced = false
                        self.broker.eventLoop.execute { self.startSync() }
                        return
                    }
                    self.drainEarlyLocked()
                }
            }
    }

    // MARK: Publishing

    private func scheduleFlushLocked() {
        guard !self.isFlushScheduled, self.pipelinesInFlight < Self.maxPipelines, self.broker.connection.isUp else { return }
        self.isFlushScheduled = true
        self.broker.eventLoop.execute { self.flush() }
    }

    /// Sends what waits, in publish order: up to 512 messages a pipeline, in script calls of up to
    /// 64 messages (or 256 KiB) each, with up to `maxPipelines` pipelines in flight. Redis runs them
    /// in order, so what it published when a connection is lost is a prefix of what was sent: sent
    /// again, the script recognizes it by its counters. The script goes as EVAL (its source, a
    /// little more than 1 KiB per call of up to 64 messages), never EVALSHA: a NOSCRIPT in the middle of
    /// a pipeline would break that prefix. On the broker's loop.
    private func flush() {
        guard let live = self.broker.connection.current else { return }
        let batch: [ClusterOutbox.Item] = self.lock.withLock {
            self.isFlushScheduled = false
            guard self.pipelinesInFlight < Self.maxPipelines else { return [] }
            let batch = self.outbox.takeBatch(max: 512)
            if !batch.isEmpty { self.pipelinesInFlight += 1 }
            return batch
        }
        guard !batch.isEmpty else { return }
        let gatewayID = self.broker.gatewayID
        let head: [RESPArgument] = [
            "EVAL", RESPArgument(ClusterScripts.publish.source), 2, RESPArgument(self.keys.meta), RESPArgument(self.keys.stream),
            RESPArgument(self.keys.channel), RESPArgument(self.broker.configuration.streamLength), RESPArgument(gatewayID),
            RESPArgument(self.broker.newEpoch()),
        ]
        var commands: [[RESPArgument]] = []
        var sizes: [Int] = []
        var command = head
        var count = 0
        var bytes = 0
        for item in batch {
            command += [
                RESPArgument(Int(item.counter)), RESPArgument(item.kind.rawValue),
                RESPArgument(item.senderID.map { "\(gatewayID):\($0)" } ?? ""), RESPArgument(item.data),
            ]
            count += 1
            bytes += item.data.readableBytes
            if count == 64 || bytes >= 256 * 1024 {
                commands.append(command)
                sizes.append(count)
                command = head
                count = 0
                bytes = 0
            }
        }
        if count > 0 {
            commands.append(command)
            sizes.append(count)
        }
        let chunkSizes = sizes
        live.commands.pipeline(commands).whenComplete { result in
            guard self.broker.connection.current?.generation == live.generation else { return }
            guard case .success(let replies) = result else { return }  // the connection goes down; all is sent again
            self.lock.withLock {
                self.pipelinesInFlight -= 1
                var index = 0
                for (reply, size) in zip(replies, chunkSizes) {
                    defer { index += size }
                    if let error = reply.error {
                        // Not published (e.g. OOM): its senders are told, never a silent loss.
                        self.logger.error("cluster publish failed", metadata: ["wsgate.room": "\(self.name)", "wsgate.error": "\(error)"])
                        for item in batch[index..<(index + size)] {
                            self.outbox.acknowledgeFirst()
                            if let sender = item.senderID, let member = self.members.removeValue(forKey: sender) {
                                Self.close(member, code: .tryAgainLater, reason: "cluster publish failed")
                            }
                        }
                    } else {
                        for _ in 0..<size { self.outbox.acknowledgeFirst() }
                        self.metrics.clusterPublishes.add(size)
                    }
                }
            }
            self.flush()
        }
        // More waiting: another pipeline goes out without waiting for this one's replies.
        let more = self.lock.withLock { !self.outbox.waiting.isEmpty && self.pipelinesInFlight < Self.maxPipelines }
        if more { self.flush() }
    }
}

/// A room handshake while Redis is unreachable (503).
struct ClusterUnavailable: Error {}
