import Foundation
import WSGateRedis

/// The top level, listeners, TLS, admin and limits.
extension ConfigDecoder {
    mutating func decodeConfiguration(_ root: YAMLNode) -> WSGateConfiguration? {
        if case .null = root.value {
            self.report(.missingKey("listeners", in: ConfigurationSection.topLevel.displayName), at: root.location)
            return nil
        }
        guard let entries = self.entries(of: root, key: "configuration", section: .topLevel) else {
            return nil
        }
        var configuration = WSGateConfiguration(listeners: [])
        // Routes start from the global limits, wherever `limits:` sits in the file.
        if let limitsEntry = entries.first(where: { $0.key == "limits" }) {
            if let limitEntries = self.entries(of: limitsEntry.value, key: "limits", section: .limits) {
                configuration.limits = self.applyLimits(limitEntries, to: .defaults, section: .limits).limits
                for entry in limitEntries where entry.key == "drain_timeout_s" {
                    configuration.drainTimeoutSeconds =
                        self.readInteger(entry, section: .limits) ?? configuration.drainTimeoutSeconds
                }
            }
        }
        var boundAddresses: [String: SourceLocation] = [:]
        for entry in entries {
            switch entry.key {
            case "listeners":
                let items = self.items(of: entry) ?? []
                configuration.listeners = items.compactMap { self.decodeListener($0, bound: &boundAddresses) }
                if items.isEmpty {
                    self.report(.invalidValue(key: "listeners", reason: "at least one listener is required"),
                                at: entry.keyLocation)
                }
            case "admin":
                guard let adminEntries = self.entries(of: entry.value, key: "admin", section: .admin) else {
                    continue
                }
                if let bind = adminEntries.first(where: { $0.key == "bind" }) {
                    if let address = self.readHostPort(bind) {
                        self.checkUnique(address, bind, bound: &boundAddresses)
                        configuration.admin = AdminConfiguration(host: address.host, port: address.port)
                    }
                } else {
                    self.report(.missingKey("bind", in: "admin"), at: entry.value.location)
                }
            case "routes":
                configuration.routes = self.decodeRoutes(entry, limits: configuration.limits)
            case "log_level":
                configuration.logLevel = self.readChoice(entry, as: LogLevel.self) ?? configuration.logLevel
            case "trusted_proxies":
                configuration.trustedProxies = self.readCIDRList(entry) ?? []
            case "log_format":
                configuration.logFormat = self.readChoice(entry, as: LogFormat.self) ?? configuration.logFormat
            case "cluster":
                configuration.cluster = self.decodeCluster(entry)
            default:
                break  // `limits` was read first; unknown keys were reported by `entries(of:)`.
            }
        }
        if !entries.contains(where: { $0.key == "listeners" }) {
            self.report(.missingKey("listeners", in: ConfigurationSection.topLevel.displayName), at: root.location)
        }
        if let cluster = configuration.cluster, let entry = entries.first(where: { $0.key == "cluster" }) {
            let largest = configuration.routes.map(\.history).max() ?? 0
            if largest > cluster.streamLength {
                self.report(.invalidValue(key: "stream_length", reason: "\(cluster.streamLength) is less than the largest "
                                          + "route history (\(largest))"), at: entry.value.location)
            }
        }
        return configuration
    }

