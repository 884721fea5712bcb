import Foundation
import NIOCore
import NIOPosix
import Testing
import WSGateClient
import WSGateRedis
import WSGateWire

/// A `redis-server` of the test's own on a free loopback port, in a temporary folder: started, killed
/// with SIGKILL, and started again on the same port and folder (with AOF, it reloads what it wrote).
final class ClusterRedis: @unchecked Sendable {  // used from one test at a time
    let port: Int
    let directory: String
    let appendOnly: Bool
    /// Extra options (`--requirepass`, TLS).
    let extraArguments: [String]
    /// Whether the port speaks TLS only (then readiness is a TCP connect, not a PING).
    let usesTLS: Bool
    private var process: Process?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A server on a free port; `start: false` only picks the port (Redis down at gateway start).
    init(appendOnly: Bool = false, tls: Bool = false, arguments: [String] = [], start: Bool = true) throws {
        self.port = try Self.freePort()
        self.usesTLS = tls
        let certificates = repositoryRoot + "/certs-dev/"
        self.extraArguments = arguments + (tls ? [
            "--tls-cert-file", certificates + "server.crt", "--tls-key-file", certificates + "server.key",
            "--tls-ca-cert-file", certificates + "ca.crt", "--tls-auth-clients", "no",
        ] : [])
        self.directory = NSTemporaryDirectory() + "wsgate-cluster-redis-\(UUID().uuidString.prefix(8))"
        self.appendOnly = appendOnly
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        if start { try self.start() }
    }

    deinit {
        self.kill()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    static var executable: String? {
        ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// Starts the server and waits until it accepts connections (at most 10 s).
    func start() throws {
        guard let executable = Self.executable else {
            throw Failure(description: "redis-server is not installed (scripts/test.sh installs it)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        var arguments = [
            self.usesTLS ? "--tls-port" : "--port", String(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", self.directory,
            "--logfile", self.directory + "/redis.log", "--daemonize", "no",
        ]
        // AOF with a sync per write: a SIGKILL loses nothing that was acknowledged.
        arguments += self.appendOnly ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]
        if self.usesTLS { arguments += ["--port", "0"] }
        arguments += self.extraArguments
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard process.isRunning else { throw Failure(description: "redis-server exited: \(self.log.suffix(600))") }
            if self.usesTLS || self.extraArguments.contains("--requirepass") {
                if let channel = try? ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(.milliseconds(300)).connect(host: "127.0.0.1", port: self.port).wait()
                {
                    try? channel.close().wait()
                    return
                }
                usleep(20_000)
                continue
            }
            // Ready once it answers PING (an AOF server loads its file before it answers).
            let options = RedisConnection.Options(commandTimeout: .milliseconds(500), connectTimeout: .milliseconds(500))
            if let redis = try? RedisConnection.connect(
                host: "127.0.0.1", port: self.port, eventLoop: MultiThreadedEventLoopGroup.singleton.next(), options: options
            ).wait() {
                let pong = try? redis.send("PING").wait()
                try? redis.close().wait()
                if pong?.string == "PONG" { return }
            }
            usleep(20_000)
        }
        throw Failure(description: "redis-server did not answer on \(self.port) within 10 s")
    }

    /// A connection of the test's own, kept open (it keeps its client slot).
    func adminConnection() throws -> RedisConnection {
        try RedisConnection.connect(
            host: "127.0.0.1", port: self.port, eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
            options: RedisConnection.Options(commandTimeout: .seconds(5), connectTimeout: .seconds(2))
        ).wait()
    }

    /// Runs one command (e.g. `SAVE`) and returns its reply.
    @discardableResult
    func command(_ arguments: RESPArgument...) throws -> RESPValue {
        let redis = try RedisConnection.connect(
            host: "127.0.0.1", port: self.port, eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
            options: RedisConnection.Options(commandTimeout: .seconds(5), connectTimeout: .seconds(2))
        ).wait()
        defer { try? redis.close().wait() }
        return try redis.send(arguments).wait()
    }

    /// SIGSTOP / SIGCONT: the server hangs with its connections open, then goes on.
    func pause() {
        if let process = self.process, process.isRunning { Glibc.kill(process.processIdentifier, SIGSTOP) }
    }

    func resume() {
        if let process = self.process, process.isRunning { Glibc.kill(process.processIdentifier, SIGCONT) }
    }

    /// SIGKILL: the server dies at once, mid-stream.
    func kill() {
        guard let process = self.process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        Glibc.kill(process.processIdentifier, SIGCONT)
        process.waitUntilExit()
        self.process = nil
    }

    var log: String { (try? String(contentsOfFile: self.directory + "/redis.log", encoding: .utf8)) ?? "" }

    private static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        guard let port = channel.localAddress?.port else { throw Failure(description: "no free port") }
        return port
    }
}

/// Cluster end-to-end helpers: gateway configurations, members of every dialect, the order checker.
enum ClusterTestSupport {
    /// A gateway on an ephemeral port with an admin listener, on the cluster of `redisPort`.
    static func yaml(
        redisPort: Int, outageQueue: Int = 1000, history: Int = 0, url: String? = nil, extra: String = "", streamLength: Int = 1000
    ) -> String {
        """
        listeners:
          - bind: 127.0.0.1:0
        admin:
          bind: 127.0.0.1:0
        cluster:
          redis: "\(url ?? "redis://127.0.0.1:\(redisPort)")"
          prefix: test
          outage_queue: \(outageQueue)
          stream_length: \(streamLength)
        \(extra)
        routes:
          - path: /chat
            room: lobby
            history: \(history)
            origins: ["*"]
          - path: /town
            room: town
            announce: true
            history: 5
            origins: ["*"]
          - path: /echo
            echo: true

        """
    }

