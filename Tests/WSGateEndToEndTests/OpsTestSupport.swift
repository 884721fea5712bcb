import Foundation
import NIOConcurrencyHelpers

// Helpers for the bridge and operations end-to-end tests: plain-socket TCP services, a minimal
// blocking RFC 6455 / hixie-76 client, process statistics, and the `wsgate` binary as a child.

/// Errors of the test helpers.
struct OpsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Serializes the tests that measure this process's memory or descriptors, so they do not see
/// each other's traffic.
let opsHeavyLock = NIOLock()

// MARK: Sockets

enum OpsSocket {
    /// A TCP socket connected to 127.0.0.1:`port` (blocking).
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw OpsError("socket() failed: \(errno)") }
        var address = Self.loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw OpsError("connect to \(port) failed: errno \(code)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A listening socket on 127.0.0.1:0; returns the descriptor and the port.
    static func listen(backlog: Int32 = 128) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw OpsError("socket() failed") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, backlog) == 0 else {
            close(fd)
            throw OpsError("bind/listen failed: errno \(errno)")
        }
        return (fd, Self.localPort(fd))
    }

    static func localPort(_ fd: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A port that was free a moment ago (bound to port 0, then closed).
    static func freePort() throws -> Int {
        // The kernel may hand the same free port out twice in a row; a test that asks for two ports
        // (a listener and an added listener, say) must get two different ones.
        for _ in 0..<64 {
            let (fd, port) = try Self.listen()
            close(fd)
            let isNew = handedOut.withLockedValue { ports in ports.insert(port).inserted }
            if isNew { return port }
        }
        throw OpsError("no fresh free port after 64 tries")
    }

    /// Every port `freePort` returned in this process.
    private static let handedOut = NIOLockedValueBox<Set<Int>>([])

    /// Writes everything; false when the peer is gone.
    @discardableResult
    static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Self.sendAll(fd, $0) }
    }

    /// Waits at most `timeout` for `fd` to be readable; false on timeout.
    static func waitReadable(_ fd: Int32, timeout: TimeInterval) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(max(0, timeout * 1000))
        while true {
            let r = poll(&poller, 1, ms)
            if r < 0 && errno == EINTR { continue }
            return r > 0
        }
    }

    /// One `recv` of at most `max` bytes: nil on timeout, [] on EOF or error.
    static func receive(_ fd: Int32, max: Int = 65536, timeout: TimeInterval) -> [UInt8]? {
        guard Self.waitReadable(fd, timeout: timeout) else { return nil }
        var buffer = [UInt8](repeating: 0, count: max)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return [] }
        return Array(buffer[0..<n])
    }

    /// Everything until EOF (or the deadline).
    static func receiveAll(_ fd: Int32, timeout: TimeInterval) -> (bytes: [UInt8], sawEOF: Bool) {
        var out: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return (out, false) }
            guard let chunk = Self.receive(fd, timeout: left) else { return (out, false) }
            if chunk.isEmpty { return (out, true) }
            out += chunk
        }
    }
}

// MARK: Data patterns

enum OpsPattern {
    /// `count` bytes of big-endian 64-bit counters (0, 1, 2, …), truncated: a loss, duplication
    /// or reordering anywhere changes the bytes. Python builds the same with `i.to_bytes(8, 'big')`.
    static func counters(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { raw in
            let words = count / 8
            let p = raw.baseAddress!
            for i in 0..<words { p.storeBytes(of: UInt64(i).bigEndian, toByteOffset: i * 8, as: UInt64.self) }
            var last = UInt64(words).bigEndian
            withUnsafeBytes(of: &last) { tail in
                for j in 0..<(count - words * 8) { raw[words * 8 + j] = tail[j] }
            }
        }
        return out
    }

    /// The Python expression for the same pattern.
    static let python = "(b''.join(i.to_bytes(8, 'big') for i in range(N // 8 + 1)))[:N]"
}

/// FNV-1a (64 bit), to compare long streams without keeping them.
struct OpsFNV {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var h = self.value
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        self.value = h
    }
    mutating func add(_ bytes: [UInt8]) { bytes.withUnsafeBytes { self.add($0) } }
}

// MARK: TCP services

