import Foundation
import Logging
import NIOCore
import NIOPosix
import WSGateConfig
import WSGateCore

/// The repository's root folder, found from this file's path.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// A real gateway on loopback, started in-process from a YAML-lite text, for end-to-end tests.
///
/// Listeners written with port 0 get ephemeral ports; `ports` lists them in configuration order.
/// Relative paths in the YAML resolve against `repositoryRoot` (certificates, static folders).
final class GatewayHarness: @unchecked Sendable {
    let gateway: Gateway
    let ports: [Int]
    let adminPort: Int?
    var port: Int { self.ports[0] }

    init(yaml: String, logLevel: Logger.Level = .warning) throws {
        _ = FileManager.default.changeCurrentDirectoryPath(repositoryRoot)
        let configuration = try ConfigLoader.parse(yaml, file: "test.yaml", baseDirectory: repositoryRoot)
        var logger = Logger(label: "wsgate-test")
        logger.logLevel = logLevel
        self.gateway = try Gateway(configuration: configuration, logger: logger, eventLoopGroup: nil)
        try self.gateway.start()
        self.ports = self.gateway.listenerAddresses.compactMap { $0.port }
        self.adminPort = self.gateway.adminAddress?.port
    }

    /// Drains and stops the gateway (bounded by `drainTimeout`).
    func stop(drainTimeout: TimeAmount = .seconds(2)) {
        self.gateway.shutdown(drainTimeout: drainTimeout)
    }

    /// A minimal configuration: one plain listener on an ephemeral port plus the given routes.
    static func yaml(routes: String, limits: String = "", extraListeners: String = "", admin: Bool = false) -> String {
        var text = "listeners:\n  - bind: 127.0.0.1:0\n" + extraListeners
        if admin { text += "admin:\n  bind: 127.0.0.1:0\n" }
        if !limits.isEmpty { text += "limits:\n" + limits }
        text += "routes:\n" + routes
        return text
    }
}

/// The result of a child process.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program with a deadline; kills it when the deadline passes.
func runProcess(_ executable: String, _ arguments: [String], stdin: Data? = nil, timeout: TimeInterval = 30) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try? input.fileHandleForWriting.close()
    // Read both pipes on other threads so a chatty child never blocks on a full pipe.
    final class Collected: @unchecked Sendable {  // each written by one reader, read after `group.wait`
        var data = Data()
    }
    let outData = Collected()
    let errData = Collected()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        outData.data = out.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    group.enter()
    DispatchQueue.global().async {
        errData.data = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        usleep(200_000)
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
    process.waitUntilExit()
    _ = group.wait(timeout: .now() + 5)
    return ProcessResult(
        status: process.terminationStatus,
        stdout: String(decoding: outData.data, as: UTF8.self),
        stderr: String(decoding: errData.data, as: UTF8.self))
}

/// Runs a Python 3 script (Debian's python3, which has python3-websockets) with a deadline.
func runPython(_ script: String, _ arguments: [String] = [], timeout: TimeInterval = 30) throws -> ProcessResult {
    try runProcess("/usr/bin/python3", ["-c", script] + arguments, timeout: timeout)
}

/// Sends raw bytes over TCP and returns everything the server sent until it closed (or the deadline).
func rawExchange(port: Int, _ chunks: [[UInt8]], pauseBetweenChunks: TimeInterval = 0, timeout: TimeInterval = 5) throws -> [UInt8] {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    precondition(fd >= 0, "socket() failed")
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    for (index, chunk) in chunks.enumerated() {
        if index > 0 && pauseBetweenChunks > 0 { usleep(useconds_t(pauseBetweenChunks * 1_000_000)) }
        _ = chunk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        received.append(contentsOf: buffer[0..<n])
    }
    return received
}