    /// The `cluster` mapping: a Redis URL (required) and the limits of the cluster rooms.
    mutating func decodeCluster(_ clusterEntry: YAMLMappingEntry) -> ClusterConfiguration? {
        guard let entries = self.entries(of: clusterEntry.value, key: "cluster", section: .cluster) else {
            return nil
        }
        var url: RedisURL? = nil
        var cluster = ClusterConfiguration(redis: RedisURL(host: "127.0.0.1"))
        var isValid = true
        for entry in entries {
            switch entry.key {
            case "redis":
                guard let text = self.readString(entry) else {
                    isValid = false
                    continue
                }
                do {
                    url = try RedisURL(text)
                } catch {
                    self.report(.invalidValue(key: "redis", reason: error.description), at: entry.value.location)
                    isValid = false
                }
            case "prefix":
                if let prefix = self.readString(entry) {
                    if prefix.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }) {
                        self.report(.invalidValue(key: "prefix", reason: "a prefix has no white space"), at: entry.value.location)
                        isValid = false
                    } else {
                        cluster.prefix = prefix
                    }
                } else {
                    isValid = false
                }
            case "outage_queue":
                cluster.outageQueue = self.readInteger(entry, section: .cluster) ?? cluster.outageQueue
            case "stream_length":
                cluster.streamLength = self.readInteger(entry, section: .cluster) ?? cluster.streamLength
            case "tls_ca":
                guard let path = self.readString(entry) else {
                    isValid = false
                    continue
                }
                let resolved = path.hasPrefix("/") ? path : self.baseDirectory + "/" + path
                if FileManager.default.isReadableFile(atPath: resolved) {
                    cluster.tlsCAPath = path
                } else {
                    self.report(.invalidValue(key: "tls_ca", reason: "cannot read '\(path)' (relative to \(self.baseDirectory))"), at: entry.value.location)
                    isValid = false
                }
            default:
                break
            }
        }
        if !entries.contains(where: { $0.key == "redis" }) {
            self.report(.missingKey("redis", in: ConfigurationSection.cluster.displayName), at: clusterEntry.value.location)
        }
        guard isValid, let url else {
            return nil
        }
        cluster.redis = url
        return cluster
    }

    /// Reports a second listener (or the admin listener) on an address already bound; port 0 may repeat.
    mutating func checkUnique(_ address: (host: String, port: Int), _ entry: YAMLMappingEntry,
                              bound: inout [String: SourceLocation]) {
        guard address.port != 0 else {
            return
        }
        let key = "\(address.host):\(address.port)"
        if let first = bound[key] {
            self.report(.invalidValue(key: entry.key, reason: "address \(key) is already bound at line \(first.line)"),
                        at: entry.value.location)
        } else {
            bound[key] = entry.value.location
        }
    }

    mutating func decodeListener(_ node: YAMLNode, bound: inout [String: SourceLocation]) -> ListenerConfiguration? {
        guard let entries = self.entries(of: node, key: "listeners", section: .listener) else {
            return nil
        }
        var address: (host: String, port: Int)? = nil
        var tls: TLSListenerConfiguration? = nil
        var proxyProtocol = false
        var isValid = true
        for entry in entries {
            switch entry.key {
            case "bind":
                address = self.readHostPort(entry)
                if let address {
                    self.checkUnique(address, entry, bound: &bound)
                }
                isValid = isValid && address != nil
            case "tls":
                tls = self.decodeTLS(entry)
                isValid = isValid && tls != nil
            case "proxy_protocol":
                proxyProtocol = self.readBoolean(entry) ?? false
            default:
                break
            }
        }
        if !entries.contains(where: { $0.key == "bind" }) {
            self.report(.missingKey("bind", in: ConfigurationSection.listener.displayName), at: node.location)
        }
        guard isValid, let address else {
            return nil
        }
        var listener = ListenerConfiguration(host: address.host, port: address.port, tls: tls, location: node.location)
        listener.proxyProtocol = proxyProtocol
        return listener
    }

    mutating func decodeTLS(_ tlsEntry: YAMLMappingEntry) -> TLSListenerConfiguration? {
        guard let entries = self.entries(of: tlsEntry.value, key: "tls", section: .tls) else {
            return nil
        }
        let files = self.decodeCertificatePair(entries, section: .tls, at: tlsEntry.value.location)
        var plain = PlainPolicy.reject
        var sni: [SNIConfiguration] = []
        for entry in entries {
            if entry.key == "plain" {
                plain = self.readChoice(entry, as: PlainPolicy.self) ?? plain
            } else if entry.key == "sni" {
                sni = (self.items(of: entry) ?? []).compactMap { self.decodeSNI($0) }
            }
        }
        guard let files else {
            return nil
        }
        return TLSListenerConfiguration(certificatePath: files.cert, keyPath: files.key, plain: plain, sni: sni)
    }

    mutating func decodeSNI(_ node: YAMLNode) -> SNIConfiguration? {
        guard let entries = self.entries(of: node, key: "sni", section: .sni) else {
            return nil
        }
        let files = self.decodeCertificatePair(entries, section: .sni, at: node.location)
        var name: String? = nil
        if let nameEntry = entries.first(where: { $0.key == "name" }) {
            name = self.readString(nameEntry)
        } else {
            self.report(.missingKey("name", in: ConfigurationSection.sni.displayName), at: node.location)
        }
        guard let files, let name else {
            return nil
        }
        return SNIConfiguration(name: name, certificatePath: files.cert, keyPath: files.key)
    }

    /// The required `cert` and `key` of a TLS or SNI mapping.
    mutating func decodeCertificatePair(_ entries: [YAMLMappingEntry], section: ConfigurationSection,
                                        at location: SourceLocation) -> (cert: String, key: String)? {
        var values: [String: String] = [:]
        var isComplete = true
        for name in ["cert", "key"] {
            if let entry = entries.first(where: { $0.key == name }) {
                values[name] = self.readString(entry)
                isComplete = isComplete && values[name] != nil
            } else {
                self.report(.missingKey(name, in: section.displayName), at: location)
                isComplete = false
            }
        }
        guard isComplete, let cert = values["cert"], let key = values["key"] else {
            return nil
        }
        return (cert, key)
    }

    /// Applies the limit keys among `entries` to `limits`; returns the result and whether `max_connections` was set.
    mutating func applyLimits(_ entries: [YAMLMappingEntry], to limits: LimitsConfiguration,
                              section: ConfigurationSection) -> (limits: LimitsConfiguration, maxConnections: Int?) {
        var result = limits
        var maxConnections: Int? = nil
        for entry in entries {
            let keyPath: WritableKeyPath<LimitsConfiguration, Int>
            switch entry.key {
            case "max_connections": keyPath = \.maxConnections
            case "max_message_bytes": keyPath = \.maxMessageBytes
            case "handshake_timeout_ms": keyPath = \.handshakeTimeoutMs
            case "ping_interval_s": keyPath = \.pingIntervalSeconds
            case "idle_timeout_s": keyPath = \.idleTimeoutSeconds
            case "send_queue_bytes": keyPath = \.sendQueueBytes
            case "max_connections_per_ip": keyPath = \.maxConnectionsPerIP
            case "handshakes_per_ip_per_s": keyPath = \.handshakesPerIPPerSecond
            case "messages_per_s": keyPath = \.messagesPerSecond
            default: continue
            }
            guard let value = self.readInteger(entry, section: section) else {
                continue
            }
            result[keyPath: keyPath] = value
            if entry.key == "max_connections" {
                maxConnections = value
            }
        }
        return (result, maxConnections)
    }
}
