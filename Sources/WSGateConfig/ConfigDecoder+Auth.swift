import Foundation

/// Who may connect: a route's `auth` mapping, and the CIDR lists of `trusted_proxies`.
extension ConfigDecoder {
    mutating func decodeAuth(_ entry: YAMLMappingEntry) -> AuthConfiguration? {
        guard let entries = self.entries(of: entry.value, key: "auth", section: .auth) else { return nil }
        var auth = AuthConfiguration()
        var timeoutMs = 2000
        for item in entries where item.key == "timeout_ms" {
            timeoutMs = self.readInteger(item, section: .auth) ?? timeoutMs
        }
        for item in entries {
            switch item.key {
            case "jwt":
                auth.jwt = self.decodeJWT(item)
            case "request":
                guard let text = self.readString(item) else { continue }
                guard let request = Self.parseHTTPURL(text) else {
                    self.report(.invalidValue(key: "request", reason: "expected http://host[:port]/path, found '\(text)'"),
                                at: item.value.location)
                    continue
                }
                auth.request = AuthRequestConfiguration(host: request.host, port: request.port, path: request.path, timeoutMs: timeoutMs)
            default:
                break
            }
        }
        if auth.jwt == nil && auth.request == nil {
            if !entries.contains(where: { $0.key == "jwt" || $0.key == "request" }) {
                self.report(.missingKey("jwt or request", in: ConfigurationSection.auth.displayName), at: entry.value.location)
            }
            return nil
        }
        return auth
    }

    mutating func decodeJWT(_ entry: YAMLMappingEntry) -> JWTConfiguration? {
        guard let entries = self.entries(of: entry.value, key: "jwt", section: .jwt) else { return nil }
        var algorithms: [String]? = nil
        var key: String? = nil
        var jwt = JWTConfiguration(algorithms: [], keyPath: "")
        for item in entries {
            switch item.key {
            case "algorithms":
                guard let list = self.readStringList(item) else { continue }
                for name in list where !JWTConfiguration.knownAlgorithms.contains(name) {
                    let reason = name.lowercased() == "none"
                        ? "'none' is never accepted (an unsigned token proves nothing)"
                        : "unknown algorithm '\(name)' (expected \(JWTConfiguration.knownAlgorithms.joined(separator: ", ")))"
                    self.report(.invalidValue(key: "algorithms", reason: reason), at: item.value.location)
                }
                if list.isEmpty { self.report(.invalidValue(key: "algorithms", reason: "pin at least one algorithm"), at: item.value.location) }
                algorithms = list
            case "key":
                guard let path = self.readString(item) else { continue }
                let full = path.hasPrefix("/") ? path : self.baseDirectory + "/" + path
                if !FileManager.default.isReadableFile(atPath: full) {
                    self.report(.invalidValue(key: "key", reason: "file '\(path)' cannot be read (relative to \(self.baseDirectory))"),
                                at: item.value.location)
                }
                key = path
            case "issuer":
                jwt.issuer = self.readString(item)
            case "audience":
                jwt.audience = self.readString(item)
            case "leeway_s":
                jwt.leewaySeconds = self.readInteger(item, section: .jwt) ?? jwt.leewaySeconds
            default:
                break
            }
        }
        if algorithms == nil { self.report(.missingKey("algorithms", in: ConfigurationSection.jwt.displayName), at: entry.value.location) }
        if key == nil { self.report(.missingKey("key", in: ConfigurationSection.jwt.displayName), at: entry.value.location) }
        guard let algorithms, let key else { return nil }
        jwt.algorithms = algorithms
        jwt.keyPath = key
        return jwt
    }

    /// `trusted_proxies`: each entry an IPv4 or IPv6 network, `address/prefix` (a bare address is /32 or /128).
    mutating func readCIDRList(_ entry: YAMLMappingEntry) -> [String]? {
        guard let list = self.readStringList(entry) else { return nil }
        for text in list where !Self.isCIDR(text) {
            self.report(.invalidValue(key: entry.key, reason: "'\(text)' is not an address/prefix network (e.g. 10.0.0.0/8, ::1/128)"),
                        at: entry.value.location)
        }
        return list
    }

    static func isCIDR(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = parts.first else { return false }
        var v4 = in_addr()
        var v6 = in6_addr()
        let isV4 = inet_pton(AF_INET, String(address), &v4) == 1
        let isV6 = !isV4 && inet_pton(AF_INET6, String(address), &v6) == 1
        guard isV4 || isV6 else { return false }
        guard parts.count == 2 else { return true }
        guard let prefix = Int(parts[1]) else { return false }
        return prefix >= 0 && prefix <= (isV4 ? 32 : 128)
    }

    /// `http://host[:port]/path`.
    static func parseHTTPURL(_ text: String) -> (host: String, port: Int, path: String)? {
        guard text.hasPrefix("http://") else { return nil }
        let rest = text.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard !authority.isEmpty else { return nil }
        if authority.contains(":") {
            guard case .success(let address) = HostPort.parse(authority, minimumPort: 1) else { return nil }
            return (address.host, address.port, path)
        }
        return (authority, 80, path)
    }
}
