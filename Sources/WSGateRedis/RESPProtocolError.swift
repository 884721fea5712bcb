/// Why `RESPParser` refused its input: the bytes are not RESP, or they exceed a configured bound.
///
/// After such an error the stream cannot be resynchronized: the parser keeps failing with the same
/// error, and `RedisCommandHandler` closes the connection.
public enum RESPProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A value starts with a byte that is no RESP2 or RESP3 type.
    case unknownType(UInt8)
    /// A line ends with a lone CR or LF instead of CRLF (or a simple string contains CR or LF).
    case invalidLineTerminator
    /// A line (the header of a value, a simple string or error, a number) is longer than the maximum
    /// without its CRLF.
    case lineTooLong(maximum: Int)
    /// A bulk string, bulk error or verbatim string is not followed by CRLF after its declared length.
    case missingBulkTerminator
    /// An integer is not `[+|-]digits` or does not fit in 64 bits.
    case invalidInteger(String)
    /// A length or element count is not digits (or `-1` where RESP allows a null).
    case invalidLength(String)
    /// A negative length other than `-1`, or `-1` for a type that has no null form (RESP3 aggregates,
    /// bulk errors, verbatim strings).
    case negativeLength(Int)
    /// A bulk string, bulk error or verbatim string longer than the configured maximum.
    case bulkTooLong(length: Int, maximum: Int)
    /// An aggregate declares more elements than the configured maximum.
    case aggregateTooLong(count: Int, maximum: Int)
    /// Aggregates nested deeper than the configured maximum.
    case nestingTooDeep(maximum: Int)
    /// A boolean other than `#t` or `#f`.
    case invalidBoolean(String)
    /// A double that is not a RESP3 double (digits, `.`, exponent, `inf`, `-inf`, `nan`).
    case invalidDouble(String)
    /// A big number that is not `[+|-]digits`.
    case invalidBigNumber(String)
    /// A RESP3 null with something between `_` and CRLF.
    case invalidNull
    /// A verbatim string without its three-character format and `:`.
    case invalidVerbatimString

    /// What is wrong, for logs.
    public var description: String {
        switch self {
        case .unknownType(let byte): return "RESP: unknown type byte 0x\(String(byte, radix: 16))"
        case .invalidLineTerminator: return "RESP: a line does not end with CRLF"
        case .lineTooLong(let maximum): return "RESP: a line is longer than \(maximum) bytes"
        case .missingBulkTerminator: return "RESP: a bulk value is not followed by CRLF"
        case .invalidInteger(let text): return "RESP: invalid integer \"\(text)\""
        case .invalidLength(let text): return "RESP: invalid length \"\(text)\""
        case .negativeLength(let length): return "RESP: invalid negative length \(length)"
        case .bulkTooLong(let length, let maximum): return "RESP: bulk length \(length) exceeds the maximum \(maximum)"
        case .aggregateTooLong(let count, let maximum): return "RESP: aggregate of \(count) elements exceeds the maximum \(maximum)"
        case .nestingTooDeep(let maximum): return "RESP: aggregates nested deeper than \(maximum)"
        case .invalidBoolean(let text): return "RESP: invalid boolean \"\(text)\""
        case .invalidDouble(let text): return "RESP: invalid double \"\(text)\""
        case .invalidBigNumber(let text): return "RESP: invalid big number \"\(text)\""
        case .invalidNull: return "RESP: invalid null"
        case .invalidVerbatimString: return "RESP: verbatim string without a format"
        }
    }
}
