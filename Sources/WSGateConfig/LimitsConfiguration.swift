/// Resource limits (key `limits`, global; a route overrides any of them with the same key).
public struct LimitsConfiguration: Sendable, Equatable {
    /// Key `max_connections`. Connections. Default: 10,000. Globally: open connections on the public
    /// listeners (past it, HTTP 503 before any upgrade); on a route: connections on that route.
    public var maxConnections: Int
    /// Key `max_message_bytes`. Bytes. Default: 1,048,576. Larger messages: close 1009 (hixie: dropped).
    public var maxMessageBytes: Int
    /// Key `handshake_timeout_ms`. Milliseconds. Default: 10,000.
    public var handshakeTimeoutMs: Int
    /// Key `ping_interval_s`. Seconds. Default: 30. 0 = no keepalive pings.
    public var pingIntervalSeconds: Int
    /// Key `idle_timeout_s`. Seconds. Default: 0 = off. An idle client is closed with 1001.
    public var idleTimeoutSeconds: Int
    /// Key `send_queue_bytes`. Bytes. Default: 4,194,304. Past it a client is a slow consumer: closed 1008.
    public var sendQueueBytes: Int
    /// Key `max_connections_per_ip`. Open connections from one client address; past it, 429. 0 = off.
    public var maxConnectionsPerIP: Int = 0
    /// Key `handshakes_per_ip_per_s`. A token bucket per client address (burst of the same size);
    /// past it, 429 with `Retry-After`. 0 = off.
    public var handshakesPerIPPerSecond: Int = 0
    /// Key `messages_per_s`. Messages a connection may send per second (every dialect); past it,
    /// close 1008. 0 = off.
    public var messagesPerSecond: Int = 0

    /// Creates limits; every argument defaults to the documented default.
    public init(
        maxConnections: Int = 10_000,
        maxMessageBytes: Int = 1_048_576,
        handshakeTimeoutMs: Int = 10_000,
        pingIntervalSeconds: Int = 30,
        idleTimeoutSeconds: Int = 0,
        sendQueueBytes: Int = 4_194_304
    ) {
        self.maxConnections = maxConnections
        self.maxMessageBytes = maxMessageBytes
        self.handshakeTimeoutMs = handshakeTimeoutMs
        self.pingIntervalSeconds = pingIntervalSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.sendQueueBytes = sendQueueBytes
    }

    /// The defaults, used when the file has no `limits` section.
    public static let defaults = LimitsConfiguration()
}
