import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import WSGateAuth
import WSGateConfig
import WSGateTLS

/// The running gateway: its listeners, admin endpoint, rooms and the configuration in force.
///
/// `start()` binds every listener (logging the address actually bound); `reload(_:)` swaps the
/// configuration for new connections and opens or closes listeners; `shutdown()` drains.
public final class Gateway: @unchecked Sendable {
    /// The gateway's counters, shared by every configuration it runs.
    public let metrics = GatewayMetrics()
    /// The rooms of the process.
    public let rooms: RoomRegistry
    private let group: MultiThreadedEventLoopGroup
    private let ownsGroup: Bool
    private let threadPool: NIOThreadPool
    /// The cluster's broker, with `cluster:` (fixed at start: a reload does not change it).
    private let cluster: RedisBroker?
    private let connections = ConnectionTracker()
    private let clientLimits = ClientLimits()
    private let logger: Logger
    private let lock = NIOLock()
    private var runtime: GatewayRuntime
    private var listeners: [ListenerKey: Channel] = [:]
    private var securities: [ListenerKey: ListenerSecurity] = [:]
    private var adminChannel: Channel?
    private var adminKey: String?

    /// What identifies a listener across reloads: where it binds and how.
    struct ListenerKey: Hashable {
        var host: String
        var port: Int
        var tls: TLSListenerConfiguration?
        var proxyProtocol = false

        static func == (lhs: ListenerKey, rhs: ListenerKey) -> Bool {
            lhs.host == rhs.host && lhs.port == rhs.port && lhs.tls == rhs.tls && lhs.proxyProtocol == rhs.proxyProtocol
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(self.host)
            hasher.combine(self.port)
            hasher.combine(self.tls?.certificatePath)
        }
    }

    /// Creates a gateway; nothing is bound until `start()`.
    public init(configuration: WSGateConfiguration, logger: Logger, eventLoopGroup: MultiThreadedEventLoopGroup? = nil) throws {
        self.logger = logger
        self.group = eventLoopGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        self.ownsGroup = eventLoopGroup == nil
        self.threadPool = NIOThreadPool(numberOfThreads: 2)
        self.threadPool.start()
        if let cluster = configuration.cluster {
            let broker = RedisBroker(configuration: cluster, eventLoop: self.group.next(), metrics: self.metrics, logger: logger)
            self.cluster = broker
            self.rooms = RoomRegistry(metrics: self.metrics, broker: broker)
        } else {
            self.cluster = nil
            self.rooms = RoomRegistry(metrics: self.metrics)
        }
        self.runtime = GatewayRuntime(
            configuration: configuration, rooms: self.rooms, metrics: self.metrics, logger: logger,
            threadPool: self.threadPool, connections: self.connections, clientLimits: self.clientLimits, previous: nil)
        try ListenerSecurity.prepare(configuration)
    }

    /// The configuration in force for new connections.
    public var configuration: WSGateConfiguration { self.lock.withLock { self.runtime.configuration } }

    /// The addresses the public listeners are bound to, in configuration order.
    public var listenerAddresses: [SocketAddress] {
        let configuration = self.configuration
        return self.lock.withLock {
            configuration.listeners.compactMap { listener in
                self.listeners[ListenerKey(host: listener.host, port: listener.port, tls: listener.tls, proxyProtocol: listener.proxyProtocol)]?.localAddress
            }
        }
    }

    /// The WebSocket connections open now (those that shutdown would close).
    public var openWebSocketCount: Int { self.connections.count }

    /// The admin listener's address, if one is configured.
    public var adminAddress: SocketAddress? { self.lock.withLock { self.adminChannel?.localAddress } }

    /// Binds every listener and the admin endpoint.
    public func start() throws {
        self.cluster?.start()
        try self.openListeners(for: self.configuration)
    }

    /// Applies a new configuration to new connections; existing connections keep theirs.
    public func reload(_ configuration: WSGateConfiguration) throws {
        try ListenerSecurity.prepare(configuration)
        if configuration.cluster != self.configuration.cluster {
            self.logger.warning("the cluster settings changed: they take effect at the next start")
        }
        // Certificates are read again even at unchanged paths (renewed in place). All of them are
        // read before anything is swapped: one unusable file refuses the whole reload.
        let kept = self.lock.withLock { self.securities }
        var renewed: [(ListenerSecurity, TLSContext)] = []
        for listener in configuration.listeners {
            guard let tls = listener.tls, let security = kept[ListenerKey(host: listener.host, port: listener.port, tls: tls, proxyProtocol: listener.proxyProtocol)] else { continue }
            renewed.append((security, try ListenerSecurity.makeContext(tls)))
        }
        for (security, context) in renewed { security.replace(context) }
        self.lock.withLock {
            self.runtime = GatewayRuntime(
                configuration: configuration, rooms: self.rooms, metrics: self.metrics, logger: self.logger,
                threadPool: self.threadPool, connections: self.connections, clientLimits: self.clientLimits, previous: self.runtime)
        }
        try self.openListeners(for: configuration)
        self.logger.info("configuration reloaded", metadata: ["wsgate.summary": "\(configuration.summary)"])
    }

