import NIOConcurrencyHelpers
import NIOCore
import WSGateAuth
import WSGateConfig

/// The per-client limits of the whole gateway (`max_connections_per_ip`, `handshakes_per_ip_per_s`),
/// counted by the client's real address, globally and per route; shared by every configuration
/// the gateway runs, so a reload does not reset them. Bounded: see `PerClientCounters` and
/// `PerClientTokenBuckets`.
final class ClientLimits: Sendable {
    private struct State {
        var connections: [String: PerClientCounters] = [:]  // by scope: "" (global) or a route path
        var handshakes: [String: PerClientTokenBuckets] = [:]
    }

    private let state = NIOLockedValueBox(State())

    /// A connection's claim on the counters, given back when it closes.
    struct Claim: Sendable {
        let client: String
        let scopes: [String]
    }

    /// Checks and counts a handshake from `client` on `route`: nil admits it (the returned claim,
    /// if any, must be released when the connection closes), else the refusal.
    func admit(client: String, global: LimitsConfiguration, route: RouteConfiguration, now: NIODeadline = .now())
        -> Result<Claim?, GatewayRefusal>
    {
        let seconds = Double(now.uptimeNanoseconds) / 1e9
        var scopes: [(scope: String, limits: LimitsConfiguration)] = [("", global)]
        // Route limits apply when the route sets them itself (per-client limits on a route count
        // that route's connections only).
        if route.limits.maxConnectionsPerIP != global.maxConnectionsPerIP || route.limits.handshakesPerIPPerSecond != global.handshakesPerIPPerSecond {
            scopes.append((route.path, route.limits))
        }
        return self.state.withLockedValue { state -> Result<Claim?, GatewayRefusal> in
            for (scope, limits) in scopes where limits.handshakesPerIPPerSecond > 0 {
                var buckets = state.handshakes[scope] ?? PerClientTokenBuckets(perSecond: limits.handshakesPerIPPerSecond)
                let decision = buckets.take(client, now: seconds)
                state.handshakes[scope] = buckets
                if case .refused(let retryAfter) = decision {
                    return .failure(.tooManyRequests(
                        detail: "more than \(limits.handshakesPerIPPerSecond) handshakes per second from \(client)",
                        retryAfterSeconds: retryAfter, metric: "handshake_rate"))
                }
            }
            var acquired: [String] = []
            for (scope, limits) in scopes where limits.maxConnectionsPerIP > 0 {
                var counters = state.connections[scope] ?? PerClientCounters(limit: limits.maxConnectionsPerIP)
                let decision = counters.acquire(client)
                state.connections[scope] = counters
                guard case .allowed = decision else {
                    for taken in acquired { state.connections[taken]?.release(client) }
                    return .failure(.tooManyRequests(
                        detail: "more than \(limits.maxConnectionsPerIP) connections from \(client)", retryAfterSeconds: nil,
                        metric: "connections_per_ip"))
                }
                acquired.append(scope)
            }
            return .success(acquired.isEmpty ? nil : Claim(client: client, scopes: acquired))
        }
    }

    /// A connection's claim, held until its channel closes.
    final class Held: Sendable {
        let limits: ClientLimits
        let claim: Claim
        init(limits: ClientLimits, claim: Claim) {
            self.limits = limits
            self.claim = claim
        }
        func release() { self.limits.release(self.claim) }
    }

    /// Gives a connection's claim back.
    func release(_ claim: Claim) {
        self.state.withLockedValue { state in
            for scope in claim.scopes { state.connections[scope]?.release(claim.client) }
        }
    }
}
