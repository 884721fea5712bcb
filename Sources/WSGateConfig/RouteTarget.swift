/// Where a route sends its connections: exactly one of `room`, `upstream`, `static` or `echo`.
public enum RouteTarget: Sendable, Equatable {
    /// Key `room`: a broadcast hub. `"*"` (prefix routes only) names the room after the path segment
    /// that follows the prefix: `/rooms/*` sends `/rooms/a` to room `a`.
    case room(String)
    /// Key `upstream: tcp://host:port`: one TCP connection per WebSocket client. IPv6 hosts are
    /// given without brackets. Port 1–65535.
    case upstream(host: String, port: Int)
    /// Key `static`: a folder of files for plain HTTP GET/HEAD, as written in the file
    /// (relative paths resolve against the working directory).
    case staticFiles(root: String)
    /// Key `echo: true`: every message straight back to its sender.
    case echo
    /// Key `targets: FILE`: named TCP upstreams; the client's token or the auth server names one.
    case namedTargets(file: String)
}