/// A TCP service on 127.0.0.1:0 with one thread per connection, for upstreams of bridges.
final class OpsTCPServer: @unchecked Sendable {
    let port: Int
    private let listenFD: Int32
    private let lock = NIOLock()
    private var accepted = 0
    private var finished = 0
    private var stopped = false
    private let acceptThread: Thread

    /// `handler` owns the connection while it runs; the server closes the descriptor after it.
    init(handler: @escaping @Sendable (Int32) -> Void) throws {
        let (fd, port) = try OpsSocket.listen(backlog: 512)
        self.listenFD = fd
        self.port = port
        let box = OpsBox<OpsTCPServer?>(nil)
        self.acceptThread = Thread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    return
                }
                guard let server = box.value else { close(client); continue }
                server.lock.withLock { server.accepted += 1 }
                let worker = Thread {
                    handler(client)
                    close(client)
                    server.lock.withLock { server.finished += 1 }
                }
                worker.stackSize = 1 << 20
                worker.start()
            }
        }
        box.value = self
        self.acceptThread.start()
    }

    var counts: (accepted: Int, finished: Int) { self.lock.withLock { (self.accepted, self.finished) } }

    /// Waits until every accepted connection's handler returned.
    func waitIdle(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let c = self.counts
            if c.accepted == c.finished { return true }
            usleep(10_000)
        }
        return false
    }

    func stop() {
        let first = self.lock.withLock { () -> Bool in
            defer { self.stopped = true }
            return !self.stopped
        }
        guard first else { return }
        shutdown(self.listenFD, Int32(SHUT_RDWR))
        close(self.listenFD)
    }

    deinit { self.stop() }

    // Ready-made services.

    /// Echoes every byte until EOF.
    static func echo() throws -> OpsTCPServer {
        try OpsTCPServer { fd in
            while let chunk = OpsSocket.receive(fd, timeout: 30), !chunk.isEmpty {
                if !OpsSocket.sendAll(fd, chunk) { return }
            }
        }
    }
}

/// A mutable box for handing values between threads in tests.
final class OpsBox<T>: @unchecked Sendable {
    private let lock = NIOLock()
    private var _value: T
    init(_ value: T) { self._value = value }
    var value: T {
        get { self.lock.withLock { self._value } }
        set { self.lock.withLock { self._value = newValue } }
    }
    func mutate(_ body: (inout T) -> Void) { self.lock.withLock { body(&self._value) } }
}

// MARK: Process statistics

enum OpsProcess {
    /// This process's resident set size in bytes (VmRSS of /proc/self/status).
    static func rss() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.split(separator: " ").dropFirst().first ?? "0"
            return (Int(digits) ?? 0) * 1024
        }
        return 0
    }

    /// The entries of /proc/self/fd.
    static func fdCount() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
    }

    /// This process's descriptors that are TCP sockets with `port` at either end (local or
    /// remote): robust against other tests running in parallel in the same process.
    static func socketFDs(port: Int) -> Int {
        var inodes: Set<String> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            let hex = String(format: "%04X", port)
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9 else { continue }
                if fields[1].hasSuffix(":" + hex) || fields[2].hasSuffix(":" + hex) { inodes.insert(String(fields[9])) }
            }
        }
        inodes.remove("0")
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        var count = 0
        for entry in entries {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)") else { continue }
            if target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst(8).dropLast())) { count += 1 }
        }
        return count
    }

    /// Polls `condition` until it holds or `timeout` passes.
    static func eventually(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}

// MARK: A minimal blocking WebSocket client

/// An RFC 6455 client over a blocking socket, for tests that need control of every byte (pings
/// not answered, slow reading, many short connections).
// Used by one test thread at a time (the test hands it to a reader thread and waits for it).
final class OpsWebSocket: @unchecked Sendable {
    struct Frame {
        var fin: Bool
        var opcode: UInt8
        var payload: [UInt8]
        var closeCode: UInt16? {
            guard opcode == 0x8, payload.count >= 2 else { return nil }
            return UInt16(payload[0]) << 8 | UInt16(payload[1])
        }
    }

    let fd: Int32
    private(set) var responseHead: String = ""
    private var inbox: [UInt8] = []
    private var isClosed = false

