/// Incremental UTF-8 validation (RFC 3629), fed chunk by chunk, failing on the first bad byte.
///
/// Used for RFC 6455 text messages across fragment boundaries (section 8.1: fail fast) and for close
/// reasons. A DFA in the style of Bjoern Hoehrmann's decoder, with an ASCII fast path that checks
/// eight bytes at a time.
public struct UTF8Validator: Sendable {
    /// Bytes still expected to complete the current sequence; 0 between characters.
    private var remaining: UInt8 = 0
    /// The allowed range of the next continuation byte (narrowed after E0, ED, F0, F4).
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    public init() {}

    /// Whether the bytes so far end on a character boundary.
    public var isComplete: Bool { self.remaining == 0 }

    /// Validates the next chunk; returns `false` at the first byte that can never be valid UTF-8.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            if self.remaining == 0 {
                // ASCII fast path: eight bytes at a time while no high bit is set.
                while index + 8 <= count {
                    let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    if word & 0x8080_8080_8080_8080 != 0 { break }
                    index += 8
                }
                if index >= count { break }
            }
            let byte = bytes[index]
            index += 1
            if self.remaining == 0 {
                switch byte {
                case 0x00...0x7F: continue
                case 0xC2...0xDF: self.remaining = 1; self.lower = 0x80; self.upper = 0xBF
                case 0xE0: self.remaining = 2; self.lower = 0xA0; self.upper = 0xBF
                case 0xE1...0xEC, 0xEE...0xEF: self.remaining = 2; self.lower = 0x80; self.upper = 0xBF
                case 0xED: self.remaining = 2; self.lower = 0x80; self.upper = 0x9F
                case 0xF0: self.remaining = 3; self.lower = 0x90; self.upper = 0xBF
                case 0xF1...0xF3: self.remaining = 3; self.lower = 0x80; self.upper = 0xBF
                case 0xF4: self.remaining = 3; self.lower = 0x80; self.upper = 0x8F
                default: return false
                }
            } else {
                guard byte >= self.lower && byte <= self.upper else { return false }
                self.remaining -= 1
                self.lower = 0x80
                self.upper = 0xBF
            }
        }
        return true
    }

    /// Validates the next chunk of bytes.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> Bool {
        let array = Array(bytes)
        return array.withUnsafeBytes { self.feed($0) }
    }

    /// Whether `bytes` is one complete, valid UTF-8 text.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var validator = UTF8Validator()
        return validator.feed(bytes) && validator.isComplete
    }
}
