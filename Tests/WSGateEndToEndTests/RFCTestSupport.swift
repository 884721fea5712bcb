import Foundation
import NIOCore
import Testing
import WSGateWire

// Helpers for the RFC 6455, rooms and static HTTP end-to-end tests. Names start with `rfc`/`RFC`.

/// A blocking TCP client socket on loopback, for raw handshakes and frames. Every read has a deadline.
final class RFCSocket {
    let fd: Int32
    /// Bytes received but not consumed yet.
    private(set) var pending: [UInt8] = []
    /// Whether the peer has closed its side (recv returned 0 or an error other than a timeout).
    private(set) var peerClosed = false

    /// Connects; `receiveBuffer` sets SO_RCVBUF before connecting (a small window for slow consumers).
    init(port: Int, receiveBuffer: Int? = nil) throws {
        self.fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard self.fd >= 0 else { throw POSIXError(.EMFILE) }
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(self.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Foundation.close(self.fd)
            throw POSIXError(.ECONNREFUSED)
        }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)  // reads poll in 100 ms steps up to their own deadline
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Foundation.close(self.fd) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    func send(_ text: String) { self.send(Array(text.utf8)) }

    /// Reads once (at most 100 ms); false when nothing more can come.
    @discardableResult
    private func fill() -> Bool {
        if self.peerClosed { return false }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            self.pending += buffer[0..<n]
            return true
        }
        if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { self.peerClosed = true }
        return !self.peerClosed
    }

    /// Reads until `done(pending)` is true, the peer closes, or the deadline passes.
    func read(until done: ([UInt8]) -> Bool, timeout: TimeInterval = 5) {
        let deadline = Date().addingTimeInterval(timeout)
        while !done(self.pending) && Date() < deadline {
            if !self.fill() { break }
        }
    }

    /// Reads the HTTP response head (through the empty line), leaving what follows pending.
    func readResponseHead(timeout: TimeInterval = 5) -> RFCResponse? {
        self.read(until: { rfcHeadEnd($0) != nil }, timeout: timeout)
        guard let end = rfcHeadEnd(self.pending) else { return nil }
        let head = RFCResponse(Array(self.pending[0..<end]))
        self.pending.removeFirst(end)
        return head
    }

    /// Reads `count` complete frames (or fewer, if the peer closes or the deadline passes).
    func readFrames(_ count: Int, timeout: TimeInterval = 5) -> [RFCFrame] {
        self.read(until: { rfcParseFrames($0).frames.count >= count }, timeout: timeout)
        let (frames, used) = rfcParseFrames(self.pending, limit: count)
        self.pending.removeFirst(used)
        return frames
    }

    /// Reads everything until the peer closes; returns whether it did before the deadline.
    @discardableResult
    func readToEnd(timeout: TimeInterval = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !self.peerClosed && Date() < deadline { self.fill() }
        return self.peerClosed
    }

    /// Takes every pending byte.
    func takePending() -> [UInt8] {
        defer { self.pending = [] }
        return self.pending
    }
}

/// The offset just past the first empty line, if the head is complete.
func rfcHeadEnd(_ bytes: [UInt8]) -> Int? {
    guard bytes.count >= 4 else { return nil }
    for i in 3..<bytes.count where bytes[i] == 0x0A && bytes[i - 1] == 0x0D && bytes[i - 2] == 0x0A && bytes[i - 3] == 0x0D {
        return i + 1
    }
    return nil
}

/// An HTTP response as bytes came: status, headers (names lowercased), body.
struct RFCResponse {
    var status: Int
    var statusLine: String
    var headers: [String: String]
    var body: [UInt8]
    var bodyText: String { String(decoding: self.body, as: UTF8.self) }

