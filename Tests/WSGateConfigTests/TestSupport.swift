import Foundation
import Testing

@testable import WSGateConfig

/// The example configuration of SPEC "Configuration: YAML-lite", verbatim.
let exampleConfiguration = """
listeners:
  - bind: 127.0.0.1:8080            # plain ws:// and http://
  - bind: 127.0.0.1:8443            # TLS only: wss:// and https://
    tls:
      cert: certs-dev/server.crt
      key: certs-dev/server.key
  - bind: 127.0.0.1:9000            # one port for both: TLS or plain, told apart by the first byte
    tls: { cert: certs-dev/server.crt, key: certs-dev/server.key, plain: accept }

admin:
  bind: 127.0.0.1:9901              # GET /healthz, GET /metrics (Prometheus text), GET /rooms (JSON)

limits:                             # global; a route overrides any of them with the same key
  max_connections: 10000            # past it: HTTP 503 before any upgrade
  max_message_bytes: 1048576        # RFC 6455: close 1009; hixie: the connection is dropped
  handshake_timeout_ms: 10000       # a client that has not finished its handshake by then is dropped
  ping_interval_s: 30               # RFC 6455 keepalive pings; 0 = off
  idle_timeout_s: 0                 # close after this long with no traffic; 0 = off
  send_queue_bytes: 4194304         # a client whose unsent bytes pass this is a slow consumer: closed 1008

routes:
  - path: /chat                     # exact path; the query string is ignored for matching
    room: lobby                     # broadcast every message to every member of room "lobby"
    history: 20                     # replay the last 20 messages to each new member (default 0)
    include_sender: true            # the sender receives its own message too (default true)
    announce: false                 # text notices when members join and leave (default false)
    origins: [http://127.0.0.1:8080, https://127.0.0.1:8443]   # default: same origin as Host, or no Origin
    subprotocols: [chat, superchat] # offered by the server, chosen per RFC 6455 (optional)
  - path: /rooms/*                  # prefix route: /rooms/a is room "a", /rooms/b room "b"
    room: "*"
  - path: /echo
    echo: true                      # every message straight back to its sender (diagnostics,
                                    # conformance suites, benchmarks)
  - path: /legacy/telnet
    upstream: tcp://127.0.0.1:7000  # one TCP connection per WebSocket client
    encoding: binary                # binary | base64 | text (see Upstream bridges)
    connect_timeout_ms: 3000
  - path: /
    static: etc/www                 # files for plain HTTP GET/HEAD; index.html for directories
"""

/// A temporary folder holding `etc/www`, so that the example's `static: etc/www` exists.
let fixtureDirectory: String = {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("wsgate-config-tests-\(ProcessInfo.processInfo.processIdentifier)")
    try? FileManager.default.createDirectory(
        at: directory.appendingPathComponent("etc/www"), withIntermediateDirectories: true)
    // Removed when the test process exits: nothing is left in /tmp.
    atexit {
        try? FileManager.default.removeItem(
            at: FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-config-tests-\(ProcessInfo.processInfo.processIdentifier)"))
    }
    return directory.path
}()

/// Parses `text` as `test.yaml` with static folders resolved in `fixtureDirectory`.
func parse(_ text: String) throws(ConfigErrors) -> WSGateConfiguration {
    try ConfigLoader.parse(text, file: "test.yaml", baseDirectory: fixtureDirectory)
}

/// The error lines for `text`, or an empty list if it loads.
func errorLines(_ text: String) -> [String] {
    do {
        _ = try parse(text)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

/// A minimal valid configuration with `routeLines` appended under one route.
func configuration(route routeLines: String) -> String {
    "listeners:\n  - bind: 127.0.0.1:0\nroutes:\n  - path: /x\n" + routeLines
}

func location(_ line: Int, _ column: Int) -> WSGateConfig.SourceLocation {
    WSGateConfig.SourceLocation(file: "test.yaml", line: line, column: column)
}
