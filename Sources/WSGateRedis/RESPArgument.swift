import NIOCore

/// One argument of a Redis command, sent as a bulk string: text, bytes or an integer (in decimal).
///
/// Literals work, so a command reads `["SET", "key", 42]`. A command is `[RESPArgument]`, its name first.
public struct RESPArgument: Sendable, Hashable {
    enum Storage: Sendable, Hashable {
        case string(String)
        case buffer(ByteBuffer)
        case bytes([UInt8])
        case integer(Int)
    }

    let storage: Storage

    /// The UTF-8 bytes of `string`.
    public init(_ string: String) { storage = .string(string) }
    /// The readable bytes of `buffer`.
    public init(_ buffer: ByteBuffer) { storage = .buffer(buffer) }
    /// The bytes of `bytes`.
    public init(_ bytes: [UInt8]) { storage = .bytes(bytes) }
    /// The decimal text of `integer` (what Redis expects for counts, TTLs, increments).
    public init(_ integer: Int) { storage = .integer(integer) }

    /// How many bytes the argument's payload has (without the bulk header).
    public var byteCount: Int {
        switch storage {
        case .string(let string): return string.utf8.count
        case .buffer(let buffer): return buffer.readableBytes
        case .bytes(let bytes): return bytes.count
        case .integer(let integer): return RESPEncoder.decimalLength(integer)
        }
    }

    /// The payload as text (UTF-8 decoded, invalid bytes replaced): for logs and command names.
    public var string: String {
        switch storage {
        case .string(let string): return string
        case .buffer(let buffer): return String(buffer: buffer)
        case .bytes(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .integer(let integer): return String(integer)
        }
    }
}

extension RESPArgument: ExpressibleByStringLiteral {
    /// A text argument.
    public init(stringLiteral value: String) { self.init(value) }
}

extension RESPArgument: ExpressibleByIntegerLiteral {
    /// An integer argument.
    public init(integerLiteral value: Int) { self.init(value) }
}

extension RESPArgument: CustomStringConvertible {
    /// The payload as text.
    public var description: String { string }
}
