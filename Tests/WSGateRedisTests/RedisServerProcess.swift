import Foundation
import NIOCore
import NIOPosix
import Synchronization
import WSGateRedis
import XCTest

/// A `redis-server` of the test's own: a child process on a free loopback port, with no persistence,
/// in a temporary directory; stopped (and the directory removed) by `stop()`.
final class RedisServerProcess {
    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    private let process: Process
    private let directory: URL

    /// Starts a server and waits until it answers `PING` (at most 10 s). `arguments` are extra options
    /// (`["--requirepass", "secret"]`). Throws a readable error if `redis-server` is not installed.
    static func start(arguments: [String] = [], group: EventLoopGroup) throws -> RedisServerProcess {
        guard let executable = findExecutable("redis-server") else {
            throw StartError(description: "redis-server is not installed (apt-get install -y redis-server; scripts/test.sh installs it)")
        }
        var lastError: Error = StartError(description: "redis-server did not start")
        for _ in 0..<3 {  // a free port may be taken by someone else before redis-server binds it
            do {
                return try RedisServerProcess(executable: executable, arguments: arguments, group: group)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private init(executable: String, arguments: [String], group: EventLoopGroup) throws {
        port = try Self.freePort(group: group)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let log = directory.appendingPathComponent("redis.log")
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory.path, "--logfile", log.path, "--daemonize", "no",
        ] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        do {
            try waitUntilReady(group: group, log: log)
        } catch {
            stop()
            throw error
        }
    }

    private func waitUntilReady(group: EventLoopGroup, log: URL) throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                throw StartError(description: "redis-server exited (status \(process.terminationStatus)): \(text.suffix(800))")
            }
            // A raw TCP connection: the server may require a password, which PING would need.
            let connected = ClientBootstrap(group: group).connectTimeout(.milliseconds(500))
                .connect(host: "127.0.0.1", port: port)
            if let channel = try? connected.wait() {
                try? channel.close().wait()
                return
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw StartError(description: "redis-server did not accept connections on port \(port) within 10 s")
    }

    /// SIGKILL: the server dies at once, without closing its connections in an orderly way.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM (SIGKILL after 5 s), then removes the directory.
    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
            kill()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private static func freePort(group: EventLoopGroup) throws -> Int {
        let channel = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        guard let port = channel.localAddress?.port else { throw StartError(description: "no local port") }
        return port
    }

    private static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin", "/usr/local/bin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Values appended from any thread (a pub/sub callback), read by the test.
final class Collector<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) {
        values.withLock { $0.append(value) }
    }

    var all: [Value] { values.withLock { $0 } }

    /// Waits (at most `timeout`) until `count` values are there; returns them all.
    func wait(for count: Int, timeout: Duration = .seconds(5)) -> [Value] {
        let deadline = ContinuousClock.now + timeout
        while all.count < count && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        return all
    }
}
