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
    /// The tracker that lists the connection for shutdown, once it is a WebSocket. Set only by
    /// `ConnectionTracker.add`, which thereby arranges the removal: registration and removal in
    /// one place, through the connection's one close callback.
    var tracker: ConnectionTracker?

    init(channel: Channel, metrics: GatewayMetrics) {
        self.metrics = metrics
        metrics.connectionsAccepted.add(1)
        metrics.connectionsOpen.add(1)
        channel.closeFuture.whenComplete { _ in self.release(channel: channel) }
    }

    private func release(channel: Channel) {
        self.metrics.connectionsOpen.add(-1)
        self.dialectCells?.open.add(-1)
        self.routeCell?.add(-1)
        self.clientClaim?.release()
        self.tracker?.remove(ObjectIdentifier(channel))
    }
}
