/// One route (an entry of `routes`): a URL path and the single target it leads to.
///
/// Matching (done by the gateway core): an exact path beats a prefix, the longest prefix wins, no match is 404.
/// `static` routes serve everything below their path, so they act as prefixes whether or not written `/x/*`.
public struct RouteConfiguration: Sendable, Equatable {
    /// Key `path`, without a trailing `/*` (`/rooms/*` gives `/rooms`; `/*` gives the empty string).
    /// Must start with `/`. Required.
    public var path: String
    /// True when `path` was written `/x/*` (a prefix route); false for an exact path.
    public var isPrefix: Bool
    /// Keys `room`, `upstream`, `static`, `echo`: exactly one of them. Required.
    public var target: RouteTarget
    /// Key `history`. Messages replayed to each new room member. Default: 0.
    public var history: Int
    /// Key `include_sender`. The sender receives its own message too. Default: true.
    public var includeSender: Bool
    /// Key `announce`. Text notices when members join and leave. Default: false.
    public var announce: Bool
    /// Key `origins`. Allowed `Origin` values; `"*"` admits any. Default: nil = same origin as `Host`
    /// (a request without `Origin` is admitted either way, except hixie-76).
    public var origins: [String]?
    /// Key `subprotocols`. Offered by the server, chosen per RFC 6455. Default: none.
    public var subprotocols: [String]
    /// Key `encoding`. `binary`, `base64` or `text`, for upstream routes. Default: `binary`.
    public var encoding: BridgeEncoding
    /// Key `connect_timeout_ms`. Milliseconds to connect upstream before answering 504. Default: 3,000.
    public var connectTimeoutMs: Int
    /// Key `auth`: who may connect. Default: anyone the Origin policy admits.
    public var auth: AuthConfiguration? = nil
    /// Key `compression` (`on`/`off`, or `true`/`false`). permessage-deflate when the client offers it. Default: on.
    public var compression: Bool = true
    /// Key `compression_window_bits`. 9–15: the largest window the gateway compresses with. Default: 12.
    public var compressionWindowBits: Int = 12
    /// Key `compression_min_bytes`. Messages shorter than this go out uncompressed. Default: 64.
    public var compressionMinBytes: Int = 64
    /// The global `limits` with this route's own limit keys applied on top.
    public var limits: LimitsConfiguration
    /// Key `max_connections` on the route itself: the cap on this route's connections. Default: nil = no cap
    /// beyond the global one.
    public var maxConnectionsOnRoute: Int?
    /// `tls://` and `wss://` upstreams: TLS to the upstream, with key `upstream_tls` (or its defaults).
    /// nil for every other target.
    public var upstreamTLS: UpstreamTLSConfiguration? = nil
    /// `upstream:` a list (a pool): every address, in the order written, all of one scheme; `target`
    /// is the first. Empty for a single upstream.
    public var upstreamPool: [RouteTarget] = []
    /// Key `proxy_protocol` (`tcp://`, `tls://`, `unix:` upstreams): the PROXY header sent first. Default: none.
    public var proxyProtocol: ProxyProtocolVersion? = nil
    /// Key `balance`: how a pool picks. Default: `round_robin`.
    public var balance: UpstreamBalance = .round_robin
    /// Key `fail_timeout_s`: how long a pool skips an address that refused or timed out. Default: 10.
    public var failTimeoutSeconds: Int = 10
    /// Where the route entry starts in the file, for messages about it.
    public var location: SourceLocation

    /// Creates a route; every optional setting defaults to the documented default.
    public init(
        path: String,
        isPrefix: Bool = false,
        target: RouteTarget,
        history: Int = 0,
        includeSender: Bool = true,
        announce: Bool = false,
        origins: [String]? = nil,
        subprotocols: [String] = [],
        encoding: BridgeEncoding = .binary,
        connectTimeoutMs: Int = 3000,
        limits: LimitsConfiguration = .defaults,
        maxConnectionsOnRoute: Int? = nil,
        location: SourceLocation
    ) {
        self.path = path
        self.isPrefix = isPrefix
        self.target = target
        self.history = history
        self.includeSender = includeSender
        self.announce = announce
        self.origins = origins
        self.subprotocols = subprotocols
        self.encoding = encoding
        self.connectTimeoutMs = connectTimeoutMs
        self.limits = limits
        self.maxConnectionsOnRoute = maxConnectionsOnRoute
        self.location = location
    }
}
