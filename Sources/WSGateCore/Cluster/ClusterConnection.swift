import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import WSGateRedis
import WSGateTLS

/// The gateway's two connections to Redis — one for commands, one for subscriptions — and their
/// state, up or down. It reconnects with jittered backoff forever; each time both connections are
/// up it loads the scripts and calls `onUp` (where the broker resubscribes and resynchronizes), and
/// when either closes it closes the other and calls `onDown`. Liveness: `ping()` (the broker's
/// heartbeat) sends PING on both, and a PING that gets no answer within the command timeout closes
/// the connection.
///
/// Everything but `isUp` and `current` runs on `eventLoop`, where both connections live. TLS
/// (`rediss://`) runs on the gateway's OpenSSL client (WSGateTLS), verifying the URL's host.
final class ClusterConnection: @unchecked Sendable {  // the state is guarded by `lock`; the callbacks are set once, before `start`
    /// The connections while up.
    struct Live {
        let commands: RedisConnection
        /// Subscribed to the rooms' channels; its messages go to `onMessage`.
        let subscription: RedisConnection
        /// Counts connections: a reply of an older one is not acted on.
        let generation: Int
    }

    let url: RedisURL
    let eventLoop: EventLoop
    private let logger: Logger
    private let commandTimeout: TimeAmount
    private let lock = NIOLock()
    private var live: Live?
    private var isStopped = false
    private var isStarted = false
    private var generation = 0
    private var backoff = ReconnectBackoff(base: .milliseconds(50), cap: .seconds(5), jitter: .full)
    private var lastFailure: String?
    /// Called on `eventLoop` once both connections are up and the scripts are loaded.
    var onUp: (@Sendable (Live) -> Void)?
    /// Called on `eventLoop` when the connections are lost.
    var onDown: (@Sendable () -> Void)?
    /// Called on `eventLoop` with each message of a subscribed channel.
    var onMessage: (@Sendable (RedisPubSubMessage) -> Void)?

    /// The OpenSSL client context for `rediss://` (nil for `redis://`, or when it could not be made).
    private let tlsContext: TLSContext?
    private let tlsError: Error?

    /// Names the connections in `CLIENT LIST`: `wsgate:<gateway>:commands` and `...:subscriptions`.
    private let clientNamePrefix: String

    init(
        url: RedisURL, tlsCAPath: String? = nil, gatewayID: String, eventLoop: EventLoop, logger: Logger,
        commandTimeout: TimeAmount = .seconds(2)
    ) {
        self.url = url
        self.clientNamePrefix = "wsgate:\(gatewayID):"
        if url.usesTLS {
            do {
                self.tlsContext = try TLSContext.client(trustedCAPath: tlsCAPath, verifyPeer: true, alpn: [])
                self.tlsError = nil
            } catch {
                self.tlsContext = nil
                self.tlsError = error
            }
        } else {
            self.tlsContext = nil
            self.tlsError = nil
        }
        self.eventLoop = eventLoop
        self.logger = logger
        self.commandTimeout = commandTimeout
    }

    /// The connections, while both are up.
    var current: Live? { self.lock.withLock { self.live } }

    /// Whether both connections are up.
    var isUp: Bool { self.current != nil }

    /// Starts connecting (and reconnecting, until `stop`).
    func start() {
        let first = self.lock.withLock { () -> Bool in
            defer { self.isStarted = true }
            return !self.isStarted
        }
        guard first else { return }
        self.eventLoop.execute { self.connect() }
    }

    /// Closes both connections; no reconnection after it.
    func stop() -> EventLoopFuture<Void> {
        let live: Live? = self.lock.withLock {
            self.isStopped = true
            return self.live
        }
        guard let live else { return self.eventLoop.makeSucceededVoidFuture() }
        return live.commands.close().and(live.subscription.close()).map { _ in }.recover { _ in }
    }

    /// PING on both connections: one that does not answer within the command timeout is closed by
    /// the client, which brings the cluster down and reconnects.
    func ping() {
        guard let live = self.current else { return }
        live.commands.send("PING").whenFailure { _ in }
        live.subscription.send("PING").whenFailure { _ in }
    }

    private func options(name: String) -> RedisConnection.Options {
        var options = RedisConnection.Options(url: self.url)
        options.commandTimeout = self.commandTimeout
        options.connectTimeout = .seconds(2)
        options.clientName = name
        return options
    }