    init(_ bytes: [UInt8]) {
        let end = rfcHeadEnd(bytes) ?? bytes.count
        let head = String(decoding: bytes[0..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        self.statusLine = lines.isEmpty ? "" : lines.removeFirst()
        let parts = self.statusLine.split(separator: " ")
        self.status = parts.count > 1 ? Int(parts[1]) ?? -1 : -1
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        self.headers = headers
        self.body = Array(bytes[end...])
    }
}

/// A frame from the server (unmasked).
struct RFCFrame: Equatable {
    var fin: Bool
    var opcode: UInt8
    var payload: [UInt8]
    var text: String { String(decoding: self.payload, as: UTF8.self) }
    /// The close code of a close frame.
    var closeCode: UInt16? {
        guard self.opcode == 0x8, self.payload.count >= 2 else { return nil }
        return UInt16(self.payload[0]) << 8 | UInt16(self.payload[1])
    }
}

/// Parses complete unmasked frames from the front of `bytes`; returns them and the bytes they used.
func rfcParseFrames(_ bytes: [UInt8], limit: Int = .max) -> (frames: [RFCFrame], used: Int) {
    var frames: [RFCFrame] = []
    var index = 0
    while frames.count < limit, bytes.count - index >= 2 {
        let b0 = bytes[index]
        let b1 = bytes[index + 1]
        var length = Int(b1 & 0x7F)
        var header = 2
        if length == 126 {
            guard bytes.count - index >= 4 else { break }
            length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            header = 4
        } else if length == 127 {
            guard bytes.count - index >= 10 else { break }
            length = (0..<8).reduce(0) { $0 << 8 | Int(bytes[index + 2 + $1]) }
            header = 10
        }
        if b1 & 0x80 != 0 { header += 4 }
        guard bytes.count - index >= header + length else { break }
        frames.append(RFCFrame(fin: b0 & 0x80 != 0, opcode: b0 & 0x0F, payload: Array(bytes[(index + header)..<(index + header + length)])))
        index += header + length
    }
    return (frames, index)
}

/// A masked client frame; `firstByte` overrides FIN/RSV/opcode for rule-breaking frames.
func rfcClientFrame(_ opcode: RFC6455FrameEncoder.Opcode, _ payload: [UInt8], fin: Bool = true, firstByte: UInt8? = nil) -> [UInt8] {
    var bytes = Array(
        RFC6455FrameEncoder.frame(opcode: opcode, payload: ByteBuffer(bytes: payload), fin: fin, maskingKey: (0x11, 0x22, 0x33, 0x44))
            .readableBytesView)
    if let firstByte { bytes[0] = firstByte }
    return bytes
}

func rfcClientFrame(_ opcode: RFC6455FrameEncoder.Opcode, _ text: String, fin: Bool = true) -> [UInt8] {
    rfcClientFrame(opcode, Array(text.utf8), fin: fin)
}

/// A masked close frame with a code and reason.
func rfcClientClose(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
    rfcClientFrame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)] + reason)
}

let rfcSampleKey = "dGhlIHNhbXBsZSBub25jZQ=="
let rfcSampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/// An RFC 6455 upgrade request. `headers` are extra lines without CRLF.
func rfcUpgradeRequest(path: String, port: Int, version: String = "13", key: String = rfcSampleKey, headers: [String] = []) -> String {
    var text = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    text += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: \(version)\r\n"
    for header in headers { text += header + "\r\n" }
    return text + "\r\n"
}

/// Opens an RFC 6455 connection with a raw socket and checks the 101.
func rfcOpenWebSocket(port: Int, path: String, receiveBuffer: Int? = nil, headers: [String] = []) throws -> RFCSocket {
    let socket = try RFCSocket(port: port, receiveBuffer: receiveBuffer)
    socket.send(rfcUpgradeRequest(path: path, port: port, headers: headers))
    let head = try #require(socket.readResponseHead())
    try #require(head.status == 101, "expected 101, got \(head.statusLine)")
    return socket
}

/// Sends bytes and collects the answer until the server closes (or the deadline).
func rfcExchange(port: Int, _ bytes: [UInt8], timeout: TimeInterval = 5) throws -> (bytes: [UInt8], closed: Bool) {
    let socket = try RFCSocket(port: port)
    socket.send(bytes)
    let closed = socket.readToEnd(timeout: timeout)
    return (socket.takePending(), closed)
}

/// Polls `condition` until true or the deadline; returns its last value.
func rfcWait(timeout: TimeInterval = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Common lines for the python websockets (10.4) scripts: PORT and URL from argv.
let rfcPythonPrelude = """
    import asyncio, json, sys
    import websockets
    PORT = int(sys.argv[1])
    URL = "ws://127.0.0.1:%d" % PORT

    """

/// Runs a python script (after the prelude) against `port`; records stderr when it fails.
func rfcPython(_ body: String, port: Int, timeout: TimeInterval = 20) throws -> [String] {
    let result = try runPython(rfcPythonPrelude + body, [String(port)], timeout: timeout)
    if result.status != 0 { Issue.record("python exited \(result.status): \(result.stderr)") }
    return result.stdout.split(separator: "\n").map(String.init)
}

/// A temporary static root: index.html, a.txt, style.css, data.bin, sub/index.html, empty/,
/// and `passwd` -> /etc/passwd, `etc` -> /etc (symlinks leaving the root).
final class RFCStaticFolder {
    let path: String

    init() throws {
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("wsgate-e2e-static-\(UUID().uuidString)").path
        try fm.createDirectory(atPath: base + "/sub", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: base + "/empty", withIntermediateDirectories: true)
        try "<!doctype html><title>root</title>".write(toFile: base + "/index.html", atomically: true, encoding: .utf8)
        try "hello, static\n".write(toFile: base + "/a.txt", atomically: true, encoding: .utf8)
        try "body { color: red }".write(toFile: base + "/style.css", atomically: true, encoding: .utf8)
        try Data((0..<256).map { UInt8($0) }).write(to: URL(fileURLWithPath: base + "/data.bin"))
        try "<!doctype html><title>sub</title>".write(toFile: base + "/sub/index.html", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: base + "/passwd", withDestinationPath: "/etc/passwd")
        try fm.createSymbolicLink(atPath: base + "/etc", withDestinationPath: "/etc")
        self.path = base
    }

    deinit { try? FileManager.default.removeItem(atPath: self.path) }
}
