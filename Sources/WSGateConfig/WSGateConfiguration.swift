/// The whole, validated gateway configuration (stage 3 of loading; see `ConfigLoader`).
///
/// A value of this type only exists for a file that was fully understood: every key known, every
/// value typed and in range.
public struct WSGateConfiguration: Sendable, Equatable {
    /// Key `listeners`. The public listeners. At least one. Required.
    public var listeners: [ListenerConfiguration]
    /// Key `admin`. The admin listener. Default: none.
    public var admin: AdminConfiguration?
    /// Key `limits`. Global limits. Default: `LimitsConfiguration.defaults`.
    public var limits: LimitsConfiguration
    /// Key `limits.drain_timeout_s`. Seconds to wait for connections to drain on shutdown. Default: 10.
    /// Global only.
    public var drainTimeoutSeconds: Int
    /// Key `log_level`. Default: `info`.
    public var logLevel: LogLevel
    /// Key `log_format`. Default: `text`.
    public var logFormat: LogFormat = .text
    /// Key `trusted_proxies`: CIDRs (`10.0.0.0/8`, `::1/128`). Default: none.
    public var trustedProxies: [String] = []
    /// Key `routes`, in the order of the file. Default: none.
    public var routes: [RouteConfiguration]
    /// Key `cluster`. Rooms shared through Redis. Default: none (rooms live in the process).
    public var cluster: ClusterConfiguration?

    /// Creates a configuration.
    public init(
        listeners: [ListenerConfiguration],
        admin: AdminConfiguration? = nil,
        limits: LimitsConfiguration = .defaults,
        drainTimeoutSeconds: Int = 10,
        logLevel: LogLevel = .info,
        routes: [RouteConfiguration] = [],
        cluster: ClusterConfiguration? = nil
    ) {
        self.listeners = listeners
        self.admin = admin
        self.limits = limits
        self.drainTimeoutSeconds = drainTimeoutSeconds
        self.logLevel = logLevel
        self.routes = routes
        self.cluster = cluster
    }

    /// One line for the log, e.g. `3 listeners, 5 routes, admin on 127.0.0.1:9901`.
    public var summary: String {
        func count(_ number: Int, _ noun: String) -> String {
            "\(number) \(noun)\(number == 1 ? "" : "s")"
        }
        var parts = [count(self.listeners.count, "listener"), count(self.routes.count, "route")]
        if let admin = self.admin {
            let host = admin.host.contains(":") ? "[\(admin.host)]" : admin.host
            parts.append("admin on \(host):\(admin.port)")
        }
        if let cluster = self.cluster {
            parts.append("cluster on \(cluster.redis)")
        }
        return parts.joined(separator: ", ")
    }
}
