import NIOCore

/// One value of the Redis serialization protocol, RESP2 or RESP3, as the server sends it.
///
/// RESP2 has five types (simple string, error, integer, bulk string, array; the last two can be null).
/// RESP3 adds the null, boolean, double, big number, bulk error, verbatim string, map, set and push
/// types, and attributes: auxiliary key-value data sent before a reply (`RESPParser` drops them, or
/// attaches them as `.attribute`). Bulk payloads are `ByteBuffer` slices, never copied by the parser.
///
/// Equality is structural, except that two `.double(.nan)` are equal (so parsed values compare in tests).
public enum RESPValue: Sendable {
    /// `+OK\r\n`: a short, binary-unsafe string (no CR or LF).
    case simpleString(String)
    /// `-ERR message\r\n`: an error reply; `error` gives it as a typed `RESPError`.
    case simpleError(String)
    /// `:1000\r\n`: a signed 64-bit integer.
    case integer(Int64)
    /// `$5\r\nhello\r\n`: a binary-safe string; `nil` for the RESP2 null bulk string `$-1\r\n`.
    case bulkString(ByteBuffer?)
    /// `*2\r\n…`: an ordered list of values; `nil` for the RESP2 null array `*-1\r\n`.
    case array([RESPValue]?)
    /// RESP3 `_\r\n`: the null value.
    case null
    /// RESP3 `#t\r\n` / `#f\r\n`.
    case boolean(Bool)
    /// RESP3 `,3.14\r\n` (also `inf`, `-inf`, `nan`).
    case double(Double)
    /// RESP3 `(3492890328409238509324850943850943825024385\r\n`: an integer of any size, as its decimal text
    /// (an optional `-` and digits; a leading `+` is dropped).
    case bigNumber(String)
    /// RESP3 `!21\r\nSYNTAX invalid syntax\r\n`: a binary-safe error; `error` gives it as a typed `RESPError`.
    case bulkError(ByteBuffer)
    /// RESP3 `=15\r\ntxt:Some string\r\n`: a string with a three-character format (`txt`, `mkd`).
    case verbatimString(format: String, text: ByteBuffer)
    /// RESP3 `%2\r\n…`: key-value pairs, in the order received (keys may be any value, and may repeat).
    case map([RESPPair])
    /// RESP3 `~3\r\n…`: an unordered collection, kept in the order received.
    case set([RESPValue])
    /// RESP3 `|1\r\n…`: attributes (key-value pairs) and the reply they were sent with; only produced by a
    /// parser configured with `.attach` (otherwise the parser returns the reply alone).
    indirect case attribute([RESPPair], RESPValue)
    /// RESP3 `>3\r\n…`: an out-of-band message (pub/sub message, client-side-caching invalidation) that
    /// answers no command.
    case push([RESPValue])
}

/// A key-value pair of a RESP3 map or attribute.
public struct RESPPair: Sendable, Equatable {
    /// The key (often a bulk or simple string, but any value is allowed).
    public var key: RESPValue
    /// The value.
    public var value: RESPValue

    /// A pair.
    public init(key: RESPValue, value: RESPValue) {
        self.key = key
        self.value = value
    }
}

extension RESPValue: Equatable {
    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case (.simpleString(let a), .simpleString(let b)): return a == b
        case (.simpleError(let a), .simpleError(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.bulkString(let a), .bulkString(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.null, .null): return true
        case (.boolean(let a), .boolean(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.bigNumber(let a), .bigNumber(let b)): return a == b
        case (.bulkError(let a), .bulkError(let b)): return a == b
        case (.verbatimString(let f1, let t1), .verbatimString(let f2, let t2)): return f1 == f2 && t1 == t2
        case (.map(let a), .map(let b)): return a == b
        case (.set(let a), .set(let b)): return a == b
        case (.attribute(let a1, let v1), .attribute(let a2, let v2)): return a1 == a2 && v1 == v2
        case (.push(let a), .push(let b)): return a == b
        default: return false
        }
    }
}

// MARK: - Helpers

extension RESPValue {
    /// Convenience: a bulk string holding the UTF-8 bytes of `string`.
    public static func bulkString(_ string: String) -> RESPValue {
        .bulkString(ByteBuffer(string: string))
    }

    /// The reply without its attributes (the value itself for every case but `.attribute`).
    public var withoutAttributes: RESPValue {
        if case .attribute(_, let value) = self { return value.withoutAttributes }
        return self
    }

