import NIOCore

/// Reads hixie-75 and hixie-76 frames from bytes that arrive in pieces of any size.
///
/// Implements the server's reading rules of draft-hixie-thewebsocketprotocol-76 section 5.3
/// (draft-75 section 4.2 for hixie-75), with wsgate's limits (docs/SPEC.md "Frames and messages"):
/// - `0x00`: a text frame up to the next `0xFF`; the payload must be UTF-8 (else `invalidUTF8`), and
///   a `0xFF` must come within `maxMessageSize` payload bytes (else `frameTooLarge`).
/// - `0x01`–`0x7F`: read up to the next `0xFF` and discard, under the same limit.
/// - high bit set: a base-128 length (7 bits a byte, high bit = more bytes follow), then that many
///   bytes, discarded as they arrive, never buffered. A length over `maxMessageSize` is refused
///   (`frameTooLarge`) as soon as the length bytes read so far prove it.
/// - In hixie-76 only, type `0xFF` with length 0 (that is, `0xFF 0x00`) is the closing handshake and
///   returns `.close`; in hixie-75 it is an empty frame, discarded.
///
/// Each byte is scanned once: the scan offset lives in the state. It does not enforce anything
/// after `.close`: the caller stops reading (or may go on calling `next(from:)`).
public struct HixieFrameParser: Sendable {
    /// A frame that the caller must act on.
    public enum Frame: Equatable, Sendable {
        /// A text frame; the payload is valid UTF-8 (a slice of the input, without the `0x00`/`0xFF`).
        case text(ByteBuffer)
        /// The hixie-76 closing handshake (`0xFF 0x00`).
        case close
    }

    private enum State: Sendable {
        /// Between frames: the next byte is a frame type.
        case idle
        /// In a `0x00` frame; the first `scanned` readable bytes hold no `0xFF`.
        case readingText(scanned: Int)
        /// In a `0x01`–`0x7F` frame; `discarded` bytes without `0xFF` are already consumed.
        case discardingText(discarded: Int)
        /// Reading the length of a frame whose type byte has the high bit set.
        case readingLength(type: UInt8, length: Int)
        /// Skipping the body of a length-prefixed frame.
        case discardingBytes(remaining: Int)
    }

    private var state: State = .idle
    /// The dialect whose rules apply.
    public let dialect: HixieDialect
    /// The largest frame payload accepted, in bytes.
    public let maxMessageSize: Int

    /// A parser for `dialect` that refuses payloads over `maxMessageSize` bytes (at least 0).
    public init(dialect: HixieDialect, maxMessageSize: Int) {
        precondition(maxMessageSize >= 0, "maxMessageSize must not be negative")
        self.dialect = dialect
        self.maxMessageSize = maxMessageSize
    }

    /// Consumes bytes from `buffer` and returns the next frame, or `nil` when more bytes are needed.
    /// Discarded frames are consumed silently. Bytes of an unfinished text frame stay in `buffer`.
    public mutating func next(from buffer: inout ByteBuffer) throws(WireError) -> Frame? {
        while true {
            switch self.state {
            case .idle:
                guard let type = buffer.readInteger(as: UInt8.self) else { return nil }
                switch type {
                case 0x00: self.state = .readingText(scanned: 0)
                case 0x01...0x7F: self.state = .discardingText(discarded: 0)
                default: self.state = .readingLength(type: type, length: 0)
                }

            case .readingText(let scanned):
                let view = buffer.readableBytesView
                let window = view.dropFirst(scanned).prefix(self.scanWindow(alreadyScanned: scanned))
                guard let end = window.firstIndex(of: 0xFF) else {
                    guard view.count <= self.maxMessageSize else { throw .frameTooLarge(limit: self.maxMessageSize) }
                    self.state = .readingText(scanned: view.count)
                    return nil
                }
                guard Self.isValidUTF8(view[view.startIndex..<end]) else { throw .invalidUTF8 }
                let payload = buffer.readSlice(length: end - view.startIndex)!  // bounds found above
                buffer.moveReaderIndex(forwardBy: 1)  // the 0xFF terminator
                self.state = .idle
                return .text(payload)

            case .discardingText(let discarded):
                let view = buffer.readableBytesView
                if let end = view.prefix(self.scanWindow(alreadyScanned: discarded)).firstIndex(of: 0xFF) {
                    buffer.moveReaderIndex(forwardBy: end - view.startIndex + 1)
                    self.state = .idle
                    continue
                }
                guard view.count <= self.maxMessageSize - discarded else {
                    throw .frameTooLarge(limit: self.maxMessageSize)
                }
                buffer.moveReaderIndex(forwardBy: view.count)
                self.state = .discardingText(discarded: discarded + view.count)
                return nil

            case .readingLength(let type, let length):
                guard let byte = buffer.readInteger(as: UInt8.self) else { return nil }
                let (shifted, overflow1) = length.multipliedReportingOverflow(by: 128)
                let (newLength, overflow2) = shifted.addingReportingOverflow(Int(byte & 0x7F))
                guard !overflow1, !overflow2, newLength <= self.maxMessageSize else {
                    throw .frameTooLarge(limit: self.maxMessageSize)
                }
                if byte & 0x80 != 0 {
                    // More length bytes follow, so the length will be at least newLength * 128.
                    guard newLength <= self.maxMessageSize / 128 else {
                        throw .frameTooLarge(limit: self.maxMessageSize)
                    }
                    self.state = .readingLength(type: type, length: newLength)
                } else if self.dialect == .hixie76, type == 0xFF, newLength == 0 {
                    self.state = .idle
                    return .close
                } else {
                    self.state = .discardingBytes(remaining: newLength)
                }

            case .discardingBytes(let remaining):
                guard remaining > 0 else {
                    self.state = .idle
                    continue
                }
                let count = min(remaining, buffer.readableBytes)
                guard count > 0 else { return nil }
                buffer.moveReaderIndex(forwardBy: count)
                self.state = .discardingBytes(remaining: remaining - count)
            }
        }
    }

    /// How many more bytes to scan for a `0xFF`: up to one past the limit, so that a frame of
    /// exactly `maxMessageSize` bytes is accepted and one byte more is seen as too large.
    private func scanWindow(alreadyScanned scanned: Int) -> Int {
        let room = self.maxMessageSize - scanned
        return room == .max ? room : room + 1
    }

    /// Whether `bytes` are well-formed UTF-8 (no overlong forms, surrogates, or scalars past U+10FFFF).
    static func isValidUTF8(_ bytes: some Sequence<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = Unicode.UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
