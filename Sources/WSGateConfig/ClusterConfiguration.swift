import WSGateRedis

/// The cluster (top-level key `cluster`, optional): rooms shared by every wsgate on one Redis.
public struct ClusterConfiguration: Sendable, Equatable {
    /// Key `cluster.redis`: the server, with its user, password and database. Required.
    public var redis: RedisURL
    /// Key `cluster.prefix`: the prefix of every key and channel. Default `wsgate`.
    public var prefix: String
    /// Key `cluster.outage_queue`: messages per room held while Redis is unreachable. Default 1000.
    public var outageQueue: Int
    /// Key `cluster.stream_length`: messages kept in each room's stream. Default 1000.
    public var streamLength: Int
    /// Key `cluster.tls_ca`: the PEM file of CAs that sign the server's certificate for `rediss://`.
    /// Default: the system's trust store.
    public var tlsCAPath: String?

    /// Creates a cluster configuration.
    public init(redis: RedisURL, prefix: String = "wsgate", outageQueue: Int = 1000, streamLength: Int = 1000, tlsCAPath: String? = nil) {
        self.tlsCAPath = tlsCAPath
        self.redis = redis
        self.prefix = prefix
        self.outageQueue = outageQueue
        self.streamLength = streamLength
    }
}
