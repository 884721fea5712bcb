/// The table of every configuration key, in the style of nginx's directives, and what is made from it:
/// the unknown-key suggestions and the README's configuration reference.
public enum ConfigurationReference {
    /// Every key of every section, in the order the reference lists them.
    public static let keys: [ConfigurationKey] = [
        .init(.topLevel, "listeners", .listOfMappings, default: nil, "The public listeners; at least one."),
        .init(.topLevel, "admin", .mapping, default: "none", "The admin listener: /healthz, /metrics, /rooms."),
        .init(.topLevel, "limits", .mapping, default: "see limits", "Global limits; a route may override them."),
        .init(.topLevel, "routes", .listOfMappings, default: "none", "Routes by URL path, each with one target."),
        .init(.topLevel, "log_level", .choice(LogLevel.allCases.map(\.rawValue)), default: "info",
              "The least severe level logged to standard error."),
        .init(.topLevel, "trusted_proxies", .stringList, default: "none",
              "CIDRs whose `X-Forwarded-For` and PROXY headers are believed (`[127.0.0.1/32, 10.0.0.0/8]`)."),
        .init(.topLevel, "log_format", .choice(LogFormat.allCases.map(\.rawValue)), default: "text",
              "`json`: one JSON object per line (`time`, `level`, `event`, then the event's fields)."),
        .init(.topLevel, "cluster", .mapping, default: "none",
              "Rooms shared by every wsgate on one Redis (see the Cluster section)."),
        .init(.listener, "bind", .hostPort, default: nil, "Address to listen on; port 0 picks a free port."),
        .init(.listener, "tls", .mapping, default: "none (plain)", "Terminate TLS on this listener."),
        .init(.listener, "proxy_protocol", .boolean, default: "false",
              "A load balancer in front sends a PROXY v1 or v2 header first (trusted peers only; others are dropped)."),
        .init(.tls, "cert", .string, default: nil, "PEM certificate chain, relative to the working directory."),
        .init(.tls, "key", .string, default: nil, "PEM private key, relative to the working directory."),
        .init(.tls, "plain", .choice(PlainPolicy.allCases.map(\.rawValue)), default: "reject",
              "`accept`: plain connections too on this port, told apart by the first byte."),
        .init(.tls, "sni", .listOfMappings, default: "none", "Certificates by server name: `{ name, cert, key }`."),
        .init(.sni, "name", .string, default: nil, "Server name the client asks for."),
        .init(.sni, "cert", .string, default: nil, "PEM certificate chain for that name."),
        .init(.sni, "key", .string, default: nil, "PEM private key for that name."),
        .init(.admin, "bind", .hostPort, default: nil, "Address of the admin listener."),
        .init(.limits, "max_connections", .integer(minimum: 1), default: "10000", routeOverridable: true,
              "Open connections on the public listeners; past it, HTTP 503. On a route: that route's cap."),
        .init(.limits, "max_message_bytes", .integer(minimum: 1), default: "1048576", routeOverridable: true,
              "Largest message in bytes; RFC 6455 closes 1009, hixie drops the connection."),
        .init(.limits, "handshake_timeout_ms", .integer(minimum: 1), default: "10000", routeOverridable: true,
              "Milliseconds a client has to finish its handshake."),
        .init(.limits, "ping_interval_s", .integer(minimum: 0), default: "30", routeOverridable: true,
              "Seconds between RFC 6455 keepalive pings; 0 = off."),
        .init(.limits, "idle_timeout_s", .integer(minimum: 0), default: "0", routeOverridable: true,
              "Seconds without traffic before a close 1001; 0 = off."),
        .init(.limits, "send_queue_bytes", .integer(minimum: 1), default: "4194304", routeOverridable: true,
              "Unsent bytes past which a client is a slow consumer (close 1008)."),
        .init(.limits, "max_connections_per_ip", .integer(minimum: 0), default: "0", routeOverridable: true,
              "Open connections from one client address (the real one, see `trusted_proxies`); past it, 429. 0 = off."),
        .init(.limits, "handshakes_per_ip_per_s", .integer(minimum: 0), default: "0", routeOverridable: true,
              "Handshakes per second from one client address, burst of the same size; past it, 429 with `Retry-After`. 0 = off."),
        .init(.limits, "messages_per_s", .integer(minimum: 0), default: "0", routeOverridable: true,
              "Messages per second a connection may send, every dialect; past it, close 1008. 0 = off."),
        .init(.limits, "drain_timeout_s", .integer(minimum: 0), default: "10",
              "Seconds to let connections drain on SIGTERM/SIGINT. Global only."),
        .init(.route, "path", .string, default: nil, "URL path starting with `/`; `/x/*` is a prefix route."),
        .init(.route, "room", .string, default: "—",
              "Target: broadcast room; `\"*\"` on a prefix route names the room after the next path segment."),
        .init(.route, "upstream", .tcpAddress, default: "—", "Target: a raw TCP service (`tcp://`, `tls://`), or an RFC 6455 backend (`ws://`, `wss://`), one connection per client."),
        .init(.route, "proxy_protocol", .choice(ProxyProtocolVersion.allCases.map(\.rawValue)), default: "none",
              "`tcp://`, `tls://` and `unix:` upstreams: the HAProxy PROXY header first, with the client's real address."),
        .init(.route, "balance", .choice(UpstreamBalance.allCases.map(\.rawValue)), default: "round_robin",
              "Upstream pools (`upstream:` a list of one scheme): how an address is picked."),
        .init(.route, "fail_timeout_s", .integer(minimum: 0), default: "10",
              "Upstream pools: seconds an address that refused or timed out is skipped."),
        .init(.route, "upstream_tls", .mapping, default: "verify, system CAs",
              "`tls://` and `wss://` upstreams: `{ ca, server_name, verify }`."),
        .init(.route, "static", .string, default: "—", "Target: folder served to plain HTTP GET/HEAD; must exist."),
        .init(.route, "targets", .string, default: "—",
              "Target: a file of `name: tcp://host:port` lines; the token's `target` claim, the auth server's `Wsgate-Target` or the `token` query parameter picks one."),
        .init(.route, "auth", .mapping, default: "none", "Check every handshake before the 101: `{ jwt: {...}, request: URL }`."),
        .init(.auth, "jwt", .mapping, default: "none", "Tokens verified by the gateway."),
        .init(.auth, "request", .string, default: "none",
              "An `http://host:port/path` asked with a GET for each handshake (nginx's `auth_request`): 2xx admits, 401/403 are passed on, else 503."),
        .init(.auth, "timeout_ms", .integer(minimum: 1), default: "2000", "Milliseconds the auth server has to answer (then 503)."),
        .init(.jwt, "algorithms", .stringList, default: nil, "The pinned list: HS256, HS384, HS512, RS256, ES256, EdDSA (`none` never)."),
        .init(.jwt, "key", .string, default: nil, "A PEM public key, or a file holding the HMAC secret."),
        .init(.jwt, "issuer", .string, default: "none", "The `iss` a token must carry."),
        .init(.jwt, "audience", .string, default: "none", "The `aud` a token must carry."),
        .init(.jwt, "leeway_s", .integer(minimum: 0), default: "30", "Seconds of clock skew allowed on `exp`, `nbf` and `iat`."),
        .init(.route, "echo", .boolean, default: "—", "Target: `true` sends every message back to its sender."),
        .init(.route, "history", .integer(minimum: 0), default: "0", "Messages replayed to each new room member."),
        .init(.route, "include_sender", .boolean, default: "true", "The sender receives its own message too."),
        .init(.route, "announce", .boolean, default: "false", "Text notices when members join and leave."),
        .init(.route, "origins", .stringList, default: "same origin",
              "Allowed Origin values; `\"*\"` admits any. No Origin is admitted (except hixie-76)."),
        .init(.route, "subprotocols", .stringList, default: "none", "Subprotocols offered, chosen per RFC 6455."),
        .init(.route, "encoding", .choice(BridgeEncoding.allCases.map(\.rawValue)), default: "binary",
              "Upstream routes: how TCP bytes travel to WebSocket clients."),
        .init(.route, "connect_timeout_ms", .integer(minimum: 1), default: "3000",
              "Upstream routes: milliseconds to connect before answering 504."),
        .init(.route, "compression", .onOff, default: "on",
              "permessage-deflate when the client offers it; `off` declines every offer."),
        .init(.route, "compression_window_bits", .integer(minimum: 9), default: "12",
              "The largest LZ77 window (9–15) the gateway compresses with; room routes always answer `server_no_context_takeover`."),
        .init(.route, "compression_min_bytes", .integer(minimum: 0), default: "64",
              "Messages shorter than this go out uncompressed."),
        .init(.cluster, "redis", .string, default: nil,
              "`redis://[user:password@]host:port[/db]` (`rediss://`: TLS); AUTH and SELECT are sent on connect."),
        .init(.cluster, "prefix", .string, default: "wsgate", "Prefix of every Redis key and channel."),
        .init(.cluster, "outage_queue", .integer(minimum: 1), default: "1000",
              "Messages per room held while Redis is unreachable; past it the sender is closed 1013."),
        .init(.cluster, "stream_length", .integer(minimum: 1), default: "1000",
              "Messages kept in each room's stream (history and gap repair); at least the largest `history`."),
        .init(.cluster, "tls_ca", .string, default: "system trust store",
              "`rediss://`: PEM file of the CAs that sign Redis's certificate (checked against the URL's host)."),
        .init(.upstreamTLS, "ca", .string, default: "system trust store",
              "PEM file of the CAs that sign the upstream's certificate; must be readable."),
        .init(.upstreamTLS, "server_name", .string, default: "the upstream's host",
              "Name sent by SNI and required in the upstream's certificate."),
        .init(.upstreamTLS, "verify", .boolean, default: "true", "`false` accepts any certificate: the explicit opt-out."),
    ]

