import Logging
import NIOCore

/// What the gateway knows of one accepted connection before it is routed.
struct ConnectionInfo {
    /// The configuration the connection was accepted under.
    let runtime: GatewayRuntime
    /// Whether it arrived over TLS.
    var isTLS: Bool
    /// The peer's address, for logs.
    let peer: String
    /// A logger with `wsgate.peer` metadata.
    var logger: Logger
}