    /// A gateway on the cluster of `redisPort`, once its connection to Redis is up.
    static func gateway(
        redisPort: Int, outageQueue: Int = 1000, url: String? = nil, extra: String = "", history: Int = 0, streamLength: Int = 1000
    ) throws -> GatewayHarness {
        let harness = try GatewayHarness(
            yaml: Self.yaml(redisPort: redisPort, outageQueue: outageQueue, history: history, url: url, extra: extra, streamLength: streamLength))
        guard Self.eventually({ Self.health(harness) == "ok\ncluster: up\n" }) else {
            harness.stop()
            throw ClusterRedis.Failure(description: "the gateway's cluster did not come up")
        }
        return harness
    }

    /// Connects a member of `dialect` to `/chat` on `port`.
    static func member(port: Int, dialect: ClientDialect, path: String = "/chat") async throws -> AsyncWebSocketClient {
        try await AsyncWebSocketClient.connect(
            WebSocketClientConfiguration(
                host: "127.0.0.1", port: port, path: path, dialect: dialect, origin: "http://127.0.0.1:\(port)",
                handshakeTimeout: .seconds(5), closeTimeout: .seconds(3)))
    }

    /// What one member saw: its messages in order, and how its connection ended (if it did).
    struct Seen: Sendable {
        var messages: [String] = []
        var closed: (code: WebSocketCloseCode?, reason: String?)? = nil
    }

    /// Takes messages until `count` are in, the connection ends, or nothing comes for `quiet`.
    static func collect(_ client: AsyncWebSocketClient, count: Int, quiet: Duration = .seconds(5)) async -> Seen {
        var seen = Seen()
        while seen.messages.count < count {
            do {
                let message = try await client.next(timeout: quiet)
                seen.messages.append(String(buffer: message.payload))
            } catch WebSocketClientError.closed(let code, let reason) {
                seen.closed = (code, reason)
                break
            } catch {
                break
            }
        }
        return seen
    }

    /// Collects from every member at once.
    static func collectAll(_ clients: [AsyncWebSocketClient], count: Int, quiet: Duration = .seconds(5)) async -> [Seen] {
        await withTaskGroup(of: (Int, Seen).self) { group in
            for (index, client) in clients.enumerated() {
                group.addTask { (index, await Self.collect(client, count: count, quiet: quiet)) }
            }
            var all = [Seen](repeating: Seen(), count: clients.count)
            for await (index, seen) in group { all[index] = seen }
            return all
        }
    }

    /// The checker: every member saw `expected` messages in one order (the same for all), with no
    /// duplicate and nothing missing.
    static func expectOneOrder(_ seen: [Seen], expected: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let first = seen.first else { return }
        for (index, member) in seen.enumerated() {
            #expect(member.closed == nil, "member \(index) was closed: \(String(describing: member.closed))", sourceLocation: sourceLocation)
            #expect(Set(member.messages).count == member.messages.count, "member \(index) saw a duplicate", sourceLocation: sourceLocation)
            #expect(Set(member.messages) == expected, "member \(index) missed \(expected.subtracting(member.messages).sorted().prefix(5))", sourceLocation: sourceLocation)
            #expect(member.messages == first.messages, "member \(index) saw another order", sourceLocation: sourceLocation)
        }
    }

    /// Waits until `condition` holds (at most `timeout`).
    static func eventually(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    /// The admin `/healthz` body of a gateway.
    static func health(_ harness: GatewayHarness) -> String {
        guard let port = harness.adminPort, let reply = try? opsHTTPGet(port: port, path: "/healthz") else { return "" }
        return reply.body
    }

    /// The cluster-wide member count `/rooms` shows for `room`.
    static func clusterMembers(adminPort: Int, room: String) -> Int? {
        guard let reply = try? opsHTTPGet(port: adminPort, path: "/rooms"),
            let rooms = try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [[String: Any]]
        else { return nil }
        return rooms.first { $0["room"] as? String == room }?["cluster_members"] as? Int
    }

    /// The status of a room handshake that is refused (nil when it opened).
    static func refusedStatus(port: Int) async -> Int? {
        do {
            let client = try await Self.member(port: port, dialect: .rfc6455)
            try? await client.close()
            return nil
        } catch WebSocketClientError.handshakeRefused(let status, _, _) {
            return status
        } catch {
            return -1
        }
    }
}
