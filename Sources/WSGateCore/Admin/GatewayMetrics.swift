import CoreMetrics
import Prometheus
import Synchronization

/// A counter or gauge that any thread may change: one relaxed atomic that the gateway reads for
/// its own decisions (route caps, tests), and the swift-metrics instrument it reports through.
public final class MetricCell: Sendable {
    private enum Instrument: Sendable {
        case counter(CoreMetrics.Counter)
        case meter(CoreMetrics.Meter)
        case none
    }

    private let value = Atomic<Int>(0)
    private let instrument: Instrument

    /// An unexported cell.
    public init() {
        self.instrument = .none
    }

    /// A monotonic counter, exported as `label`.
    init(counter label: String, dimensions: [(String, String)] = [], factory: MetricsFactory) {
        self.instrument = .counter(CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory))
    }

    /// A gauge that goes up and down, exported as `label`.
    init(gauge label: String, dimensions: [(String, String)] = [], factory: MetricsFactory) {
        self.instrument = .meter(CoreMetrics.Meter(label: label, dimensions: dimensions, factory: factory))
    }

    /// Adds `delta` (negative for a gauge going down).
    public func add(_ delta: Int) {
        self.value.add(delta, ordering: .relaxed)
        switch self.instrument {
        case .counter(let counter): if delta > 0 { counter.increment(by: delta) }
        case .meter(let meter): if delta >= 0 { meter.increment(by: Double(delta)) } else { meter.decrement(by: Double(-delta)) }
        case .none: break
        }
    }

    /// Adds one and returns the new value.
    public func increment() -> Int {
        let new = self.value.add(1, ordering: .relaxed).newValue
        switch self.instrument {
        case .counter(let counter): counter.increment()
        case .meter(let meter): meter.increment()
        case .none: break
        }
        return new
    }

    /// Sets a gauge to `value`.
    public func set(_ value: Int) {
        let old = self.value.exchange(value, ordering: .relaxed)
        switch self.instrument {
        case .meter(let meter): meter.set(Double(value))
        case .counter, .none: _ = old
        }
    }

    /// The current value.
    public var load: Int { self.value.load(ordering: .relaxed) }
}

/// The gateway's counters and gauges (docs/SPEC.md "Observability"), counted through swift-metrics into a
/// Prometheus registry of the gateway's own (swift-prometheus), which `/metrics` emits.
///
/// The registry is per gateway, not the process-wide `MetricsSystem`, so that several gateways in
/// one process (the tests) keep their counts apart. Labelled series (dialect × TLS) are created up
/// front, so the hot path is an atomic add and the instrument's own.
public final class GatewayMetrics: Sendable {
    /// Dialect × TLS cells for open connections and connections in total.
    public struct DialectCells: Sendable {
        public let open: MetricCell
        public let total: MetricCell
    }

    /// The Prometheus registry `/metrics` emits.
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    /// Connections accepted on the public listeners, open now.
    public let connectionsOpen: MetricCell
    /// Connections accepted since start.
    public let connectionsAccepted: MetricCell
    /// WebSocket connections by dialect label and TLS.
    public let webSockets: [String: DialectCells]
    /// Messages received from clients.
    public let messagesIn: MetricCell
    /// Payload bytes received from clients.
    public let bytesIn: MetricCell
    /// Messages sent to clients (each delivery counts once).
    public let messagesOut: MetricCell
    /// Messages published to rooms.
    public let roomMessages: MetricCell
    /// Deliveries of room messages to members.
    public let roomDeliveries: MetricCell
    /// Room members now.
    public let roomMembers: MetricCell
    /// Members closed as slow consumers.
    public let slowConsumerCloses: MetricCell
    /// permessage-deflate runs on messages a connection sends (echo, bridges).
    public let compressions: MetricCell
    /// permessage-deflate runs on room messages: one per message per compressed family, however
    /// many members share the bytes.
    public let roomCompressions: MetricCell
    /// Connections that negotiated permessage-deflate.
    public let compressedConnections: MetricCell
    /// Upstream connects that succeeded.
    public let upstreamConnects: MetricCell
    /// Upstream connects that failed.
    public let upstreamFailures: MetricCell
    /// 1 while the cluster's Redis is reachable (cluster mode only).
    public let clusterUp: MetricCell
    /// Connections to Redis made (the first and every reconnect).
    public let clusterConnects: MetricCell
    /// Messages published through Redis.
    public let clusterPublishes: MetricCell
    /// Messages from Redis dropped as already delivered.
    public let clusterDuplicates: MetricCell
    /// Gaps read back from a room's stream.
    public let clusterGapRepairs: MetricCell
    /// Members closed with 1012 room state lost.
    public let clusterStateLostCloses: MetricCell
    /// Senders closed with 1013 when the outage queue was full.
    public let clusterQueueFullCloses: MetricCell
    /// Room epochs rotated after Redis came back with older data.
    public let clusterEpochRotations: MetricCell
    /// Rooms that exist, set when `/metrics` is read.
    let rooms: CoreMetrics.Gauge
    /// Handshake refusals by reason (the HTTP status, or `tls`, `timeout`, ...).
    private let refusals = Mutex<[String: MetricCell]>([:])
    /// Pooled upstream addresses by label.
    private let upstreamAddresses = Mutex<[String: UpstreamAddressCells]>([:])

