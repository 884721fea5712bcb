import NIOCore

/// A server's answer to an opening handshake, read incrementally: the status line, the headers,
/// and for hixie-76 the 16 token bytes after the blank line.
///
/// Reads at most `maxHeadSize` bytes of head; lines end with CRLF. It does not judge the answer:
/// the client that sent the request does (WSGateClient's `ClientHandshakeRequest`, the gateway's
/// WebSocket upstreams). Shared by both, so it lives with the other wire formats.
public struct ClientHandshakeResponse: Sendable {
    /// The status line, e.g. `HTTP/1.1 101 Switching Protocols`.
    public var statusLine: String
    /// The status code (0 when the status line has none).
    public var status: Int
    /// The headers, in the order sent, names as sent.
    public var headers: [(name: String, value: String)]
    /// hixie-76: the 16 bytes after the head.
    public var token: [UInt8]?
    /// A refusal's body, as far as it had arrived (for error messages).
    public var body: String = ""

    public init(statusLine: String, status: Int, headers: [(name: String, value: String)], token: [UInt8]? = nil, body: String = "") {
        self.statusLine = statusLine
        self.status = status
        self.headers = headers
        self.token = token
        self.body = body
    }

    /// The first value of `name`, compared case-insensitively.
    public func first(_ name: String) -> String? {
        let lower = name.lowercased()
        return self.headers.first { $0.name.lowercased() == lower }?.value
    }

    /// Every `name` header as one list (RFC 7230 section 3.2.2: several lines are one
    /// comma-separated value); nil when there is none or it holds nothing but separators.
    public func list(_ name: String) -> String? {
        let lower = name.lowercased()
        let value = self.headers.filter { $0.name.lowercased() == lower }.map(\.value).joined(separator: ", ")
        return value.contains(where: { $0 != " " && $0 != "\t" && $0 != "," }) ? value : nil
    }

    /// The comma-separated tokens of every `name` header, trimmed and lowercased.
    public func tokens(_ name: String) -> [String] {
        let lower = name.lowercased()
        return self.headers.filter { $0.name.lowercased() == lower }.flatMap {
            $0.value.split(separator: ",").map { $0.trimmingBlanks().lowercased() }
        }
    }
}

/// The incremental reader of a `ClientHandshakeResponse`.
public struct ClientHandshakeResponseParser: Sendable {
    public static let maxHeadSize = 16 * 1024

    private var received = ByteBuffer()
    private var head: ClientHandshakeResponse?
    private var scanned = 0
    private let tokenLength: Int

    /// `tokenLength`: the bytes that follow the head of a 101 (16 for hixie-76, else 0).
    public init(tokenLength: Int) {
        self.tokenLength = tokenLength
    }

    /// Appends `bytes`; returns the response and the bytes after it once complete.
    public mutating func feed(_ bytes: inout ByteBuffer) throws(WireError) -> (ClientHandshakeResponse, leftover: ByteBuffer)? {
        self.received.writeBuffer(&bytes)
        if self.head == nil {
            let view = self.received.readableBytesView
            let start = view.startIndex + max(0, self.scanned - 3)
            var end: Int? = nil
            var index = start
            while index + 3 < view.endIndex {
                if view[index] == 13, view[index + 1] == 10, view[index + 2] == 13, view[index + 3] == 10 {
                    end = index
                    break
                }
                index += 1
            }
            guard let end else {
                guard view.count < Self.maxHeadSize else { throw .headTooLarge(limit: Self.maxHeadSize) }
                self.scanned = view.count
                return nil
            }
            let text = String(decoding: view[view.startIndex..<end], as: UTF8.self)
            self.received.moveReaderIndex(forwardBy: end - view.startIndex + 4)
            self.head = try Self.parseHead(text)
        }
        guard var head = self.head else { return nil }
        if head.status == 101 && self.tokenLength > 0 {
            guard let token = self.received.readBytes(length: self.tokenLength) else { return nil }
            head.token = token
        }
        let leftover = self.received
        self.received = ByteBuffer()
        return (head, leftover)
    }

    /// The body bytes received after a refusal's head, as text.
    public var pendingText: String { String(buffer: self.received) }

    private static func parseHead(_ text: String) throws(WireError) -> ClientHandshakeResponse {
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        let statusLine = String(lines.popFirst() ?? "")
        let fields = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/1."), let status = Int(fields[1]) else {
            throw .handshakeResponseMismatch(reason: "malformed status line '\(statusLine.prefix(80))'")
        }
        var headers: [(name: String, value: String)] = []
        for (number, line) in lines.enumerated() {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw .malformedHeader(line: number + 1)
            }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingBlanks()))
        }
        return ClientHandshakeResponse(statusLine: statusLine, status: status, headers: headers, token: nil)
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate func trimmingBlanks() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = self.firstIndex(where: { !isBlank($0) }) else { return "" }
        let last = self.lastIndex(where: { !isBlank($0) })!  // a non-blank character exists
        return String(self[first...last])
    }
}