    /// The text of a simple string, bulk string or verbatim string (decoded as UTF-8, invalid bytes
    /// replaced); `nil` for every other case, null included.
    public var string: String? {
        switch self.withoutAttributes {
        case .simpleString(let string): return string
        case .bulkString(let buffer?): return String(buffer: buffer)
        case .verbatimString(_, let text): return String(buffer: text)
        default: return nil
        }
    }

    /// The bytes of a bulk string or verbatim string's text, or a simple string's UTF-8; `nil` otherwise.
    public var bytes: ByteBuffer? {
        switch self.withoutAttributes {
        case .bulkString(let buffer?): return buffer
        case .verbatimString(_, let text): return text
        case .simpleString(let string): return ByteBuffer(string: string)
        default: return nil
        }
    }

    /// An integer reply, or a simple or bulk string holding a decimal integer (Redis answers numbers
    /// that way in places, e.g. `CONFIG GET`); `nil` otherwise.
    public var int: Int? {
        switch self.withoutAttributes {
        case .integer(let value): return Int(exactly: value)
        case .simpleString, .bulkString: return self.string.flatMap { Int($0) }
        default: return nil
        }
    }

    /// A double reply, an integer, or a string holding a number (`INCRBYFLOAT` answers a bulk string).
    public var double: Double? {
        switch self.withoutAttributes {
        case .double(let value): return value
        case .integer(let value): return Double(value)
        case .simpleString, .bulkString: return self.string.flatMap { Double($0) }
        default: return nil
        }
    }

    /// A boolean reply, or an integer 0 or 1 (the RESP2 form, e.g. `EXISTS`, `SISMEMBER`).
    public var bool: Bool? {
        switch self.withoutAttributes {
        case .boolean(let value): return value
        case .integer(0): return false
        case .integer(1): return true
        default: return nil
        }
    }

    /// The elements of an array, set or push; `nil` for other cases and for the null array.
    public var array: [RESPValue]? {
        switch self.withoutAttributes {
        case .array(let elements?): return elements
        case .set(let elements): return elements
        case .push(let elements): return elements
        default: return nil
        }
    }

    /// The pairs of a RESP3 map, or of a RESP2 array of even length read as key, value, key, value
    /// (the RESP2 form of `HGETALL`, `CONFIG GET`, `HELLO`); `nil` otherwise.
    public var map: [RESPPair]? {
        switch self.withoutAttributes {
        case .map(let pairs):
            return pairs
        case .array(let elements?) where elements.count % 2 == 0:
            return stride(from: 0, to: elements.count, by: 2).map { RESPPair(key: elements[$0], value: elements[$0 + 1]) }
        default:
            return nil
        }
    }

    /// True for the RESP3 null, the null bulk string and the null array.
    public var isNull: Bool {
        switch self.withoutAttributes {
        case .null, .bulkString(nil), .array(nil): return true
        default: return false
        }
    }

    /// True for a simple error or a bulk error.
    public var isError: Bool { self.error != nil }

    /// A simple or bulk error as a typed `RESPError`; `nil` for every other case.
    public var error: RESPError? {
        switch self.withoutAttributes {
        case .simpleError(let message): return RESPError(message)
        case .bulkError(let buffer): return RESPError(String(buffer: buffer))
        default: return nil
        }
    }
}

extension RESPValue: CustomStringConvertible {
    /// A readable rendering for logs and test failures (strings quoted, bulk strings as UTF-8).
    public var description: String {
        switch self {
        case .simpleString(let string): return "+\(string)"
        case .simpleError(let message): return "-\(message)"
        case .integer(let value): return ":\(value)"
        case .bulkString(let buffer?): return "\"\(String(buffer: buffer))\""
        case .bulkString(nil): return "(null bulk)"
        case .array(let elements?): return "[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .array(nil): return "(null array)"
        case .null: return "(null)"
        case .boolean(let value): return value ? "#t" : "#f"
        case .double(let value): return ",\(value)"
        case .bigNumber(let digits): return "(\(digits)"
        case .bulkError(let buffer): return "!\(String(buffer: buffer))"
        case .verbatimString(let format, let text): return "=\(format):\(String(buffer: text))"
        case .map(let pairs): return "%{" + pairs.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .set(let elements): return "~{" + elements.map(\.description).joined(separator: ", ") + "}"
        case .attribute(let pairs, let value):
            return "|{" + pairs.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "} \(value)"
        case .push(let elements): return ">[" + elements.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
