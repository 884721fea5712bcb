import NIOCore

/// Client side: reads a server's answer to a hixie-75 or hixie-76 opening handshake, from bytes
/// fed in pieces of any size.
///
/// Implements the checks of draft-hixie-76 section 4.1 (and draft-hixie-75 section 3.1) that need
/// no knowledge of the request: the status code is 101, `Upgrade` is `WebSocket` and `Connection`
/// is `Upgrade` (both compared case-insensitively), and for hixie-76 the 16 bytes after the head
/// equal the expected token. It does **not** check `Sec-WebSocket-Origin`/`-Location`/`-Protocol`
/// (or the hixie-75 equivalents): the caller reads them from `headers`. The head is limited to
/// `maxHeadSize` bytes; lines must end with CRLF.
public struct HixieClientHandshakeParser: Sendable {
    /// What one call to `feed(_:)` found.
    public enum Result: Sendable {
        /// The answer is not complete yet: feed more bytes.
        case needMoreData
        /// The answer was read and checked. `headers` are in the order sent, names as sent;
        /// `leftover` holds the bytes that followed (the first frames).
        case complete(headers: [(name: String, value: String)], leftover: ByteBuffer)
    }

    private enum State: Sendable {
        case readingHead(scanned: Int)
        case readingToken(headers: [(name: String, value: String)])
        case complete(headers: [(name: String, value: String)])
    }

    /// The largest head, in bytes, including the blank line, that the parser accepts.
    public static let maxHeadSize = 16 * 1024

    private let dialect: HixieDialect
    private let expectedToken: [UInt8]?
    private var state: State = .readingHead(scanned: 0)
    private var received = ByteBuffer()

    /// A parser for `dialect`. For hixie-76, `expectedToken` is the 16 bytes returned by
    /// `Hixie76Handshake.clientRequest` (with `nil`, every token is refused); for hixie-75 it is ignored.
    public init(dialect: HixieDialect, expectedToken: [UInt8]?) {
        self.dialect = dialect
        self.expectedToken = expectedToken
    }

    /// Takes every readable byte of `buffer` and returns `.complete` once the answer is read and
    /// checked, `.needMoreData` before. After `.complete`, further bytes are handed back as leftover.
    ///
    /// Throws `handshakeResponseMismatch` for a status other than 101, a wrong `Upgrade` or
    /// `Connection`, or a wrong token; `malformedHeader` for a line that is not `name: value`;
    /// `headTooLarge` when no blank line comes within `maxHeadSize` bytes.
    public mutating func feed(_ buffer: inout ByteBuffer) throws(WireError) -> Result {
        self.received.writeBuffer(&buffer)
        while true {
            switch self.state {
            case .readingHead(let scanned):
                let view = self.received.readableBytesView
                let start = max(0, scanned - 3)  // a CRLF CRLF may straddle the bytes already scanned
                let window = view.dropFirst(start).prefix(max(0, Self.maxHeadSize - start))
                guard let end = Self.firstBlankLine(in: window) else {
                    guard view.count < Self.maxHeadSize else { throw .headTooLarge(limit: Self.maxHeadSize) }
                    self.state = .readingHead(scanned: view.count)
                    return .needMoreData
                }
                let headLength = end - view.startIndex
                guard headLength <= Self.maxHeadSize else { throw .headTooLarge(limit: Self.maxHeadSize) }
                let headers = try Self.parseHead(view[view.startIndex..<(end - 4)])
                self.received.moveReaderIndex(forwardBy: headLength)
                switch self.dialect {
                case .hixie75: self.state = .complete(headers: headers)
                case .hixie76: self.state = .readingToken(headers: headers)
                }
            case .readingToken(let headers):
                guard let token = self.received.readBytes(length: 16) else { return .needMoreData }
                guard token == self.expectedToken else { throw .handshakeResponseMismatch(reason: "wrong token") }
                self.state = .complete(headers: headers)
            case .complete(let headers):
                let leftover = self.received
                self.received = ByteBuffer()
                return .complete(headers: headers, leftover: leftover)
            }
        }
    }

    /// The index just past the first CRLF CRLF in `bytes`, if any.
    private static func firstBlankLine(in bytes: ByteBufferView.SubSequence) -> Int? {
        var index = bytes.startIndex
        while let cr = bytes[index...].firstIndex(of: UInt8(ascii: "\r")) {
            let end = cr + 4
            guard end <= bytes.endIndex else { return nil }
            if bytes[cr + 1] == UInt8(ascii: "\n"), bytes[cr + 2] == UInt8(ascii: "\r"),
                bytes[cr + 3] == UInt8(ascii: "\n")
            {
                return end
            }
            index = cr + 1
        }
        return nil
    }

    /// Checks the status line and the upgrade headers of `head` (no blank line) and returns its headers.
    private static func parseHead(
        _ head: ByteBufferView.SubSequence
    ) throws(WireError) -> [(name: String, value: String)] {
        let text = String(decoding: head, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        let statusLine = lines.popFirst() ?? ""
        let fields = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/1.") else {
            throw .handshakeResponseMismatch(reason: "malformed status line")
        }
        guard fields[1] == "101" else {
            throw .handshakeResponseMismatch(reason: "status \(fields[1].prefix(3)), not 101")
        }
        var headers: [(name: String, value: String)] = []
        for (number, line) in lines.enumerated() {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw .malformedHeader(line: number + 1)
            }
            let value = line[line.index(after: colon)...].trimmingSpaces()
            headers.append((name: String(line[..<colon]), value: value))
        }
        for (name, expected) in [("Upgrade", "websocket"), ("Connection", "upgrade")] {
            let value = headers.first { $0.name.lowercased() == name.lowercased() }?.value
            guard value?.lowercased() == expected else {
                throw .handshakeResponseMismatch(reason: "\(name) is not \(expected)")
            }
        }
        return headers
    }
}

extension Substring {
    /// The text without leading and trailing spaces and horizontal tabs.
    fileprivate func trimmingSpaces() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = self.firstIndex(where: { !isBlank($0) }) else { return "" }
        let last = self.lastIndex(where: { !isBlank($0) })!  // a non-blank character exists
        return String(self[first...last])
    }
}
