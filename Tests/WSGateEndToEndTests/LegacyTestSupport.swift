import Foundation
import NIOCore
import NIOPosix
import WSGateClient
import WSGateTLS
import WSGateWire

/// Helpers for the legacy (hixie) and TLS end-to-end suites. Every wait here has a deadline.
enum LegacyTestSupport {
    /// One event loop group for every test client (the gateway has its own).
    static let clientGroup = MultiThreadedEventLoopGroup.singleton

    /// A client configuration for `127.0.0.1:port`.
    static func configuration(
        port: Int, path: String, dialect: ClientDialect, tls: TLSContext? = nil, subprotocols: [String] = [],
        origin: String? = nil, maxMessageSize: Int = 16 << 20
    ) -> WebSocketClientConfiguration {
        WebSocketClientConfiguration(
            host: "127.0.0.1", port: port, path: path, dialect: dialect, origin: origin, subprotocols: subprotocols, tls: tls,
            maxMessageSize: maxMessageSize, handshakeTimeout: .seconds(5), closeTimeout: .seconds(3))
    }

    /// Connects an `AsyncWebSocketClient`.
    static func connect(
        port: Int, path: String, dialect: ClientDialect, tls: TLSContext? = nil, subprotocols: [String] = [],
        maxMessageSize: Int = 16 << 20
    ) async throws -> AsyncWebSocketClient {
        try await AsyncWebSocketClient.connect(
            Self.configuration(port: port, path: path, dialect: dialect, tls: tls, subprotocols: subprotocols, maxMessageSize: maxMessageSize))
    }

    /// A hixie-76 request head and key3 for `path` (Origin: same origin as Host), with the token the server must send.
    static func hixie76Request(port: Int, path: String, omitOrigin: Bool = false, subprotocol: String? = nil)
        -> (head: [UInt8], key3: [UInt8], token: [UInt8])
    {
        let (request, token) = Hixie76Handshake.clientRequest(
            host: "127.0.0.1:\(port)", path: path, origin: omitOrigin ? "" : "http://127.0.0.1:\(port)",
            subprotocol: subprotocol)
        var bytes = Array(request.readableBytesView)
        if omitOrigin {
            // Take the Origin line out again: the request must have none.
            var text = String(decoding: bytes.dropLast(8), as: UTF8.self)
            text = text.replacingOccurrences(of: "Origin: \r\n", with: "")
            bytes = Array(text.utf8) + bytes.suffix(8)
        }
        return (Array(bytes.dropLast(8)), Array(bytes.suffix(8)), token)
    }

    /// The head of a response (up to the blank line) as text, and the bytes after it.
    static func splitResponse(_ bytes: [UInt8]) -> (head: String, rest: [UInt8]) {
        let marker: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4, let end = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<($0 + 4)]) == marker }) else {
            return (String(decoding: bytes, as: UTF8.self), [])
        }
        return (String(decoding: bytes[..<end], as: UTF8.self), Array(bytes[(end + 4)...]))
    }

    /// The dev CA.
    static let caPath = repositoryRoot + "/certs-dev/ca.crt"

    /// A client TLS context that trusts the dev CA and checks the server's name.
    static func verifyingTLS() throws -> TLSContext {
        try TLSContext.client(trustedCAPath: Self.caPath, verifyPeer: true, alpn: ["http/1.1"])
    }

    /// A gateway YAML with one TLS listener (`plain:` as given) and one plain listener, plus `routes`.
    static func tlsYAML(routes: String, plain: String = "reject", limits: String = "", sni: Bool = false) -> String {
        var tls = "cert: certs-dev/server.crt, key: certs-dev/server.key, plain: \(plain)"
        if sni { tls += ", sni: [{ name: other.test, cert: certs-dev/other.crt, key: certs-dev/other.key }]" }
        var text = "listeners:\n  - bind: 127.0.0.1:0\n    tls: { \(tls) }\n  - bind: 127.0.0.1:0\n"
        if !limits.isEmpty { text += "limits:\n" + limits }
        return text + "routes:\n" + routes
    }

    /// Waits (bounded) until `condition` holds.
    static func waitUntil(timeout: TimeInterval = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }
}

/// A blocking TCP connection to 127.0.0.1 for byte-exact tests; every read has a deadline.
final class LegacyRawSocket {
    private let fd: Int32
    /// Everything received so far.
    private(set) var received: [UInt8] = []
    /// Whether the peer closed (or reset) the connection.
    private(set) var isClosed = false