    private func connect() {
        self.eventLoop.preconditionInEventLoop()
        guard !self.lock.withLock({ self.isStopped }) else { return }
        if self.url.usesTLS, self.tlsContext == nil {
            self.failed(self.tlsError ?? RedisClientError.tlsUnsupported)
            return
        }
        var subscriptionOptions = self.options(name: self.clientNamePrefix + "subscriptions")
        subscriptionOptions.onPush = { [weak self] value in
            if let message = RedisPubSubMessage(value) { self?.onMessage?(message) }
        }
        let commands = self.open(options: self.options(name: self.clientNamePrefix + "commands"))
        let subscription = self.open(options: subscriptionOptions)
        commands.and(subscription).flatMap { (commands, subscription) in
            commands.pipeline(ClusterScripts.all.map { ["SCRIPT", "LOAD", RESPArgument($0.source)] }).flatMapThrowing { replies in
                if let error = replies.lazy.compactMap(\.error).first { throw error }
                return (commands, subscription)
            }
        }.hop(to: self.eventLoop).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let (commands, subscription)):
                self.connected(commands: commands, subscription: subscription)
            case .failure(let error):
                commands.whenSuccess { $0.close().whenFailure { _ in } }
                subscription.whenSuccess { $0.close().whenFailure { _ in } }
                self.failed(error)
            }
        }
    }

    /// One connection: plain TCP through the client's own `connect`, or TLS on our OpenSSL client
    /// (then AUTH, CLIENT SETNAME and SELECT are sent here, after the handshake, in one pipeline).
    private func open(options: RedisConnection.Options) -> EventLoopFuture<RedisConnection> {
        guard let tlsContext = self.tlsContext else {
            return RedisConnection.connect(host: self.url.host, port: self.url.port, eventLoop: self.eventLoop, options: options)
        }
        let host = self.url.host
        let timeout = options.connectTimeout
        let connected = ClientBootstrap(group: self.eventLoop)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TLSHandler(context: tlsContext, role: .client(serverName: host)))
                    try RedisConnection.addHandlers(to: channel, options: options)
                }
            }
            .connect(host: host, port: self.url.port)
        return connected.flatMap { channel in
            let connection = RedisConnection(channel: channel)
            var commands: [[RESPArgument]] = []
            if let password = options.password {
                commands.append(options.username.map { ["AUTH", RESPArgument($0), RESPArgument(password)] } ?? ["AUTH", RESPArgument(password)])
            }
            if let name = options.clientName { commands.append(["CLIENT", "SETNAME", RESPArgument(name)]) }
            if let database = options.database { commands.append(["SELECT", RESPArgument(database)]) }
            commands.append(["PING"])  // proves the TLS handshake and the connection
            return connection.pipeline(commands).flatMapThrowing { replies in
                if let error = replies.lazy.compactMap(\.error).first { throw error }
                return connection
            }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
    }

    private func connected(commands: RedisConnection, subscription: RedisConnection) {
        let live: Live? = self.lock.withLock {
            guard !self.isStopped else { return nil }
            self.generation += 1
            self.backoff.reset()
            self.lastFailure = nil
            let live = Live(commands: commands, subscription: subscription, generation: self.generation)
            self.live = live
            return live
        }
        guard let live else {
            commands.close().whenFailure { _ in }
            subscription.close().whenFailure { _ in }
            return
        }
        self.logger.notice("cluster up", metadata: ["wsgate.redis": "\(self.url)"])
        let lost: @Sendable (Result<Void, Error>) -> Void = { [weak self] _ in self?.lost(generation: live.generation) }
        commands.closeFuture.whenComplete(lost)
        subscription.closeFuture.whenComplete(lost)
        self.onUp?(live)
    }

    private func lost(generation: Int) {
        self.eventLoop.preconditionInEventLoop()
        let live: Live? = self.lock.withLock {
            guard let live = self.live, live.generation == generation else { return nil }
            self.live = nil
            return live
        }
        guard let live else { return }
        live.commands.close().whenFailure { _ in }
        live.subscription.close().whenFailure { _ in }
        let stopped = self.lock.withLock { self.isStopped }
        if !stopped { self.logger.warning("cluster down: connection to Redis lost", metadata: ["wsgate.redis": "\(self.url)"]) }
        self.onDown?()
        self.scheduleReconnect()
    }

    private func failed(_ error: Error) {
        let (isFirst, stopped): (Bool, Bool) = self.lock.withLock {
            let text = "\(error)"
            defer { self.lastFailure = text }
            return (self.lastFailure != text, self.isStopped)
        }
        guard !stopped else { return }
        // One line per change of reason, not one per attempt.
        if isFirst {
            self.logger.warning("cluster down: cannot reach Redis", metadata: ["wsgate.redis": "\(self.url)", "wsgate.error": "\(error)"])
        }
        self.scheduleReconnect()
    }

    private func scheduleReconnect() {
        let delay: TimeAmount? = self.lock.withLock { self.isStopped ? nil : self.backoff.next() }
        guard let delay else { return }
        self.eventLoop.scheduleTask(in: delay) { self.connect() }
    }
}
