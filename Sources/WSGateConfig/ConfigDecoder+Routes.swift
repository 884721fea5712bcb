import Foundation

/// Routes: path, exactly one target, and the per-route settings and limits.
extension ConfigDecoder {
    static let targetKeys = ["room", "upstream", "static", "echo", "targets"]

    mutating func decodeRoutes(_ entry: YAMLMappingEntry, limits: LimitsConfiguration) -> [RouteConfiguration] {
        var routes: [RouteConfiguration] = []
        var paths: [String: SourceLocation] = [:]
        for node in self.items(of: entry) ?? [] {
            guard let entries = self.entries(of: node, key: "routes", section: .route) else {
                continue
            }
            if let pathEntry = entries.first(where: { $0.key == "path" }),
                case .scalar(let path, _) = pathEntry.value.value
            {
                if let first = paths[path] {
                    self.report(.invalidValue(key: "path", reason: "duplicate route path '\(path)' "
                                              + "(first defined at line \(first.line))"), at: pathEntry.value.location)
                } else {
                    paths[path] = pathEntry.value.location
                }
            }
            if let route = self.decodeRoute(node, entries: entries, limits: limits) {
                routes.append(route)
            }
        }
        return routes
    }

    mutating func decodeRoute(_ node: YAMLNode, entries: [YAMLMappingEntry],
                              limits: LimitsConfiguration) -> RouteConfiguration? {
        let errorCount = self.errors.count
        var route = RouteConfiguration(path: "", target: .echo, limits: limits, location: node.location)
        if let pathEntry = entries.first(where: { $0.key == "path" }) {
            if let path = self.readRoutePath(pathEntry) {
                route.path = path.path
                route.isPrefix = path.isPrefix
            }
        } else {
            self.report(.missingKey("path", in: ConfigurationSection.route.displayName), at: node.location)
        }
        let targetEntries = entries.filter { Self.targetKeys.contains($0.key) }
        // `romm: lobby` already got "did you mean 'room'?"; saying the target is missing too would be noise.
        var misspeltTarget = false
        if case .mapping(let raw) = node.value {
            misspeltTarget = raw.contains { entry in
                ConfigurationReference.key(entry.key, in: .route) == nil
                    && ConfigurationReference.suggestion(for: entry.key, in: .route).map(Self.targetKeys.contains) == true
            }
        }
        if targetEntries.isEmpty && !misspeltTarget {
            self.report(.missingKey("room, upstream, static or echo", in: "route (a route needs exactly one target)"),
                        at: node.location)
        }
        for extra in targetEntries.dropFirst() {
            self.report(.invalidValue(key: extra.key, reason: "a route has exactly one target, and this one "
                                      + "already has '\(targetEntries[0].key)'"), at: extra.keyLocation)
        }
        if let targetEntry = targetEntries.first {
            if targetEntry.key == "upstream", case .sequence(let items) = targetEntry.value.value {
                if let pool = self.readUpstreamPool(items, entry: targetEntry) {
                    route.target = pool[0]
                    route.upstreamPool = pool
                }
            } else if let target = self.readTarget(targetEntry, isPrefix: route.isPrefix) {
                route.target = target
            }
            let firstURL: String?
            switch targetEntry.value.value {
            case .scalar(let text, _): firstURL = text
            case .sequence(let items): if case .scalar(let text, _) = items.first?.value { firstURL = text } else { firstURL = nil }
            default: firstURL = nil
            }
            if targetEntry.key == "upstream", let firstURL, firstURL.hasPrefix("tls://") || firstURL.hasPrefix("wss://") {
                route.upstreamTLS = UpstreamTLSConfiguration()
            }
        }
        var proxyProtocolEntry: YAMLMappingEntry? = nil
        for entry in entries {
            switch entry.key {
            case "history":
                route.history = self.readInteger(entry, section: .route) ?? route.history
            case "include_sender":
                route.includeSender = self.readBoolean(entry) ?? route.includeSender
            case "announce":
                route.announce = self.readBoolean(entry) ?? route.announce
            case "origins":
                route.origins = self.readStringList(entry)
            case "subprotocols":
                route.subprotocols = self.readStringList(entry) ?? []
            case "encoding":
                route.encoding = self.readChoice(entry, as: BridgeEncoding.self) ?? route.encoding
            case "connect_timeout_ms":
                route.connectTimeoutMs = self.readInteger(entry, section: .route) ?? route.connectTimeoutMs
            case "auth":
                route.auth = self.decodeAuth(entry)
            case "compression":
                route.compression = self.readBoolean(entry, allowsOnOff: true) ?? route.compression
            case "compression_window_bits":
                if let bits = self.readInteger(entry, section: .route) {
                    if bits > 15 {
                        self.report(.invalidValue(key: entry.key, reason: "window bits are 9 to 15 (zlib cannot do 8, RFC 7692 allows no more than 15)"),
                                    at: entry.value.location)
                    } else {
                        route.compressionWindowBits = bits
                    }
                }
            case "proxy_protocol":
                route.proxyProtocol = self.readChoice(entry, as: ProxyProtocolVersion.self) ?? route.proxyProtocol
                proxyProtocolEntry = entry
            case "balance":
                route.balance = self.readChoice(entry, as: UpstreamBalance.self) ?? route.balance
            case "fail_timeout_s":
                route.failTimeoutSeconds = self.readInteger(entry, section: .route) ?? route.failTimeoutSeconds
            case "upstream_tls":
                guard let tls = self.decodeUpstreamTLS(entry) else { break }
                if route.upstreamTLS == nil {
                    if targetEntries.first?.key == "upstream" {
                        self.report(.invalidValue(key: "upstream_tls", reason: "needs a tls:// or wss:// upstream"), at: entry.keyLocation)
                    } else if !targetEntries.isEmpty {
                        self.report(.invalidValue(key: "upstream_tls", reason: "applies to upstream routes only"), at: entry.keyLocation)
                    }
                } else {
                    route.upstreamTLS = tls
                }
            case "compression_min_bytes":
                route.compressionMinBytes = self.readInteger(entry, section: .route) ?? route.compressionMinBytes
            default:
                break
            }
        }
        if let proxyProtocolEntry, self.errors.count == errorCount || route.target != .echo {
            switch route.target {
            case .upstream, .unixUpstream: break
            default:
                self.report(.invalidValue(key: "proxy_protocol", reason: "applies to tcp://, tls:// and unix: upstreams only"),
                            at: proxyProtocolEntry.keyLocation)
            }
        }
        let overrides = self.applyLimits(entries, to: limits, section: .route)
        route.limits = overrides.limits
        route.maxConnectionsOnRoute = overrides.maxConnections
        return self.errors.count == errorCount ? route : nil
    }