    /// Connects and completes the handshake; throws with the response when it is not 101.
    init(port: Int, path: String = "/", headers: [String] = [], timeout: TimeInterval = 5) throws {
        self.fd = try OpsSocket.connect(port: port)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        for header in headers { request += header + "\r\n" }
        request += "\r\n"
        OpsSocket.sendAll(self.fd, Array(request.utf8))
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let range = Self.find([13, 10, 13, 10], in: self.inbox) {
                self.responseHead = String(decoding: self.inbox[0..<range], as: UTF8.self)
                self.inbox.removeFirst(range + 4)
                break
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let chunk = OpsSocket.receive(self.fd, timeout: left), !chunk.isEmpty else {
                let text = String(decoding: self.inbox, as: UTF8.self)
                self.close()
                throw OpsError("no handshake response (got \(text.debugDescription))")
            }
            self.inbox += chunk
        }
        guard self.responseHead.hasPrefix("HTTP/1.1 101") else {
            let text = self.responseHead + "\r\n\r\n" + String(decoding: self.inbox, as: UTF8.self)
            self.close()
            throw OpsError("handshake refused: \(text)")
        }
    }

    /// Bytes read past the handshake (or past the last frame) that no frame was parsed from yet;
    /// handed over to a caller that reads the socket itself.
    func takeBuffered() -> [UInt8] {
        defer { self.inbox = [] }
        return self.inbox
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }

    /// A masked frame (the zero mask, so the payload goes out as is).
    static func encode(opcode: UInt8, payload: [UInt8], fin: Bool = true) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            out.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            out.append(0x80 | 126)
            out += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            out.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xFF)) }
        }
        out += [0, 0, 0, 0]
        out += payload
        return out
    }

    @discardableResult
    func send(opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> Bool {
        OpsSocket.sendAll(self.fd, Self.encode(opcode: opcode, payload: payload, fin: fin))
    }

    func sendText(_ text: String) { self.send(opcode: 0x1, Array(text.utf8)) }

    func sendClose(code: UInt16 = 1000) {
        self.send(opcode: 0x8, [UInt8(code >> 8), UInt8(code & 0xFF)])
    }

    /// The next frame, or nil on EOF or timeout. `answerPings` replies to pings and keeps reading.
    func readFrame(timeout: TimeInterval = 5, answerPings: Bool = true) -> Frame? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let frame = self.parseFrame() {
                if frame.opcode == 0x9 && answerPings {
                    self.send(opcode: 0xA, frame.payload)
                    continue
                }
                return frame
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let chunk = OpsSocket.receive(self.fd, max: 262_144, timeout: left), !chunk.isEmpty else { return nil }
            self.inbox += chunk
        }
    }

    private func parseFrame() -> Frame? {
        guard self.inbox.count >= 2 else { return nil }
        let b0 = self.inbox[0]
        let b1 = self.inbox[1]
        var length = Int(b1 & 0x7F)
        var offset = 2
        if length == 126 {
            guard self.inbox.count >= 4 else { return nil }
            length = Int(self.inbox[2]) << 8 | Int(self.inbox[3])
            offset = 4
        } else if length == 127 {
            guard self.inbox.count >= 10 else { return nil }
            length = 0
            for i in 2..<10 { length = length << 8 | Int(self.inbox[i]) }
            offset = 10
        }
        guard self.inbox.count >= offset + length else { return nil }
        let frame = Frame(fin: b0 & 0x80 != 0, opcode: b0 & 0x0F, payload: Array(self.inbox[offset..<(offset + length)]))
        self.inbox.removeFirst(offset + length)
        return frame
    }

    /// True when the server closes the TCP connection within `timeout` (frames before it are skipped).
    func waitForEOF(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let chunk = OpsSocket.receive(self.fd, timeout: left) else { return false }
            if chunk.isEmpty { return true }
        }
    }

    func close() {
        guard !self.isClosed else { return }
        self.isClosed = true
        Glibc.close(self.fd)
    }

    deinit { self.close() }
}

/// A hixie-76 client: the handshake of draft-76 section 1.3 (its example keys), then raw frames.
enum OpsHixie76 {
    static let expectedToken = Array("8jKS'y:G*Co,Wxa-".utf8)