    /// The keys a section accepts; a route also accepts the route-overridable `limits` keys.
    public static func keys(in section: ConfigurationSection) -> [ConfigurationKey] {
        Self.keys.filter { key in
            key.section == section || (section == .route && key.isRouteOverridable)
        }
    }

    /// The description of `name` in `section`, if the section accepts it.
    public static func key(_ name: String, in section: ConfigurationSection) -> ConfigurationKey? {
        Self.keys(in: section).first { $0.name == name }
    }

    /// The known key of `section` closest to `name` (Levenshtein distance ≤ 2), ties going to the table order.
    public static func suggestion(for name: String, in section: ConfigurationSection) -> String? {
        var best: (name: String, distance: Int)? = nil
        for key in Self.keys(in: section) {
            let distance = Self.editDistance(name, key.name)
            if distance <= 2, distance < max(name.count, 1), distance < (best?.distance ?? Int.max) {
                best = (key.name, distance)
            }
        }
        return best?.name
    }

    /// The Levenshtein distance between two strings, counted in characters.
    static func editDistance(_ left: String, _ right: String) -> Int {
        let a = Array(left)
        let b = Array(right)
        if a.isEmpty || b.isEmpty {
            return max(a.count, b.count)
        }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// The configuration reference in Markdown: one table per section (key, type, default, description).
    ///
    /// The README embeds this output; a test keeps them in step.
    public static func referenceMarkdown() -> String {
        var lines: [String] = []
        for section in ConfigurationSection.allCases {
            lines.append("### `\(section.path)`")
            lines.append("")
            if section == .route {
                lines.append("A route also takes any `limits` key marked *route* below, for itself.")
                lines.append("")
            }
            lines.append("| key | type | default | description |")
            lines.append("| --- | --- | --- | --- |")
            for key in Self.keys where key.section == section {
                let defaultText = key.defaultValue.map { "`\($0)`" } ?? "required"
                let scope = key.isRouteOverridable ? " *(route)*" : ""
                lines.append("| `\(key.name)`\(scope) | \(key.type.expected) | \(defaultText) | \(key.doc) |")
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }
}
