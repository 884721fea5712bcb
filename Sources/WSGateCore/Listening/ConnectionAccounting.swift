import NIOCore

/// What one connection holds in the gateway's counters, given back once when its channel closes.
///
/// One close callback per connection instead of one per counter keeps idle connections small.
/// Set and released on the channel's event loop.
final class ConnectionAccounting: @unchecked Sendable {
    private let metrics: GatewayMetrics
    /// The dialect × TLS cells, once the connection is a WebSocket.
    var dialectCells: GatewayMetrics.DialectCells?
    /// The route's own connection counter, if the route has `max_connections`.
    var routeCell: MetricCell?
    /// The connection's place in the per-client counters, if a limit counts it (a reference: idle
    /// connections without limits pay one word for it).
    var clientClaim: ClientLimits.Held?

    /// `tracker`: the gateway's list of open WebSockets, which `ConnectionTracker.add` may put the
    /// channel on; the close callback takes it off (a no-op for channels never listed), so that
    /// registration and removal cannot drift apart and no per-connection field remembers it. The
    /// same callback tells `TokenExpiry` (a no-op for connections without a token to watch).
    init(channel: Channel, metrics: GatewayMetrics, tracker: ConnectionTracker) {
        self.metrics = metrics
        metrics.connectionsAccepted.add(1)
        metrics.connectionsOpen.add(1)
        let id = ObjectIdentifier(channel)
        channel.closeFuture.whenComplete { _ in
            self.release()
            tracker.remove(id)
            TokenExpiry.shared.forget(id)
        }
    }

    private func release() {
        self.metrics.connectionsOpen.add(-1)
        self.dialectCells?.open.add(-1)
        self.routeCell?.add(-1)
        self.clientClaim?.release()
    }
}
