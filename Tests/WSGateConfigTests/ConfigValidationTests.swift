import Foundation
import Testing

@testable import WSGateConfig

@Suite struct ConfigValidationTests {
    @Test func anUnknownKeyNamesTheSectionAndSuggestsTheClosestKey() {
        #expect(errorLines(configuration(route: "    romm: lobby\n")) == [
            "test.yaml:5:5: unknown key 'romm' in route (did you mean 'room'?)"
        ])
        #expect(errorLines("listeners:\n  - bind: 1.2.3.4:1\nlimit: {}\nzzz: 1\n") == [
            "test.yaml:3:1: unknown key 'limit' in configuration (did you mean 'limits'?)",
            "test.yaml:4:1: unknown key 'zzz' in configuration",
        ])
    }

    @Test func wrongTypesSayWhatWasExpectedAndWhatWasFound() {
        let text = configuration(route: """
                room: lobby
                history: abc
                include_sender: yes
                origins: { a: 1 }
                encoding: hex
                max_message_bytes: "10"

            """)
        #expect(errorLines(text) == [
            "test.yaml:6:14: wrong type for 'history': expected an integer, found 'abc'",
            "test.yaml:7:21: wrong type for 'include_sender': expected true or false, found 'yes'",
            "test.yaml:8:14: wrong type for 'origins': expected a list of strings, found a mapping",
            "test.yaml:9:15: wrong type for 'encoding': expected one of binary, base64, text, found 'hex'",
            "test.yaml:10:24: wrong type for 'max_message_bytes': expected an integer, found the quoted string '10'",
        ])
    }

    @Test func negativeAndZeroLimitsAreRefusedWhereTheyMakeNoSense() {
        let text = "listeners: [{ bind: 1.2.3.4:1 }]\nlimits:\n  ping_interval_s: -1\n  max_message_bytes: 0\n"
        #expect(errorLines(text) == [
            "test.yaml:3:20: invalid value for 'ping_interval_s': must not be negative, found -1",
            "test.yaml:4:22: invalid value for 'max_message_bytes': must be at least 1, found 0",
        ])
    }

    @Test func aRouteNeedsExactlyOneTarget() {
        #expect(errorLines(configuration(route: "    history: 1\n")) == [
            "test.yaml:4:5: missing key 'room, upstream, static or echo' in route (a route needs exactly one target)"
        ])
        #expect(errorLines(configuration(route: "    room: a\n    echo: true\n")) == [
            "test.yaml:6:5: invalid value for 'echo': a route has exactly one target, and this one already has 'room'"
        ])
    }

    @Test func webSocketUpstreamsTakeAHostAnOptionalPortAndAPath() throws {
        let text = """
        listeners:
          - bind: 127.0.0.1:0
        routes:
          - { path: /a, upstream: "ws://127.0.0.1:9000/feed?v=2" }
          - { path: /b, upstream: "ws://backend.internal" }
          - { path: /c, upstream: "ws://[::1]:9001" }
        """
        let routes = try parse(text).routes
        #expect(routes[0].target == .webSocketUpstream(host: "127.0.0.1", port: 9000, path: "/feed?v=2"))
        #expect(routes[1].target == .webSocketUpstream(host: "backend.internal", port: 80, path: "/"))
        #expect(routes[2].target == .webSocketUpstream(host: "::1", port: 9001, path: "/"))
        #expect(errorLines("""
        listeners:
          - bind: 127.0.0.1:0
        routes:
          - { path: /a, upstream: "ws://h:0/x" }
          - { path: /b, upstream: "ws://h:1/a b" }
          - { path: /c, upstream: "ws://::1:80/" }
        """) == [
            "test.yaml:4:27: invalid value for 'upstream': port 0 is out of range 1–65535",
            "test.yaml:5:27: invalid value for 'upstream': the path of a WebSocket upstream must be ASCII without spaces or '#', found '/a b'",
            "test.yaml:6:27: invalid value for 'upstream': an IPv6 address needs brackets, e.g. [::1]:8080, found '::1:80'",
        ])
    }

    @Test func upstreamTLSGoesWithTLSUpstreamsOnly() throws {
        try "not checked here: OpenSSL reads it\n".write(toFile: fixtureDirectory + "/ca.pem", atomically: true, encoding: .utf8)
        let routes = try parse("""
        listeners:
          - bind: 127.0.0.1:0
        routes:
          - { path: /a, upstream: "wss://localhost/feed", upstream_tls: { ca: ca.pem, server_name: feed.internal } }
          - { path: /b, upstream: "tls://127.0.0.1:7001" }
          - { path: /c, upstream: "tls://127.0.0.1:7002", upstream_tls: { verify: false } }
          - { path: /d, upstream: "tcp://127.0.0.1:7003" }
        """).routes
        #expect(routes[0].target == .webSocketUpstream(host: "localhost", port: 443, path: "/feed"))
        #expect(routes[0].upstreamTLS == UpstreamTLSConfiguration(caPath: "ca.pem", serverName: "feed.internal"))
        #expect(routes[1].target == .upstream(host: "127.0.0.1", port: 7001))
        #expect(routes[1].upstreamTLS == UpstreamTLSConfiguration())
        #expect(routes[2].upstreamTLS == UpstreamTLSConfiguration(verify: false))
        #expect(routes[3].upstreamTLS == nil)
        #expect(errorLines("""
        listeners:
          - bind: 127.0.0.1:0
        routes:
          - { path: /a, upstream: "tcp://h:1", upstream_tls: { verify: false } }
          - { path: /b, upstream: "tls://h:1", upstream_tls: { ca: no/such.pem } }
          - { path: /c, upstream: "tls://h:1", upstream_tls: { cs: x } }
          - { path: /d, echo: true, upstream_tls: { verify: false } }
        """) == [
            "test.yaml:4:40: invalid value for 'upstream_tls': needs a tls:// or wss:// upstream",
            "test.yaml:5:60: invalid value for 'ca': file 'no/such.pem' is not readable (relative to \(fixtureDirectory))",
            "test.yaml:6:56: unknown key 'cs' in upstream_tls (did you mean 'ca'?)",
            "test.yaml:7:29: invalid value for 'upstream_tls': applies to upstream routes only",
        ])
    }

    @Test func aPoolIsAListOfOneScheme() throws {
        let route = try parse("""
        listeners:
          - bind: 127.0.0.1:0
        routes:
          - path: /telnet
            upstream: [tcp://127.0.0.1:2323, "tcp://[::1]:2324"]
            balance: least_connections
            fail_timeout_s: 3
        """).routes[0]
        #expect(route.target == .upstream(host: "127.0.0.1", port: 2323))
        #expect(route.upstreamPool == [.upstream(host: "127.0.0.1", port: 2323), .upstream(host: "::1", port: 2324)])
        #expect(route.balance == .least_connections)
        #expect(route.failTimeoutSeconds == 3)
        #expect(errorLines("""
        listeners:
          - bind: 127.0.0.1:0
        routes:
          - { path: /a, upstream: [tcp://h:1, ws://h:2/x] }
          - { path: /b, upstream: [tcp://h:1, tcp://h:0] }
          - { path: /c, upstream: [tcp://h:1], balance: random }
        """) == [
            "test.yaml:4:39: invalid value for 'upstream': a pool has one scheme, and this one is tcp:, found 'ws://h:2/x'",
            "test.yaml:5:39: invalid value for 'upstream': port 0 is out of range 1–65535",
            "test.yaml:6:49: wrong type for 'balance': expected one of round_robin, least_connections, found 'random'",
        ])
    }

    @Test func unixUpstreamsAndProxyProtocol() throws {
        let routes = try parse("""
        listeners:
          - bind: "[::1]:0"
        routes:
          - { path: /a, upstream: "unix:/run/legacy.sock", proxy_protocol: v2 }
          - { path: /b, upstream: "tls://[::1]:7000", proxy_protocol: v1 }
        """).routes
        #expect(routes[0].target == .unixUpstream(path: "/run/legacy.sock"))
        #expect(routes[0].proxyProtocol == .v2)
        #expect(routes[1].target == .upstream(host: "::1", port: 7000))
        #expect(routes[1].proxyProtocol == .v1)
        #expect(errorLines("""
        listeners:
          - bind: 127.0.0.1:0
        routes:
          - { path: /a, upstream: "ws://h:1/", proxy_protocol: v1 }
          - { path: /b, upstream: "unix:" }
          - { path: /c, upstream: "tcp://h:1", proxy_protocol: v3 }
        """) == [
            "test.yaml:4:40: invalid value for 'proxy_protocol': applies to tcp://, tls:// and unix: upstreams only",
            "test.yaml:5:27: invalid value for 'upstream': expected unix:/path/to.sock (at most 107 bytes), found 'unix:'",
            "test.yaml:6:56: wrong type for 'proxy_protocol': expected one of v1, v2, found 'v3'",
        ])
    }

    @Test func targetValuesAreChecked() {
        let text = """
        listeners:
          - bind: 127.0.0.1:0
        routes:
          - { path: /a, upstream: "http://h:1" }
          - { path: /b, upstream: "tcp://h:0" }
          - { path: /c, echo: false }
          - { path: /d, room: "*" }
          - { path: e, room: x }
          - { path: /f/*/g, room: x }
        """
        #expect(errorLines(text) == [
            "test.yaml:4:27: invalid value for 'upstream': expected tcp://host:port, tls://host:port, ws://host:port/path, wss://host:port/path or unix:/path, found 'http://h:1'",
            "test.yaml:5:27: invalid value for 'upstream': port 0 is out of range 1–65535",
            "test.yaml:6:23: invalid value for 'echo': expected true (leave the key out instead of writing false)",
            "test.yaml:7:23: invalid value for 'room': room \"*\" takes its name from the path, so it needs a prefix path ending in '/*'",
            "test.yaml:8:13: invalid value for 'path': a route path starts with '/', found 'e'",
            "test.yaml:9:13: invalid value for 'path': '*' may only end a prefix path ('/x/*'), found '/f/*/g'",
        ])
    }

    @Test func duplicateRoutePathsAndAddressesAreRefused() {
        let text = """
        listeners:
          - bind: 127.0.0.1:80
          - bind: 127.0.0.1:80
        admin: { bind: 127.0.0.1:80 }
        routes:
          - { path: /a, echo: true }
          - { path: /a, room: r }
        """
        #expect(errorLines(text) == [
            "test.yaml:3:11: invalid value for 'bind': address 127.0.0.1:80 is already bound at line 2",
            "test.yaml:4:16: invalid value for 'bind': address 127.0.0.1:80 is already bound at line 2",
            "test.yaml:7:13: invalid value for 'path': duplicate route path '/a' (first defined at line 6)",
        ])
    }

    @Test func requiredKeysAndSectionsAreReportedMissing() {
        #expect(errorLines("") == ["test.yaml:1:1: missing key 'listeners' in configuration"])
        #expect(errorLines("listeners: []\n") == [
            "test.yaml:1:1: invalid value for 'listeners': at least one listener is required"
        ])
        let text = "listeners:\n  - tls: { cert: a }\nadmin: {}\n"
        #expect(errorLines(text) == [
            "test.yaml:2:5: missing key 'bind' in listener",
            "test.yaml:2:10: missing key 'key' in listener tls",
            "test.yaml:3:8: missing key 'bind' in admin",
        ])
    }

    @Test func aBadRedisURLAndRouteDrainTimeoutAreRefused() {
        let text = configuration(route: "    echo: true\n    drain_timeout_s: 5\n") + "cluster: { redis: x }\n"
        #expect(errorLines(text) == [
            "test.yaml:6:5: invalid value for 'drain_timeout_s': global only; set it under 'limits:'",
            "test.yaml:7:19: invalid value for 'redis': a Redis URL starts with redis:// or rediss:// (redis://[user:password@]host[:port][/db])",
        ])
    }

    @Test func clusterIsDecodedWithItsDefaults() throws {
        let text = configuration(route: "    room: lobby\n    history: 5\n") + "cluster: { redis: \"redis://u:p%40ss@127.0.0.1:6380/2\" }\n"
        let cluster = try #require(try parse(text).cluster)
        #expect(cluster.redis.host == "127.0.0.1")
        #expect(cluster.redis.port == 6380)
        #expect(cluster.redis.username == "u")
        #expect(cluster.redis.password == "p@ss")
        #expect(cluster.redis.database == 2)
        #expect(cluster.prefix == "wsgate")
        #expect(cluster.outageQueue == 1000)
        #expect(cluster.streamLength == 1000)
        let tls = configuration(route: "    echo: true\n") + "cluster:\n  redis: rediss://h:6379\n  prefix: gw\n  outage_queue: 5\n  stream_length: 50\n"
        let other = try #require(try parse(tls).cluster)
        #expect(other.redis.usesTLS)
        #expect(other.prefix == "gw" && other.outageQueue == 5 && other.streamLength == 50)
    }

    @Test func clusterNeedsARedisURLAndAStreamAsLongAsTheLargestHistory() {
        let missing = configuration(route: "    echo: true\n") + "cluster: { prefix: x, stream_lenght: 3 }\n"
        #expect(errorLines(missing) == [
            "test.yaml:6:10: missing key 'redis' in cluster",
            "test.yaml:6:23: unknown key 'stream_lenght' in cluster (did you mean 'stream_length'?)",
        ])
        let ca = configuration(route: "    echo: true\n") + "cluster: { redis: \"rediss://h\", tls_ca: no/such/ca.pem }\n"
        #expect(errorLines(ca).count == 1)
        #expect(errorLines(ca).first?.hasPrefix("test.yaml:6:41: invalid value for 'tls_ca': cannot read 'no/such/ca.pem'") == true, "\(errorLines(ca))")
        let short = configuration(route: "    room: lobby\n    history: 20\n") + "cluster: { redis: \"redis://h\", stream_length: 10 }\n"
        #expect(errorLines(short) == [
            "test.yaml:7:10: invalid value for 'stream_length': 10 is less than the largest route history (20)",
        ])
    }

    @Test func everyErrorInTheFileIsReportedAtOnceInFileOrder() {
        let text = """
        listeners:
          - bind: nowhere
            tls: { cert: a, key: b, plain: maybe }
        log_level: loud
        routes:
          - path: /chat
            romm: lobby
            history: -3
          - path: /chat
            echo: true
        """
        let lines = errorLines(text)
        #expect(lines == [
            "test.yaml:2:11: invalid value for 'bind': expected host:port, e.g. 127.0.0.1:8080, found 'nowhere'",
            "test.yaml:3:36: wrong type for 'plain': expected one of accept, reject, found 'maybe'",
            "test.yaml:4:12: wrong type for 'log_level': expected one of trace, debug, info, notice, warning, error, critical, found 'loud'",
            "test.yaml:7:5: unknown key 'romm' in route (did you mean 'room'?)",
            "test.yaml:8:14: invalid value for 'history': must not be negative, found -3",
            "test.yaml:9:11: invalid value for 'path': duplicate route path '/chat' (first defined at line 6)",
        ])
    }

    @Test func theErrorDescriptionMatchesTheSpecFormat() {
        let error = ConfigError(.unknownKey("romm", in: "route", suggestion: "room"),
                                at: WSGateConfig.SourceLocation(file: "etc/wsgate.yaml", line: 14, column: 7))
        #expect(error.description == "etc/wsgate.yaml:14:7: unknown key 'romm' in route (did you mean 'room'?)")
        let errors = ConfigErrors([error, ConfigError(.duplicateKey("a"), at: location(1, 1))])
        #expect(errors.description.split(separator: "\n").count == 2)
    }
}