    /// Stops accepting, closes every WebSocket in its dialect with 1001, waits at most
    /// `drainTimeout` for them to go, then closes what is left and stops the event loops.
    public func shutdown(drainTimeout: TimeAmount? = nil) {
        let timeout = drainTimeout ?? .seconds(Int64(self.configuration.drainTimeoutSeconds))
        let (listeners, admin): ([Channel], Channel?) = self.lock.withLock {
            let all = Array(self.listeners.values)
            self.listeners = [:]
            let admin = self.adminChannel
            self.adminChannel = nil
            return (all, admin)
        }
        for channel in listeners { try? channel.close().wait() }
        let open = self.connections.beginDrain()
        self.logger.info("draining", metadata: ["wsgate.connections": "\(open.count)"])
        for channel in open {
            channel.triggerUserOutboundEvent(WebSocketCloseRequest(code: .goingAway, reason: "going away"), promise: nil)
        }
        let deadline = NIODeadline.now() + timeout
        for channel in open {
            let remaining = deadline - .now()
            if remaining <= .zero {
                channel.close(promise: nil)
                continue
            }
            let done = channel.eventLoop.scheduleTask(in: remaining) { channel.close(promise: nil) }
            _ = try? channel.closeFuture.wait()
            done.cancel()
        }
        try? admin?.close().wait()
        self.cluster?.stop()
        try? self.threadPool.syncShutdownGracefully()
        if self.ownsGroup { try? self.group.syncShutdownGracefully() }
        self.logger.info("stopped")
    }

    // MARK: Listeners

    private func openListeners(for configuration: WSGateConfiguration) throws {
        let wanted = configuration.listeners.map { ListenerKey(host: $0.host, port: $0.port, tls: $0.tls, proxyProtocol: $0.proxyProtocol) }
        let existing = self.lock.withLock { self.listeners }
        for (key, channel) in existing where !wanted.contains(key) {
            self.logger.info("listener closed", metadata: ["wsgate.bind": "\(key.host):\(key.port)"])
            try? channel.close().wait()
            self.lock.withLock {
                _ = self.listeners.removeValue(forKey: key)
                _ = self.securities.removeValue(forKey: key)
            }
        }
        for key in wanted where existing[key] == nil {
            let security = try ListenerSecurity(configuration: key.tls)
            let channel = try self.bind(key, security: security)
            self.lock.withLock {
                self.listeners[key] = channel
                self.securities[key] = security
            }
            self.logger.info(
                "listening",
                metadata: ["wsgate.address": "\(channel.localAddress.map { "\($0)" } ?? "?")", "wsgate.tls": "\(key.tls != nil)"])
        }
        let adminKey = configuration.admin.map { "\($0.host):\($0.port)" }
        if adminKey != self.lock.withLock({ self.adminKey }) {
            if let old = self.lock.withLock({ self.adminChannel }) { try? old.close().wait() }
            var channel: Channel? = nil
            if let admin = configuration.admin {
                channel = try AdminServer.bind(host: admin.host, port: admin.port, group: self.group, gateway: self)
                self.logger.info("admin listening", metadata: ["wsgate.address": "\(channel?.localAddress.map { "\($0)" } ?? "?")"])
            }
            self.lock.withLock {
                self.adminChannel = channel
                self.adminKey = adminKey
            }
        }
    }

    private func bind(_ key: ListenerKey, security: ListenerSecurity) throws -> Channel {
        try ServerBootstrap(group: self.group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            // Each channel keeps its receive buffer between reads: start small, so that 10,000 idle
            // connections do not each hold 2 KiB; it grows for bulk traffic, up to 256 KiB so that a
            // 64 KiB frame and its header usually arrive in one read (no cumulation copy).
            .childChannelOption(
                ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 262_144)
            )
            .childChannelInitializer { [weak self] channel in
                guard let self else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    try self.initialize(channel, security: security, proxyProtocol: key.proxyProtocol)
                }
            }
            .bind(host: key.host, port: key.port)
            .wait()
    }

    private func initialize(_ channel: Channel, security: ListenerSecurity, proxyProtocol: Bool) throws {
        let runtime = self.lock.withLock { self.runtime }
        let metrics = self.metrics
        let accounting = ConnectionAccounting(channel: channel, metrics: metrics, tracker: self.connections)
        let peerIP = channel.remoteAddress?.ipAddress ?? "?"
        let logger = self.logger
        // The socket peer, normalized (IPv4-mapped IPv6 as IPv4), until a trusted proxy names the client.
        let info = ConnectionInfo(
            runtime: runtime, isTLS: false, peer: ClientAddress.resolve(peer: peerIP, xForwardedFor: [], trusted: .none), peerIP: peerIP,
            logger: logger, accounting: accounting, acceptedAt: .now(),
            clientPort: channel.remoteAddress?.port ?? 0,
            localAddress: ClientAddress.resolve(peer: channel.localAddress?.ipAddress ?? "", xForwardedFor: [], trusted: .none),
            localPort: channel.localAddress?.port ?? 0)
        let limit = runtime.configuration.limits.maxConnections
        if metrics.connectionsOpen.load > limit {
            try channel.pipeline.syncOperations.addHandler(RefuseOnActiveHandler(refusal: .full(limit: limit), logger: logger, metrics: metrics))
            return
        }
        guard proxyProtocol else {
            try security.install(on: channel, info: info)
            return
        }
        // A load balancer's PROXY header comes first, from trusted peers only.
        try channel.pipeline.syncOperations.addHandler(ProxyProtocolHandler(info: info, security: security))
    }
}
