import Logging
import NIOCore
import NIOPosix
import WSGateAuth
import WSGateConfig
import WSGateTLS

/// Everything a connection needs from the configuration it was accepted under, frozen.
///
/// A reload builds a new one and swaps it in for new connections; connections keep theirs.
/// Rooms, metrics and the file thread pool are shared by every runtime of the process.
final class GatewayRuntime: Sendable {
    let configuration: WSGateConfiguration
    let routes: RouteTable
    let rooms: RoomRegistry
    let metrics: GatewayMetrics
    let logger: Logger
    let threadPool: NIOThreadPool
    let connections: ConnectionTracker
    /// Open connections per route path, for routes with their own `max_connections`.
    let routeConnections: [String: MetricCell]
    /// The largest `history` of the routes naming each room, computed once per configuration.
    private let historyByRoom: [String: Int]
    /// What each route checks before its 101 (JWT verifiers with their keys, auth servers, named
    /// targets), by route path; read from disk with this configuration.
    let access: [String: RouteAccess]
    /// Whose `X-Forwarded-For` and PROXY headers are believed.
    let trustedProxies: TrustedProxies
    /// The per-client counters of the gateway (shared by every runtime).
    let clientLimits: ClientLimits
    /// The client TLS context of each `tls://` and `wss://` route (by path), made once per
    /// configuration, or why OpenSSL refused it (every connection on the route then gets 502).
    let upstreamTLS: [String: Result<TLSContext, TLSError>]
    /// The pool of each route whose `upstream:` is a list (by path).
    let pools: [String: UpstreamPool]

    init(
        configuration: WSGateConfiguration, rooms: RoomRegistry, metrics: GatewayMetrics, logger: Logger,
        threadPool: NIOThreadPool, connections: ConnectionTracker, clientLimits: ClientLimits, previous: GatewayRuntime?
    ) {
        self.access = RouteAccess.build(configuration).access
        self.trustedProxies = (try? TrustedProxies(configuration.trustedProxies)) ?? .none
        self.clientLimits = clientLimits
        self.configuration = configuration
        self.routes = RouteTable(routes: configuration.routes)
        self.rooms = rooms
        self.metrics = metrics
        self.logger = logger
        self.threadPool = threadPool
        self.connections = connections
        var cells: [String: MetricCell] = [:]
        for route in configuration.routes where route.maxConnectionsOnRoute != nil {
            cells[route.path] = previous?.routeConnections[route.path] ?? MetricCell()
        }
        self.routeConnections = cells
        var history: [String: Int] = [:]
        for route in configuration.routes {
            if case .room(let name) = route.target { history[name] = max(history[name] ?? 0, route.history) }
        }
        self.historyByRoom = history
        var contexts: [String: Result<TLSContext, TLSError>] = [:]
        for route in configuration.routes {
            guard let tls = route.upstreamTLS else { continue }
            do {
                contexts[route.path] = .success(try TLSContext.client(trustedCAPath: tls.caPath, verifyPeer: tls.verify, alpn: []))
            } catch {
                let failure = (error as? TLSError) ?? .configurationFailed(reasons: ["\(error)"])
                logger.error("upstream TLS context refused", metadata: ["wsgate.path": "\(route.path)", "wsgate.reason": "\(failure)"])
                contexts[route.path] = .failure(failure)
            }
        }
        self.upstreamTLS = contexts
        var pools: [String: UpstreamPool] = [:]
        for route in configuration.routes where !route.upstreamPool.isEmpty {
            pools[route.path] = UpstreamPool(
                targets: route.upstreamPool, balance: route.balance, failTimeoutSeconds: route.failTimeoutSeconds, metrics: metrics)
        }
        self.pools = pools
    }

    /// The largest `history` of any route naming `room` (docs/SPEC.md: history is the largest any such route sets).
    func historyLimit(room: String, default value: Int) -> Int {
        max(value, self.historyByRoom[room] ?? 0)
    }
}
