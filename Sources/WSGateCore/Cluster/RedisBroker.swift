import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization
import WSGateConfig
import WSGateRedis

/// Rooms shared by every gateway on one Redis (docs/SPEC.md "Cluster"): the `RoomBroker` of a
/// configuration with `cluster:`.
///
/// It keeps one `RedisRoomOrdering` per room this gateway uses, routes each message of a room
/// channel to it, and after every reconnect resubscribes and resynchronizes them all. A heartbeat
/// each second pings Redis, writes this gateway's member counts (with a short expiry) and reads the
/// whole cluster's, and forgets rooms nobody here has used for a while (unsubscribing them).
final class RedisBroker: RoomBroker, @unchecked Sendable {  // `orderings` and `clusterCounts` are guarded by `lock`
    let configuration: ClusterConfiguration
    let connection: ClusterConnection
    let metrics: GatewayMetrics
    let logger: Logger
    /// This process's id in the cluster: random at each start.
    let gatewayID: String
    var eventLoop: EventLoop { self.connection.eventLoop }

    private let lock = NIOLock()
    private var orderings: [String: RedisRoomOrdering] = [:]
    private var clusterCounts: [String: Int] = [:]
    private var heartbeatTask: RepeatedTask?
    private let counter = Atomic<UInt64>(0)
    private let channelPrefix: String
    private let presenceKey: String
    /// How long a gateway's counts live in Redis without a heartbeat.
    static let presenceTTL = TimeAmount.seconds(5)
    /// How long a room nobody here uses stays subscribed.
    static let idleRoomLifetime = TimeAmount.seconds(10)

    init(configuration: ClusterConfiguration, eventLoop: EventLoop, metrics: GatewayMetrics, logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.gatewayID = Self.randomHex(8)
        self.channelPrefix = ClusterRoomKeys.channelPrefix(configuration.prefix)
        self.presenceKey = "\(configuration.prefix):gateways"
        self.connection = ClusterConnection(
            url: configuration.redis, tlsCAPath: configuration.tlsCAPath, gatewayID: self.gatewayID, eventLoop: eventLoop, logger: logger)
        self.connection.onUp = { [weak self] live in self?.connectionUp(live) }
        self.connection.onDown = { [weak self] in self?.connectionDown() }
        self.connection.onMessage = { [weak self] message in self?.received(message) }
    }

    /// Starts connecting to Redis and the heartbeat; the gateway runs whether or not Redis is up.
    func start() {
        self.logger.info("cluster connecting", metadata: ["wsgate.redis": "\(self.configuration.redis)", "wsgate.gateway": "\(self.gatewayID)"])
        self.connection.start()
        let task = self.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
            self?.heartbeat()
        }
        self.lock.withLock { self.heartbeatTask = task }
    }

    /// Takes this gateway out of the cluster's counts and closes the connections.
    func stop() {
        let task = self.lock.withLock { self.heartbeatTask }
        task?.cancel()
        if let live = self.connection.current {
            _ = try? live.commands.pipeline([
                ["ZREM", RESPArgument(self.presenceKey), RESPArgument(self.gatewayID)],
                ["DEL", RESPArgument("\(self.presenceKey):\(self.gatewayID)")],
            ]).wait()
        }
        _ = try? self.connection.stop().wait()
    }

    // MARK: RoomBroker

    func ordering(forRoom name: String, historyLimit: Int) -> any RoomOrdering {
        self.ordering(named: name, historyLimit: historyLimit)
    }

    var needsPreparation: Bool { true }

    var isAvailable: Bool { self.connection.isUp }

    func prepare(room name: String, historyLimit: Int, on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        guard self.connection.isUp else { return eventLoop.makeFailedFuture(ClusterUnavailable()) }
        return self.ordering(named: name, historyLimit: historyLimit).prepare(historyLimit: historyLimit, on: eventLoop)
    }

    /// Members per room on every live gateway, as the last heartbeat read them.
    var clusterMembers: [String: Int] { self.lock.withLock { self.clusterCounts } }

    private func ordering(named name: String, historyLimit: Int) -> RedisRoomOrdering {
        let ordering: RedisRoomOrdering = self.lock.withLock {
            if let existing = self.orderings[name] { return existing }
            let ordering = RedisRoomOrdering(name: name, historyLimit: historyLimit, broker: self)
            self.orderings[name] = ordering
            return ordering
        }
        ordering.raiseHistory(historyLimit)
        return ordering
    }

    // MARK: For the orderings

    /// The next publish counter of this gateway (the idempotency key of a message).
    func nextCounter() -> UInt64 {
        self.counter.add(1, ordering: .relaxed).newValue
    }

    /// A new random epoch, for a room Redis does not know (or one to rotate).
    func newEpoch() -> String { Self.randomHex(8) }

    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }

    // MARK: Connection events (on the broker's loop)

    private func connectionUp(_ live: ClusterConnection.Live) {
        self.metrics.clusterUp.add(1)
        self.metrics.clusterConnects.add(1)
        for ordering in self.lock.withLock({ Array(self.orderings.values) }) { ordering.connectionUp() }
        self.heartbeat()
    }

    private func connectionDown() {
        self.metrics.clusterUp.add(-1)
        for ordering in self.lock.withLock({ Array(self.orderings.values) }) { ordering.connectionDown() }
    }

    private func received(_ message: RedisPubSubMessage) {
        guard message.channel.hasPrefix(self.channelPrefix) else { return }
        let name = String(message.channel.dropFirst(self.channelPrefix.count))
        guard let ordering = self.lock.withLock({ self.orderings[name] }) else { return }
        guard let decoded = ClusterMessage.batch(payload: message.payload) else {
            self.logger.warning("cluster message not understood", metadata: ["wsgate.room": "\(name)"])
            return
        }
        ordering.receive(decoded)
    }

    private func heartbeat() {
        self.connection.ping()
        let all = self.lock.withLock { self.orderings }
        for ordering in all.values { ordering.heartbeat() }
        // Forget rooms nobody here has used for a while.
        let deadline = NIODeadline.now() - Self.idleRoomLifetime
        let idle = all.filter { $0.value.isIdle(since: deadline) }
        if !idle.isEmpty {
            self.lock.withLock {
                for (name, ordering) in idle where self.orderings[name] === ordering { self.orderings[name] = nil }
            }
            if let live = self.connection.current {
                let channels = idle.values.filter { $0.isSubscribed(generation: live.generation) }.map(\.keys.channel)
                if !channels.isEmpty { live.subscription.send(["UNSUBSCRIBE"] + channels.map { RESPArgument($0) }).whenFailure { _ in } }
            }
        }
        guard let live = self.connection.current else { return }
        var args: [RESPArgument] = [RESPArgument(self.gatewayID), RESPArgument(Int(Self.presenceTTL.nanoseconds / 1_000_000))]
        for (name, ordering) in all {
            let count = ordering.memberCount
            if count > 0 { args += [RESPArgument(name), RESPArgument(count)] }
        }
        live.commands.evalSHA(script: ClusterScripts.presence, keys: [RESPArgument(self.presenceKey)], args: args).whenSuccess { value in
            var counts: [String: Int] = [:]
            let flat = value.array ?? []
            var index = 0
            while index + 1 < flat.count {
                if let name = flat[index].string, let count = flat[index + 1].int { counts[name, default: 0] += count }
                index += 2
            }
            self.lock.withLock { self.clusterCounts = counts }
        }
    }
}
