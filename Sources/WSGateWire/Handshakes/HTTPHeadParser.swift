import NIOCore

/// Incremental parser of an HTTP/1.x request head (RFC 9112 sections 2–5), bounded in size.
///
/// It consumes exactly the head (up to and including the blank line) and leaves every byte after
/// it in the buffer: hixie-76's 8 key bytes and early WebSocket frames are not lost.
/// Accepts CRLF and bare LF line endings. Does not enforce: a `Host` header, obsolete line folding
/// (refused as malformed), request bodies (none are read).
public struct HTTPHeadParser: Sendable {
    /// The default bound of a head: 16 KiB, past which the answer is 431.
    public static let defaultMaxHeadSize = 16 * 1024

    private enum State: Sendable { case scanning(scanned: Int), done }
    private var state: State = .scanning(scanned: 0)
    /// The largest head accepted, in bytes.
    public let maxHeadSize: Int

    public init(maxHeadSize: Int = HTTPHeadParser.defaultMaxHeadSize) {
        self.maxHeadSize = maxHeadSize
    }

    /// Returns the head once it is complete (consuming it), or `nil` when more bytes are needed.
    public mutating func next(from buffer: inout ByteBuffer) throws(WireError) -> HTTPRequestHead? {
        guard case .scanning(let scanned) = self.state else { return nil }
        let view = buffer.readableBytesView
        var index = view.startIndex + max(0, scanned - 3)
        var endOfHead: Int? = nil
        while index < view.endIndex {
            if view[index] == 0x0A {  // LF: is it the end of an empty line?
                let offset = index - view.startIndex
                if offset >= 1, view[index - 1] == 0x0A {
                    endOfHead = offset + 1
                    break
                }
                if offset >= 2, view[index - 1] == 0x0D, view[index - 2] == 0x0A {
                    endOfHead = offset + 1
                    break
                }
            }
            index += 1
        }
        guard let length = endOfHead else {
            if buffer.readableBytes > self.maxHeadSize { throw .headTooLarge(limit: self.maxHeadSize) }
            self.state = .scanning(scanned: buffer.readableBytes)
            return nil
        }
        if length > self.maxHeadSize { throw .headTooLarge(limit: self.maxHeadSize) }
        let bytes = buffer.readBytes(length: length)!  // length is within the readable bytes found above
        self.state = .done
        return try Self.parse(bytes)
    }

    /// Parses a complete head (ending with an empty line).
    static func parse(_ bytes: [UInt8]) throws(WireError) -> HTTPRequestHead {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for i in 0..<bytes.count where bytes[i] == 0x0A {
            var end = i
            if end > start, bytes[end - 1] == 0x0D { end -= 1 }
            lines.append(bytes[start..<end])
            start = i + 1
        }
        guard let requestLine = lines.first, !requestLine.isEmpty else { throw .malformedRequestLine }
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty,
            parts[0].allSatisfy(Self.isTokenByte), parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw .malformedRequestLine }
        let version = Array(parts[2])
        guard version.count == 8, version.starts(with: Array("HTTP/1.".utf8)) else {
            if version.starts(with: Array("HTTP/".utf8)) { throw .unsupportedHTTPVersion }
            throw .malformedRequestLine
        }
        let minor: Int
        switch version[7] {
        case UInt8(ascii: "0"): minor = 0
        case UInt8(ascii: "1"): minor = 1
        default: throw .unsupportedHTTPVersion
        }
        var headers: [(name: String, value: String)] = []
        for (number, line) in lines.dropFirst().enumerated() where !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                line[line.startIndex..<colon].allSatisfy(Self.isTokenByte)
            else { throw .malformedHeader(line: number + 1) }
            let valueBytes = line[(colon + 1)...]
            guard valueBytes.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw .malformedHeader(line: number + 1)
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let value = String(decoding: valueBytes, as: UTF8.self).trimmingASCIIWhitespace()
            headers.append((name, value))
        }
        return HTTPRequestHead(
            method: String(decoding: parts[0], as: UTF8.self),
            target: String(decoding: parts[1], as: UTF8.self),
            minorVersion: minor,
            headers: headers
        )
    }

    /// RFC 9110 section 5.6.2 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