    /// The path without a trailing `/*`, and whether it had one.
    mutating func readRoutePath(_ entry: YAMLMappingEntry) -> (path: String, isPrefix: Bool)? {
        guard let text = self.readString(entry) else {
            return nil
        }
        guard text.hasPrefix("/") else {
            self.report(.invalidValue(key: "path", reason: "a route path starts with '/', found '\(text)'"),
                        at: entry.value.location)
            return nil
        }
        let isPrefix = text.hasSuffix("/*")
        let path = isPrefix ? String(text.dropLast(2)) : text
        if path.contains("*") {
            self.report(.invalidValue(key: "path", reason: "'*' may only end a prefix path ('/x/*'), found '\(text)'"),
                        at: entry.value.location)
            return nil
        }
        if path.contains("?") || path.contains("#") || path.contains(" ") {
            self.report(.invalidValue(key: "path", reason: "a route path has no query, fragment or spaces, "
                                      + "found '\(text)'"), at: entry.value.location)
            return nil
        }
        return (path, isPrefix)
    }

    mutating func readTarget(_ entry: YAMLMappingEntry, isPrefix: Bool) -> RouteTarget? {
        switch entry.key {
        case "room":
            guard let room = self.readString(entry) else {
                return nil
            }
            if room == "*" && !isPrefix {
                self.report(.invalidValue(key: "room", reason: "room \"*\" takes its name from the path, so it "
                                          + "needs a prefix path ending in '/*'"), at: entry.value.location)
                return nil
            }
            return .room(room)
        case "upstream":
            guard let text = self.readString(entry) else {
                return nil
            }
            return self.readUpstreamURL(text, entry: entry, at: entry.value.location)
        case "targets":
            guard let file = self.readString(entry) else {
                return nil
            }
            let path = file.hasPrefix("/") ? file : self.baseDirectory + "/" + file
            guard FileManager.default.isReadableFile(atPath: path) else {
                self.report(.invalidValue(key: "targets", reason: "file '\(file)' cannot be read (relative to \(self.baseDirectory))"),
                            at: entry.value.location)
                return nil
            }
            return .namedTargets(file: file)
        case "static":
            guard let root = self.readString(entry) else {
                return nil
            }
            guard self.folderExists(root) else {
                self.report(.invalidValue(key: "static", reason: "folder '\(root)' does not exist "
                                          + "(relative to \(self.baseDirectory))"), at: entry.value.location)
                return nil
            }
            return .staticFiles(root: root)
        default:
            guard let isEcho = self.readBoolean(entry) else {
                return nil
            }
            guard isEcho else {
                self.report(.invalidValue(key: "echo", reason: "expected true (leave the key out instead of "
                                          + "writing false)"), at: entry.value.location)
                return nil
            }
            return .echo
        }
    }