    init(port: Int) throws {
        self.fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(self.fd >= 0, "socket() failed")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(self.fd)
            throw POSIXError(.ECONNREFUSED)
        }
        var one: Int32 = 1
        setsockopt(self.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit {
        close(self.fd)
    }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Foundation.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func send(_ text: String) {
        self.send(Array(text.utf8))
    }

    /// Sends each chunk with a pause between them (separate TCP segments).
    func send(chunks: [[UInt8]], pause: TimeInterval) {
        for (index, chunk) in chunks.enumerated() {
            if index > 0 { usleep(useconds_t(pause * 1_000_000)) }
            self.send(chunk)
        }
    }

    /// Reads until `condition(received)` holds, the peer closes, or `timeout` passes; returns `received`.
    @discardableResult
    func read(timeout: TimeInterval = 5, until condition: ([UInt8]) -> Bool) -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !condition(self.received), !self.isClosed {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { break }
            var descriptor = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(max(1, remaining * 1000)))
            guard ready > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 {
                self.isClosed = true
            } else {
                self.received.append(contentsOf: buffer[0..<count])
            }
        }
        return self.received
    }

    /// Reads at least `count` bytes in total (or until close or timeout).
    @discardableResult
    func read(count: Int, timeout: TimeInterval = 5) -> [UInt8] {
        self.read(timeout: timeout) { $0.count >= count }
    }

    /// Reads until the response head's blank line has arrived (plus `extra` bytes after it).
    @discardableResult
    func readHead(extra: Int = 0, timeout: TimeInterval = 5) -> (head: String, rest: [UInt8]) {
        self.read(timeout: timeout) { bytes in
            let (head, rest) = LegacyTestSupport.splitResponse(bytes)
            return head.utf8.count < bytes.count && rest.count >= extra
        }
        return LegacyTestSupport.splitResponse(self.received)
    }

    /// Waits for the peer to close; true if it did within `timeout`.
    func waitForClose(timeout: TimeInterval = 5) -> Bool {
        self.read(timeout: timeout) { _ in false }
        return self.isClosed
    }

    /// Forgets what was received so far.
    func clear() {
        self.received = []
    }
}

/// A child process that keeps running while a test talks to it (e.g. a node server), stopped by `stop()`.
final class LegacyBackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let output = Pipe()
    private let lock = NSLock()
    private var collected = Data()

    init(_ executable: String, _ arguments: [String]) throws {
        self.process.executableURL = URL(fileURLWithPath: executable)
        self.process.arguments = arguments
        self.process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
        self.process.standardOutput = self.output
        self.process.standardError = FileHandle.nullDevice
        self.output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            self.collected.append(data)
            self.lock.unlock()
        }
        try self.process.run()
    }

    /// Everything written to stdout so far.
    var stdout: String {
        self.lock.lock()
        defer { self.lock.unlock() }
        return String(decoding: self.collected, as: UTF8.self)
    }

    /// The first stdout line, waiting at most `timeout`.
    func firstLine(timeout: TimeInterval = 10) -> String? {
        var line: String?
        _ = LegacyTestSupport.waitUntil(timeout: timeout) {
            let text = self.stdout
            guard let newline = text.firstIndex(of: "\n") else { return false }
            line = String(text[..<newline])
            return true
        }
        return line
    }

    func stop() {
        self.output.fileHandleForReading.readabilityHandler = nil
        if self.process.isRunning {
            self.process.terminate()
            _ = LegacyTestSupport.waitUntil(timeout: 2) { !self.process.isRunning }
            if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
        }
        self.process.waitUntilExit()
    }
}

/// A one-shot fake WebSocket server that answers any request with `response`, to check that
/// `WebSocketClient` validates what it is told rather than trusting it.
final class LegacyCannedServer: @unchecked Sendable {
    let channel: Channel
    var port: Int { self.channel.localAddress!.port! }

    init(response: @escaping @Sendable (String) -> [UInt8]) throws {
        self.channel = try ServerBootstrap(group: LegacyTestSupport.clientGroup)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(LegacyCannedResponder(response: response))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    func stop() {
        try? self.channel.close().wait()
    }
}

private final class LegacyCannedResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var request = ""
    private var hasAnswered = false
    private let response: (String) -> [UInt8]

    init(response: @escaping (String) -> [UInt8]) {
        self.response = response
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.request += String(buffer: Self.unwrapInboundIn(data))
        guard !self.hasAnswered, self.request.contains("\r\n\r\n") else { return }
        self.hasAnswered = true
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(bytes: self.response(self.request))), promise: nil)
    }
}

extension String {
    /// The value of header `name` in an HTTP head (case-insensitive name), if present.
    func legacyHeader(_ name: String) -> String? {
        for line in self.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == name.lowercased() {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
