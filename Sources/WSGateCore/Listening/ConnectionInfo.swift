import Logging
import NIOCore

/// What the gateway knows of one accepted connection before it is routed.
struct ConnectionInfo {
    /// The configuration the connection was accepted under.
    let runtime: GatewayRuntime
    /// Whether it arrived over TLS.
    var isTLS: Bool
    /// The client's address, for logs and per-client limits: the socket's peer, or the address a
    /// trusted proxy gave (PROXY header, `X-Forwarded-For`).
    var peer: String
    /// The socket peer's IP address (what `trusted_proxies` is checked against).
    var peerIP: String
    /// The gateway's logger (shared: no per-connection metadata, which would cost every idle
    /// connection a dictionary); lines about the connection add `wsgate.peer` themselves.
    var logger: Logger
    /// The connection's counters, released when it closes.
    let accounting: ConnectionAccounting
    /// When it was accepted: the handshake must be complete `handshake_timeout_ms` after this,
    /// however many stages (TLS sniffing, TLS, the request head) it goes through.
    let acceptedAt: NIODeadline
    /// The client's port (0 when unknown: an `X-Forwarded-For` address has none), and the address and port it connected to: the PROXY
    /// header to upstreams names them.
    var clientPort: Int = 0
    var localAddress: String = ""
    var localPort: Int = 0
}