    /// `upstream_tls: { ca, server_name, verify }`; the CA file must be readable.
    mutating func decodeUpstreamTLS(_ tlsEntry: YAMLMappingEntry) -> UpstreamTLSConfiguration? {
        guard let entries = self.entries(of: tlsEntry.value, key: "upstream_tls", section: .upstreamTLS) else {
            return nil
        }
        var tls = UpstreamTLSConfiguration()
        let errorCount = self.errors.count
        for entry in entries {
            switch entry.key {
            case "ca":
                guard let path = self.readString(entry) else { break }
                let fullPath = path.hasPrefix("/") ? path : self.baseDirectory + "/" + path
                if FileManager.default.isReadableFile(atPath: fullPath) {
                    tls.caPath = path
                } else {
                    self.report(.invalidValue(key: "ca", reason: "file '\(path)' is not readable (relative to \(self.baseDirectory))"),
                                at: entry.value.location)
                }
            case "server_name":
                tls.serverName = self.readString(entry)
            case "verify":
                tls.verify = self.readBoolean(entry) ?? tls.verify
            default:
                break
            }
        }
        return self.errors.count == errorCount ? tls : nil
    }

    /// One upstream URL: `tcp://` or `tls://host:port`, `ws://` or `wss://host[:port][/path]`.
    mutating func readUpstreamURL(_ text: String, entry: YAMLMappingEntry, at location: SourceLocation) -> RouteTarget? {
        if text.hasPrefix("ws://") {
            return self.readWebSocketUpstream(String(text.dropFirst("ws://".count)), defaultPort: 80, at: location)
        }
        if text.hasPrefix("wss://") {
            return self.readWebSocketUpstream(String(text.dropFirst("wss://".count)), defaultPort: 443, at: location)
        }
        if text.hasPrefix("unix:") {
            var path = String(text.dropFirst("unix:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }  // unix:///run/x.sock as well as unix:/run/x.sock
            guard !path.isEmpty, !path.contains("\0"), path.utf8.count < 108 else {
                self.report(.invalidValue(key: "upstream", reason: "expected unix:/path/to.sock (at most 107 bytes), found '\(text)'"), at: location)
                return nil
            }
            return .unixUpstream(path: path)
        }
        guard let scheme = ["tcp://", "tls://"].first(where: { text.hasPrefix($0) }) else {
            self.report(.invalidValue(key: "upstream", reason: "expected tcp://host:port, tls://host:port, ws://host:port/path, "
                                      + "wss://host:port/path or unix:/path, found '\(text)'"),
                        at: location)
            return nil
        }
        switch HostPort.parse(String(text.dropFirst(scheme.count)), minimumPort: 1) {
        case .success(let address):
            return .upstream(host: address.host, port: address.port)
        case .failure(let error):
            self.report(.invalidValue(key: "upstream", reason: error.reason), at: location)
            return nil
        }
    }

    /// `upstream:` a list: a pool of at least one address, every one of the first one's scheme.
    mutating func readUpstreamPool(_ items: [YAMLNode], entry: YAMLMappingEntry) -> [RouteTarget]? {
        guard !items.isEmpty else {
            self.report(.invalidValue(key: "upstream", reason: "a pool needs at least one address"), at: entry.value.location)
            return nil
        }
        var pool: [RouteTarget] = []
        var firstScheme: String?
        let errorCount = self.errors.count
        for item in items {
            guard case .scalar(let text, _) = item.value else {
                self.report(.wrongType(key: "upstream", expected: "a URL string", found: item.foundDescription), at: item.location)
                continue
            }
            let scheme = text.split(separator: ":", maxSplits: 1).first.map(String.init) ?? text
            if let firstScheme, scheme != firstScheme {
                self.report(.invalidValue(key: "upstream", reason: "a pool has one scheme, and this one is \(firstScheme):, found '\(text)'"),
                            at: item.location)
                continue
            }
            firstScheme = firstScheme ?? scheme
            if let target = self.readUpstreamURL(text, entry: entry, at: item.location) { pool.append(target) }
        }
        return self.errors.count == errorCount ? pool : nil
    }

    /// The scheme is stripped: `host[:port][/path]`, the port `defaultPort` when absent, the path `/`.
    mutating func readWebSocketUpstream(_ rest: String, defaultPort: Int, at location: SourceLocation) -> RouteTarget? {
        let authority: String
        let path: String
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
            authority = String(rest[..<slash])
            path = rest[slash] == "/" ? String(rest[slash...]) : "/" + rest[slash...]
        } else {
            authority = rest
            path = "/"
        }
        if path.contains(where: { $0 == " " || $0 == "#" || !$0.isASCII || $0.asciiValue.map { $0 < 0x21 } ?? true }) {
            self.report(.invalidValue(key: "upstream", reason: "the path of a WebSocket upstream must be ASCII without spaces or '#', found '\(path)'"),
                        at: location)
            return nil
        }
        let hasPort = authority.hasPrefix("[") ? authority.contains("]:") : authority.contains(":")
        switch HostPort.parse(hasPort ? authority : authority + ":\(defaultPort)", minimumPort: 1) {
        case .success(let address):
            return .webSocketUpstream(host: address.host, port: address.port, path: path)
        case .failure(let error):
            self.report(.invalidValue(key: "upstream", reason: error.reason), at: location)
            return nil
        }
    }
}
