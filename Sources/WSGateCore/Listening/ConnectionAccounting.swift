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
    /// The connection's place in the per-client counters, if a limit counts it.
    var clientClaim: (limits: ClientLimits, claim: ClientLimits.Claim)?

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
        if let (limits, claim) = self.clientClaim { limits.release(claim) }
    }
}