    public init() {
        let factory = PrometheusMetricsFactory(registry: self.registry)
        self.factory = factory
        self.connectionsOpen = MetricCell(gauge: "wsgate_connections_open", factory: factory)
        self.connectionsAccepted = MetricCell(counter: "wsgate_connections_accepted_total", factory: factory)
        var cells: [String: DialectCells] = [:]
        for dialect in ["hixie75", "hixie76", "rfc6455"] {
            for tls in ["true", "false"] {
                let labels = [("dialect", dialect), ("tls", tls)]
                cells["\(dialect)|\(tls)"] = DialectCells(
                    open: MetricCell(gauge: "wsgate_websockets_open", dimensions: labels, factory: factory),
                    total: MetricCell(counter: "wsgate_websockets_total", dimensions: labels, factory: factory))
            }
        }
        self.webSockets = cells
        self.messagesIn = MetricCell(counter: "wsgate_messages_in_total", factory: factory)
        self.bytesIn = MetricCell(counter: "wsgate_bytes_in_total", factory: factory)
        self.messagesOut = MetricCell(counter: "wsgate_messages_out_total", factory: factory)
        self.roomMessages = MetricCell(counter: "wsgate_room_messages_total", factory: factory)
        self.roomDeliveries = MetricCell(counter: "wsgate_room_deliveries_total", factory: factory)
        self.roomMembers = MetricCell(gauge: "wsgate_room_members", factory: factory)
        self.slowConsumerCloses = MetricCell(counter: "wsgate_slow_consumer_closes_total", factory: factory)
        self.compressions = MetricCell(counter: "wsgate_compressions_total", factory: factory)
        self.roomCompressions = MetricCell(counter: "wsgate_room_compressions_total", factory: factory)
        self.compressedConnections = MetricCell(counter: "wsgate_compressed_connections_total", factory: factory)
        self.upstreamConnects = MetricCell(counter: "wsgate_upstream_connects_total", factory: factory)
        self.upstreamFailures = MetricCell(counter: "wsgate_upstream_failures_total", factory: factory)
        self.rooms = CoreMetrics.Gauge(label: "wsgate_rooms", factory: factory)
        self.clusterUp = MetricCell(gauge: "wsgate_cluster_up", factory: factory)
        self.clusterConnects = MetricCell(counter: "wsgate_cluster_connects_total", factory: factory)
        self.clusterPublishes = MetricCell(counter: "wsgate_cluster_publishes_total", factory: factory)
        self.clusterDuplicates = MetricCell(counter: "wsgate_cluster_duplicates_total", factory: factory)
        self.clusterGapRepairs = MetricCell(counter: "wsgate_cluster_gap_repairs_total", factory: factory)
        self.clusterStateLostCloses = MetricCell(counter: "wsgate_cluster_state_lost_closes_total", factory: factory)
        self.clusterQueueFullCloses = MetricCell(counter: "wsgate_cluster_queue_full_closes_total", factory: factory)
        self.clusterEpochRotations = MetricCell(counter: "wsgate_cluster_epoch_rotations_total", factory: factory)
    }

    /// The cells for a dialect label and TLS flag.
    public func cells(dialect: String, isTLS: Bool) -> DialectCells {
        self.webSockets["\(dialect)|\(isTLS)"]!  // every label is created in init
    }

    /// The series of one pooled upstream address (label `upstream="host:port"`).
    public struct UpstreamAddressCells: Sendable {
        /// Connections open to it now.
        public let open: MetricCell
        /// Connects that succeeded.
        public let connects: MetricCell
        /// Connects that were refused or timed out.
        public let failures: MetricCell
        /// 1 while the pool skips it (`fail_timeout_s` after a failure), else 0.
        public let skipped: MetricCell
    }

    /// The cells of a pooled upstream address, made once per address and shared by every runtime.
    public func upstreamCells(address: String) -> UpstreamAddressCells {
        self.upstreamAddresses.withLock { cells in
            if let existing = cells[address] { return existing }
            let labels = [("upstream", address)]
            let made = UpstreamAddressCells(
                open: MetricCell(gauge: "wsgate_upstream_address_connections_open", dimensions: labels, factory: self.factory),
                connects: MetricCell(counter: "wsgate_upstream_address_connects_total", dimensions: labels, factory: self.factory),
                failures: MetricCell(counter: "wsgate_upstream_address_failures_total", dimensions: labels, factory: self.factory),
                skipped: MetricCell(gauge: "wsgate_upstream_address_skipped", dimensions: labels, factory: self.factory))
            cells[address] = made
            return made
        }
    }

    /// Counts a refusal under its reason label.
    public func countRefusal(_ reason: String) {
        let cell = self.refusals.withLock { cells in
            if let cell = cells[reason] { return cell }
            let cell = MetricCell(counter: "wsgate_handshake_refusals_total", dimensions: [("reason", reason)], factory: self.factory)
            cells[reason] = cell
            return cell
        }
        cell.add(1)
    }

    /// Refusal counts by reason.
    public var refusalCounts: [String: Int] { self.refusals.withLock { $0.mapValues(\.load) } }

    /// The Prometheus text exposition (format 0.0.4) of every series.
    public func prometheusText(rooms: Int) -> String {
        self.rooms.record(rooms)
        return self.registry.emitToString()
    }
}
