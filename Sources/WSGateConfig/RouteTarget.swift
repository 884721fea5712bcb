/// Where a route sends its connections: exactly one of `room`, `upstream`, `static` or `echo`.
public enum RouteTarget: Sendable, Equatable {
    /// Key `room`: a broadcast hub. `"*"` (prefix routes only) names the room after the path segment
    /// that follows the prefix: `/rooms/*` sends `/rooms/a` to room `a`.
    case room(String)
    /// Key `upstream: tcp://host:port`: one TCP connection per WebSocket client. IPv6 hosts are
    /// given without brackets. Port 1–65535.
    case upstream(host: String, port: Int)
    /// Key `upstream: ws://host[:port][/path]`: an RFC 6455 backend, one WebSocket connection per
    /// client, messages relayed and translated between dialects. The port defaults to 80 and the
    /// path (with its query) to `/`.
    case webSocketUpstream(host: String, port: Int, path: String)
    /// Key `upstream: unix:/path/to.sock`: one Unix-domain stream connection per client, a byte
    /// stream like `tcp://` (relative paths resolve against the working directory).
    case unixUpstream(path: String)
    /// Key `static`: a folder of files for plain HTTP GET/HEAD, as written in the file
    /// (relative paths resolve against the working directory).
    case staticFiles(root: String)
    /// Key `echo: true`: every message straight back to its sender.
    case echo
    /// Key `targets: FILE`: named TCP upstreams; the client's token or the auth server names one.
    case namedTargets(file: String)

    /// Whether connections go to a byte-stream upstream (`tcp://`, `tls://`, `unix:`): a bridge.
    public var isByteStreamUpstream: Bool {
        switch self {
        case .upstream, .unixUpstream, .namedTargets: return true
        case .webSocketUpstream, .room, .staticFiles, .echo: return false
        }
    }

    /// Whether connections go to an upstream (TCP or WebSocket).
    public var isUpstream: Bool {
        switch self {
        case .upstream, .webSocketUpstream, .unixUpstream, .namedTargets: return true
        case .room, .staticFiles, .echo: return false
        }
    }
}
