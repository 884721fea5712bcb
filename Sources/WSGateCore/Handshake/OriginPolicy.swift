/// Decides whether a handshake's Origin is admitted (docs/SPEC.md "Fine print": Origin).
///
/// With an `origins:` list, a listed origin (or `"*"`) is admitted; without one, the origin must be
/// the same as the `Host` the request was sent to. A request with no Origin is admitted: browsers
/// always send one, other clients need not (hixie-76 requires one, which its handshake checks).
public enum OriginPolicy {
    /// Whether `origin` may open a WebSocket to `host` on a route with `allowed` origins.
    public static func admits(origin: String?, host: String?, isTLS: Bool, allowed: [String]?) -> Bool {
        guard let origin, !origin.isEmpty else { return true }
        if let allowed {
            if allowed.contains("*") { return true }
            let normalized = Self.normalize(origin: origin)
            return allowed.contains { Self.normalize(origin: $0) == normalized }
        }
        guard let host else { return false }
        guard let (scheme, authority) = Self.split(origin: origin) else { return false }
        let defaultPort = (scheme == "https" || scheme == "wss") ? "443" : "80"
        let hostDefault = isTLS ? "443" : "80"
        return Self.withPort(authority, default: defaultPort) == Self.withPort(host.lowercased(), default: hostDefault)
    }

    static func split(origin: String) -> (scheme: String, authority: String)? {
        let lower = origin.lowercased()
        guard let range = lower.range(of: "://") else { return nil }
        let scheme = String(lower[..<range.lowerBound])
        var authority = String(lower[range.upperBound...])
        if authority.hasSuffix("/") { authority.removeLast() }
        return (scheme, authority)
    }

    static func normalize(origin: String) -> String {
        guard let (scheme, authority) = Self.split(origin: origin) else { return origin.lowercased() }
        let defaultPort = (scheme == "https" || scheme == "wss") ? "443" : "80"
        return scheme + "://" + Self.withPort(authority, default: defaultPort)
    }

    static func withPort(_ authority: String, default port: String) -> String {
        if authority.hasPrefix("[") {  // IPv6 literal
            return authority.contains("]:") ? authority : authority + ":" + port
        }
        return authority.contains(":") ? authority : authority + ":" + port
    }
}
