import Testing

@testable import WSGateConfig

@Suite struct ConfigurationReferenceTests {
    @Test func suggestionsComeFromTheKeyTableWithinEditDistanceTwo() {
        #expect(ConfigurationReference.suggestion(for: "romm", in: .route) == "room")
        #expect(ConfigurationReference.suggestion(for: "max_conections", in: .route) == "max_connections")
        #expect(ConfigurationReference.suggestion(for: "bnd", in: .listener) == "bind")
        #expect(ConfigurationReference.suggestion(for: "certificate", in: .tls) == nil)
        #expect(ConfigurationReference.editDistance("kitten", "sitting") == 3)
    }

    @Test func everyKeyAppearsOnceInItsSectionAndInTheMarkdown() {
        let markdown = ConfigurationReference.referenceMarkdown()
        var seen: Set<String> = []
        for key in ConfigurationReference.keys {
            #expect(seen.insert("\(key.section).\(key.name)").inserted)
            #expect(markdown.contains("| `\(key.name)`"))
        }
        #expect(markdown.contains("### `routes[]`"))
        #expect(markdown.contains("| `max_connections` *(route)* | an integer ≥ 1 | `10000` |"))
    }

    @Test func tableDefaultsMatchTheTypedDefaults() {
        let limits = LimitsConfiguration.defaults
        let expected: [String: Int] = [
            "max_connections": limits.maxConnections, "max_message_bytes": limits.maxMessageBytes,
            "handshake_timeout_ms": limits.handshakeTimeoutMs, "ping_interval_s": limits.pingIntervalSeconds,
            "idle_timeout_s": limits.idleTimeoutSeconds, "send_queue_bytes": limits.sendQueueBytes,
            "drain_timeout_s": WSGateConfiguration(listeners: []).drainTimeoutSeconds,
        ]
        for (name, value) in expected {
            #expect(ConfigurationReference.key(name, in: .limits)?.defaultValue == String(value))
        }
        let route = RouteConfiguration(path: "/", target: .echo, location: location(1, 1))
        #expect(ConfigurationReference.key("history", in: .route)?.defaultValue == String(route.history))
        #expect(ConfigurationReference.key("connect_timeout_ms", in: .route)?.defaultValue
                == String(route.connectTimeoutMs))
        #expect(ConfigurationReference.key("encoding", in: .route)?.defaultValue == route.encoding.rawValue)
        #expect(ConfigurationReference.key("log_level", in: .topLevel)?.defaultValue == LogLevel.info.rawValue)
    }
}
