import NIOCore
import Synchronization
import WSGateConfig

/// A route's pool of upstream addresses (`upstream:` a list; docs/SPEC.md "Upstreams, all forms"):
/// which to try, in what order, and the per-address state `/metrics` shows.
///
/// Shared by the event loops of every connection on the route, so its state sits behind a mutex.
/// An address that refuses or times out is skipped for `fail_timeout_s`; the rest are tried in
/// order within the same `connect_timeout_ms`; when every address is skipped the client gets 502.
final class UpstreamPool: Sendable {
    /// One address and its metrics.
    struct Member: Sendable {
        let target: RouteTarget
        /// `host:port` (IPv6 bracketed), the metrics label.
        let label: String
        let cells: GatewayMetrics.UpstreamAddressCells
    }

    private struct State {
        var next = 0
        var open: [Int]
        var skippedUntil: [NIODeadline?]
    }

    let members: [Member]
    private let balance: UpstreamBalance
    private let failTimeout: TimeAmount
    private let state: Mutex<State>

    init(targets: [RouteTarget], balance: UpstreamBalance, failTimeoutSeconds: Int, metrics: GatewayMetrics) {
        self.members = targets.map { target in
            let label = Self.label(target)
            return Member(target: target, label: label, cells: metrics.upstreamCells(address: label))
        }
        self.balance = balance
        self.failTimeout = .seconds(Int64(failTimeoutSeconds))
        self.state = Mutex(State(open: Array(repeating: 0, count: targets.count), skippedUntil: Array(repeating: nil, count: targets.count)))
    }

    static func label(_ target: RouteTarget) -> String {
        let (host, port): (String, Int)
        switch target {
        case .upstream(let h, let p), .webSocketUpstream(let h, let p, _): (host, port) = (h, p)
        case .unixUpstream(let path): return "unix:" + path
        default: return "\(target)"
        }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The members to try, in order: the pick first, then the others not skipped. Empty: all down.
    func candidates(now: NIODeadline = .now()) -> [Int] {
        self.state.withLock { state in
            var up: [Int] = []
            for index in self.members.indices {
                if let until = state.skippedUntil[index] {
                    guard until <= now else { continue }
                    state.skippedUntil[index] = nil
                    self.members[index].cells.skipped.set(0)
                }
                up.append(index)
            }
            guard !up.isEmpty else { return [] }
            let first: Int
            switch self.balance {
            case .round_robin:
                // The next address in list order at or after the cursor that is up.
                let start = state.next % self.members.count
                first = up.first { $0 >= start } ?? up[0]
                state.next = first + 1
            case .least_connections:
                first = up.min { state.open[$0] < state.open[$1] } ?? up[0]
            }
            return [first] + up.filter { $0 != first }
        }
    }

    /// A connection to `index` is up (until `released`).
    func connected(_ index: Int) {
        self.state.withLock { $0.open[index] += 1 }
        self.members[index].cells.connects.add(1)
        self.members[index].cells.open.add(1)
    }

    /// A connection to `index` ended.
    func released(_ index: Int) {
        self.state.withLock { $0.open[index] -= 1 }
        self.members[index].cells.open.add(-1)
    }

    /// `index` refused or timed out: skipped for `fail_timeout_s`.
    func failed(_ index: Int, now: NIODeadline = .now()) {
        self.state.withLock { $0.skippedUntil[index] = now + self.failTimeout }
        self.members[index].cells.failures.add(1)
        self.members[index].cells.skipped.set(1)
    }
}
