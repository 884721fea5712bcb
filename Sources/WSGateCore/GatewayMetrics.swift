import Synchronization

/// A counter or gauge that any thread may change: one relaxed atomic.
public final class MetricCell: Sendable {
    private let value = Atomic<Int>(0)
    public init() {}
    /// Adds `delta` (negative for a gauge going down).
    public func add(_ delta: Int) { self.value.add(delta, ordering: .relaxed) }
    /// Adds one and returns the new value.
    public func increment() -> Int { self.value.add(1, ordering: .relaxed).newValue }
    /// The current value.
    public var load: Int { self.value.load(ordering: .relaxed) }
}

/// The gateway's counters and gauges, read by `/metrics` (SPEC "Observability").
///
/// Labelled series (dialect × TLS, refusal reason) are kept as fixed cells or a locked table, so
/// that the hot path is one atomic add.
public final class GatewayMetrics: Sendable {
    /// Dialect × TLS cells for open connections and connections in total.
    public struct DialectCells: Sendable {
        public let open = MetricCell()
        public let total = MetricCell()
    }

    /// Connections accepted on the public listeners, open now.
    public let connectionsOpen = MetricCell()
    /// Connections accepted since start.
    public let connectionsAccepted = MetricCell()
    /// WebSocket connections by dialect label and TLS.
    public let webSockets: [String: DialectCells]
    /// Messages received from clients.
    public let messagesIn = MetricCell()
    /// Payload bytes received from clients.
    public let bytesIn = MetricCell()
    /// Messages sent to clients (each delivery counts once).
    public let messagesOut = MetricCell()
    /// Messages published to rooms.
    public let roomMessages = MetricCell()
    /// Deliveries of room messages to members.
    public let roomDeliveries = MetricCell()
    /// Room members now.
    public let roomMembers = MetricCell()
    /// Members closed as slow consumers.
    public let slowConsumerCloses = MetricCell()
    /// Upstream connects that succeeded.
    public let upstreamConnects = MetricCell()
    /// Upstream connects that failed.
    public let upstreamFailures = MetricCell()
    /// Handshake refusals by HTTP status.
    private let refusals = Mutex<[String: Int]>([:])

    public init() {
        var cells: [String: DialectCells] = [:]
        for dialect in ["hixie75", "hixie76", "rfc6455"] {
            for tls in ["true", "false"] { cells["\(dialect)|\(tls)"] = DialectCells() }
        }
        self.webSockets = cells
    }

    /// The cells for a dialect label and TLS flag.
    public func cells(dialect: String, isTLS: Bool) -> DialectCells {
        self.webSockets["\(dialect)|\(isTLS)"]!  // every label is created in init
    }

    /// Counts a refusal under its reason label.
    public func countRefusal(_ reason: String) {
        self.refusals.withLock { $0[reason, default: 0] += 1 }
    }

    /// Refusal counts by reason.
    public var refusalCounts: [String: Int] { self.refusals.withLock { $0 } }
}