    /// Connects and handshakes; returns the descriptor and any bytes after the 16-byte token.
    static func open(port: Int, path: String, timeout: TimeInterval = 5) throws -> (fd: Int32, extra: [UInt8]) {
        let fd = try OpsSocket.connect(port: port)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n"
        request += "Origin: http://127.0.0.1:\(port)\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n"
        request += "Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n^n:ds[4U"
        OpsSocket.sendAll(fd, Array(request.utf8))
        var inbox: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let end = OpsWebSocket.find([13, 10, 13, 10], in: inbox), inbox.count >= end + 4 + 16 {
                let head = String(decoding: inbox[0..<end], as: UTF8.self)
                let token = Array(inbox[(end + 4)..<(end + 20)])
                guard head.hasPrefix("HTTP/1.1 101"), token == Self.expectedToken else {
                    close(fd)
                    throw OpsError("hixie-76 handshake failed: \(head)")
                }
                return (fd, Array(inbox[(end + 20)...]))
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let chunk = OpsSocket.receive(fd, timeout: left), !chunk.isEmpty else {
                close(fd)
                throw OpsError("hixie-76 handshake: no response (\(String(decoding: inbox, as: UTF8.self).debugDescription))")
            }
            inbox += chunk
        }
    }
}

// MARK: The wsgate binary as a child process

/// `wsgate` started from `.build/debug/wsgate` with a configuration file, stderr kept in a file.
final class OpsGatewayProcess {
    let process = Process()
    let stderrPath: String
    let configPath: String

    static var binaryPath: String { repositoryRoot + "/.build/debug/wsgate" }

    /// Fails clearly when the binary was not built.
    static func requireBinary() throws -> String {
        let path = Self.binaryPath
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw OpsError("\(path) is missing: run `swift build` before these tests")
        }
        return path
    }

    init(configPath: String, waitForPorts ports: [Int], timeout: TimeInterval = 15, environment: [String: String] = [:]) throws {
        let binary = try Self.requireBinary()
        self.configPath = configPath
        self.stderrPath = configPath + ".stderr"
        _ = FileManager.default.createFile(atPath: self.stderrPath, contents: nil)
        self.process.executableURL = URL(fileURLWithPath: binary)
        self.process.arguments = ["run", "--config", configPath]
        if !environment.isEmpty {
            self.process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        self.process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
        self.process.standardError = FileHandle(forWritingAtPath: self.stderrPath)
        self.process.standardOutput = FileHandle.nullDevice
        self.process.standardInput = FileHandle.nullDevice
        try self.process.run()
        for port in ports {
            let up = OpsProcess.eventually(timeout: timeout) {
                guard let fd = try? OpsSocket.connect(port: port) else { return false }
                close(fd)
                return true
            }
            if !up {
                self.kill()
                throw OpsError("wsgate did not listen on \(port); stderr:\n\(self.stderr)")
            }
        }
    }

    var stderr: String { (try? String(contentsOfFile: self.stderrPath, encoding: .utf8)) ?? "" }

    func signal(_ sig: Int32) { Glibc.kill(self.process.processIdentifier, sig) }

    /// Waits for exit; nil if it is still running after `timeout`.
    func waitForExit(timeout: TimeInterval) -> Int32? {
        let exited = OpsProcess.eventually(timeout: timeout) { !self.process.isRunning }
        guard exited else { return nil }
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }

    func kill() {
        if self.process.isRunning { Glibc.kill(self.process.processIdentifier, SIGKILL) }
        self.process.waitUntilExit()
    }

    deinit { self.kill() }
}

/// A temporary folder for configuration files.
func opsTemporaryDirectory() throws -> String {
    let path = opsTemporaryRoot + "/" + UUID().uuidString.prefix(8)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The one parent of this test process's temporary folders, removed when the process exits (the
/// tests need not each clean up, and nothing is left in /tmp).
private let opsTemporaryRoot: String = {
    let root = NSTemporaryDirectory() + "wsgate-ops-\(getpid())"
    try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "wsgate-ops-\(getpid())") }
    return root
}()

/// An HTTP GET over raw TCP: (status, body).
func opsHTTPGet(port: Int, path: String) throws -> (status: Int, head: String, body: String) {
    let reply = try rawExchange(port: port, [Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)])
    let text = String(decoding: reply, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { throw OpsError("no HTTP response: \(text.debugDescription)") }
    let head = String(text[..<split.lowerBound])
    let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
    return (status, head, String(text[split.upperBound...]))
}
