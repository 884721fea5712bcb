import WSGateConfig

/// The frozen route table of one configuration: exact paths, then the longest prefix.
///
/// Built once per configuration (start or reload) and shared, immutable, by every connection that
/// started under it. An exact path beats a prefix; the longest prefix wins; no match is `nil` (404).
public struct RouteTable: Sendable {
    /// A match: the route, and for `room: "*"` prefix routes the room named by the rest of the path.
    public struct Match: Sendable {
        /// The matched route.
        public var route: RouteConfiguration
        /// The path below a prefix route (for `static` routes: the file path; for `room: "*"`: the room).
        public var remainder: String
    }

    private let exact: [String: RouteConfiguration]
    private let prefixes: [RouteConfiguration]  // longest path first

    public init(routes: [RouteConfiguration]) {
        var exact: [String: RouteConfiguration] = [:]
        var prefixes: [RouteConfiguration] = []
        for route in routes {
            // A static route serves its path and everything below it, so it acts as a prefix.
            var isStatic = false
            if case .staticFiles = route.target { isStatic = true }
            if route.isPrefix || isStatic { prefixes.append(route) } else { exact[route.path] = route }
        }
        self.exact = exact
        self.prefixes = prefixes.sorted { $0.path.count > $1.path.count }
    }

    /// The route for a request path (query string already removed).
    public func match(path: String) -> Match? {
        if let route = self.exact[path] { return Match(route: route, remainder: "") }
        for route in self.prefixes {
            let base = route.path.hasSuffix("/") ? String(route.path.dropLast()) : route.path
            if path == base {
                if case .room = route.target { continue }  // `/rooms/*` needs a room name
                return Match(route: route, remainder: "")
            }
            if path.hasPrefix(base + "/") {
                let remainder = String(path.dropFirst(base.count + 1))
                if case .room(let name) = route.target, name == "*",
                    remainder.isEmpty || remainder.contains("/")
                {
                    continue
                }
                return Match(route: route, remainder: remainder)
            }
        }
        return nil
    }
}

extension RouteTable.Match {
    /// The room this match joins, if its route is a room route.
    public var roomName: String? {
        guard case .room(let name) = self.route.target else { return nil }
        return name == "*" ? self.remainder : name
    }
}
