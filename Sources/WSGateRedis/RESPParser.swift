import NIOCore

/// An incremental RESP2/RESP3 parser: bytes in, complete `RESPValue`s out, whatever the read boundaries.
///
/// A pure value type with no I/O. Feed it the bytes as they arrive (`feed(_:)`, or `append(_:)` and
/// `next()`), and it returns each value once all of its bytes are there. Between reads it keeps what it
/// has parsed so far: the elements of unfinished aggregates, the declared length of a bulk string whose
/// payload has not all arrived, and how far it has scanned an unterminated line. No byte is parsed twice,
/// so a large bulk string split over many reads costs linear time; its payload is a slice of the
/// received bytes, not a copy.
///
/// Bounded by `Configuration`: a bulk length over `maximumBulkLength` (512 MiB, as Redis), aggregates
/// nested deeper than `maximumDepth`, an element count over `maximumAggregateLength` or a line over
/// `maximumLineLength` fail with a `RESPProtocolError`, as do malformed input (no CRLF, bad integers,
/// unknown types, negative lengths other than `-1`). After an error the parser keeps failing with it.
public struct RESPParser: Sendable {
    /// The parser's bounds and its handling of RESP3 attributes.
    public struct Configuration: Sendable, Hashable {
        /// The longest bulk string, bulk error or verbatim string accepted (Redis's own limit is 512 MiB).
        public var maximumBulkLength: Int
        /// How deep aggregates (arrays, maps, sets, pushes, attributes) may nest; a top-level array is depth 1.
        public var maximumDepth: Int
        /// The longest line accepted without its CRLF: value headers, simple strings and errors, numbers.
        public var maximumLineLength: Int
        /// The most elements (pairs, for maps and attributes) one aggregate may declare.
        public var maximumAggregateLength: Int
        /// What to do with RESP3 attributes.
        public var attributes: AttributeHandling

        /// The defaults: 512 MiB bulks, depth 64, 64 KiB lines, 2^32 - 1 elements, attributes skipped.
        public init(
            maximumBulkLength: Int = 512 * 1024 * 1024,
            maximumDepth: Int = 64,
            maximumLineLength: Int = 64 * 1024,
            maximumAggregateLength: Int = Int(UInt32.max),
            attributes: AttributeHandling = .skip
        ) {
            self.maximumBulkLength = maximumBulkLength
            self.maximumDepth = maximumDepth
            self.maximumLineLength = maximumLineLength
            self.maximumAggregateLength = maximumAggregateLength
            self.attributes = attributes
        }
    }

    /// What the parser does with a RESP3 attribute (`|`) sent before a value.
    public enum AttributeHandling: Sendable, Hashable {
        /// Parse and drop it: the value comes alone.
        case skip
        /// Return the value wrapped as `.attribute(pairs, value)`.
        case attach
    }

    private var machine: Machine
    private var buffer = ByteBuffer()

    /// A parser with the given bounds.
    public init(configuration: Configuration = .init()) {
        self.machine = Machine(configuration: configuration)
    }

    /// The parser's bounds.
    public var configuration: Configuration { machine.configuration }

    /// Bytes received by `append(_:)` or `feed(_:)` and not yet consumed: the unparsed rest of a value.
    public var bufferedByteCount: Int { buffer.readableBytes }

    /// True when the parser is between values: no partial aggregate, bulk or line is pending.
    public var isAtValueBoundary: Bool { machine.isAtValueBoundary && buffer.readableBytes == 0 }

    /// Appends `input` and returns every value it completes, in order.
    public mutating func feed(_ input: ByteBuffer) throws(RESPProtocolError) -> [RESPValue] {
        append(input)
        var values: [RESPValue] = []
        while let value = try next() { values.append(value) }
        return values
    }

    /// Appends `input` to the bytes to parse (call `next()` to take the values).
    public mutating func append(_ input: ByteBuffer) {
        if buffer.readableBytes == 0 {
            buffer = input
            return
        }
        // Compacting only when at least as many bytes were consumed as remain keeps the copies linear.
        if buffer.readerIndex >= buffer.readableBytes { buffer.discardReadBytes() }
        var input = input
        buffer.writeBuffer(&input)
    }

    /// The next complete value of the appended bytes, or `nil` until more bytes are appended.
    public mutating func next() throws(RESPProtocolError) -> RESPValue? {
        try machine.next(from: &buffer)
    }

    /// The next complete value read from `buffer`, consuming its bytes; `nil` if `buffer` ends inside a value.
    ///
    /// For callers that keep the bytes themselves (`RESPValueDecoder` on NIO's cumulation buffer): pass
    /// the same stream each time, its unconsumed bytes first, then the bytes received since. Use either this
    /// or `append(_:)`/`next()` on one parser, not both.
    public mutating func next(from buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPValue? {
        try machine.next(from: &buffer)
    }
}

// MARK: - The state machine

extension RESPParser {
    private enum AggregateKind {
        case array, set, push, map, attribute
        /// Attributes read, waiting for the value they belong to.
        case attributed([RESPPair])
    }

    private struct Frame {
        var kind: AggregateKind
        var remaining: Int
        var elements: [RESPValue]
    }

    private enum Token {
        case value(RESPValue)
        case aggregate(AggregateKind, count: Int)
    }

    private enum LineScan {
        case line(length: Int)
        case incomplete(scanned: Int)
        case unknownType(UInt8)
        case badTerminator
    }

    /// The parsing state, apart from the bytes (so that `next()` can pass its own buffer inout).
    fileprivate struct Machine: Sendable {
        let configuration: Configuration
        /// Unfinished aggregates, innermost last.
        private var stack: [Frame] = []
        /// How many of `stack` are aggregates (attributed values are not nesting).
        private var depth = 0
        /// A bulk header was read: its type byte and length; the payload and CRLF are awaited.
        private var pendingBulk: (type: UInt8, length: Int)?
        /// Bytes at the start of the buffer already scanned for the CRLF of the current line.
        private var scannedLineBytes = 0
        /// The error that stopped the parser, rethrown by every later call.
        private var failure: RESPProtocolError?

        init(configuration: Configuration) {
            self.configuration = configuration
        }

        var isAtValueBoundary: Bool { stack.isEmpty && pendingBulk == nil && scannedLineBytes == 0 }

        mutating func next(from buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPValue? {
            if let failure { throw failure }
            do {
                return try parse(&buffer)
            } catch {
                failure = error
                throw error
            }
        }

        private mutating func parse(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPValue? {
            while let token = try readToken(&buffer) {
                let value: RESPValue
                switch token {
                case .value(let leaf):
                    value = leaf
                case .aggregate(let kind, let count):
                    guard depth < configuration.maximumDepth else {
                        throw .nestingTooDeep(maximum: configuration.maximumDepth)
                    }
                    depth += 1
                    var elements: [RESPValue] = []
                    elements.reserveCapacity(Swift.min(count, 1024))
                    let frame = Frame(kind: kind, remaining: count, elements: elements)
                    if count > 0 {
                        stack.append(frame)
                        continue
                    }
                    guard let empty = complete(frame) else { continue }
                    value = empty
                }
                if let topLevel = fold(value) { return topLevel }
            }
            return nil
        }

        /// Adds a complete value to the innermost aggregate, completing aggregates as they fill up.
        /// Returns the top-level value once it is complete.
        private mutating func fold(_ value: RESPValue) -> RESPValue? {
            var value = value
            while !stack.isEmpty {
                let last = stack.count - 1
                stack[last].elements.append(value)
                stack[last].remaining -= 1
                if stack[last].remaining > 0 { return nil }
                let frame = stack.removeLast()
                guard let completed = complete(frame) else { return nil }
                value = completed
            }
            return value
        }

        /// The value of a filled frame; `nil` for attributes, which wait for the value they precede.
        private mutating func complete(_ frame: Frame) -> RESPValue? {
            switch frame.kind {
            case .array:
                depth -= 1
                return .array(frame.elements)
            case .set:
                depth -= 1
                return .set(frame.elements)
            case .push:
                depth -= 1
                return .push(frame.elements)
            case .map:
                depth -= 1
                return .map(Self.pairs(frame.elements))
            case .attribute:
                depth -= 1
                let pairs = Self.pairs(frame.elements)
                // Attributes right after attributes: one set of attributes for the value that follows.
                if let last = stack.indices.last, case .attributed(let earlier) = stack[last].kind {
                    stack[last].kind = .attributed(earlier + pairs)
                } else {
                    stack.append(Frame(kind: .attributed(pairs), remaining: 1, elements: []))
                }
                return nil
            case .attributed(let pairs):
                let value = frame.elements[0]
                return configuration.attributes == .attach ? .attribute(pairs, value) : value
            }
        }

        private static func pairs(_ elements: [RESPValue]) -> [RESPPair] {
            stride(from: 0, to: elements.count, by: 2).map { RESPPair(key: elements[$0], value: elements[$0 + 1]) }
        }

        // MARK: Tokens

        private mutating func readToken(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> Token? {
            if let bulk = pendingBulk {
                guard buffer.readableBytes >= 2, buffer.readableBytes - 2 >= bulk.length else { return nil }
                let payload = buffer.readSlice(length: bulk.length)!
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw .missingBulkTerminator }
                pendingBulk = nil
                return .value(try Self.bulkValue(type: bulk.type, payload: payload))
            }
            guard var line = try readLine(&buffer) else { return nil }
            let type = line.readInteger(as: UInt8.self)!
            switch type {
            case UInt8(ascii: "+"):
                return .value(.simpleString(String(buffer: line)))
            case UInt8(ascii: "-"):
                return .value(.simpleError(String(buffer: line)))
            case UInt8(ascii: ":"):
                guard let value = Self.integer(line, allowsPlus: true) else { throw .invalidInteger(Self.excerpt(line)) }
                return .value(.integer(value))
            case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
                guard let length = try Self.length(line, allowsNull: type == UInt8(ascii: "$")) else {
                    return .value(.bulkString(nil))
                }
                guard length <= configuration.maximumBulkLength else {
                    throw .bulkTooLong(length: length, maximum: configuration.maximumBulkLength)
                }
                pendingBulk = (type, length)
                return try readToken(&buffer)
            case UInt8(ascii: "*"):
                guard let count = try Self.length(line, allowsNull: true) else { return .value(.array(nil)) }
                return .aggregate(.array, count: try checkedCount(count, perElement: 1))
            case UInt8(ascii: "~"):
                return .aggregate(.set, count: try checkedCount(Self.length(line, allowsNull: false)!, perElement: 1))
            case UInt8(ascii: ">"):
                return .aggregate(.push, count: try checkedCount(Self.length(line, allowsNull: false)!, perElement: 1))
            case UInt8(ascii: "%"):
                return .aggregate(.map, count: try checkedCount(Self.length(line, allowsNull: false)!, perElement: 2))
            case UInt8(ascii: "|"):
                return .aggregate(.attribute, count: try checkedCount(Self.length(line, allowsNull: false)!, perElement: 2))
            case UInt8(ascii: "_"):
                guard line.readableBytes == 0 else { throw .invalidNull }
                return .value(.null)
            case UInt8(ascii: "#"):
                switch line.readableBytesView.first {
                case UInt8(ascii: "t") where line.readableBytes == 1: return .value(.boolean(true))
                case UInt8(ascii: "f") where line.readableBytes == 1: return .value(.boolean(false))
                default: throw .invalidBoolean(Self.excerpt(line))
                }
            case UInt8(ascii: ","):
                guard let value = Self.double(line) else { throw .invalidDouble(Self.excerpt(line)) }
                return .value(.double(value))
            case UInt8(ascii: "("):
                guard let digits = Self.bigNumber(line) else { throw .invalidBigNumber(Self.excerpt(line)) }
                return .value(.bigNumber(digits))
            default:
                throw .unknownType(type)
            }
        }

        /// The element count of an aggregate header, checked against the bound.
        private func checkedCount(_ count: Int, perElement: Int) throws(RESPProtocolError) -> Int {
            let maximum = Swift.min(configuration.maximumAggregateLength, Int.max / 2)
            guard count <= maximum else { throw .aggregateTooLong(count: count, maximum: maximum) }
            return count * perElement
        }

        /// The next line without its CRLF (its first byte is the type), or `nil` until its CRLF has arrived.
        /// Bytes scanned before are not scanned again.
        private mutating func readLine(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> ByteBuffer? {
            guard buffer.readableBytes > 0 else { return nil }
            let limit = Swift.min(configuration.maximumLineLength, Int.max - 3) + 1  // the type byte is not counted
            let scan = buffer.withUnsafeReadableBytes { bytes -> LineScan in
                var index = scannedLineBytes
                if index == 0 && !Self.isType(bytes[0]) { return .unknownType(bytes[0]) }
                let end = Swift.min(bytes.count, limit + 2)
                while index < end {
                    switch bytes[index] {
                    case 0x0D:
                        guard index + 1 < bytes.count else { return .incomplete(scanned: index) }
                        return bytes[index + 1] == 0x0A ? .line(length: index) : .badTerminator
                    case 0x0A:
                        return .badTerminator
                    default:
                        index += 1
                    }
                }
                return .incomplete(scanned: index)
            }
            switch scan {
            case .line(let length):
                guard length <= limit else { throw .lineTooLong(maximum: configuration.maximumLineLength) }
                scannedLineBytes = 0
                let line = buffer.readSlice(length: length)!
                buffer.moveReaderIndex(forwardBy: 2)
                return line
            case .incomplete(let scanned):
                guard scanned <= limit else { throw .lineTooLong(maximum: configuration.maximumLineLength) }
                scannedLineBytes = scanned
                return nil
            case .unknownType(let byte):
                throw .unknownType(byte)
            case .badTerminator:
                throw .invalidLineTerminator
            }
        }

        private static func isType(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*"),
                UInt8(ascii: "_"), UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "("), UInt8(ascii: "!"),
                UInt8(ascii: "="), UInt8(ascii: "%"), UInt8(ascii: "~"), UInt8(ascii: "|"), UInt8(ascii: ">"):
                return true
            default:
                return false
            }
        }

        // MARK: Scalars

        private static func bulkValue(type: UInt8, payload: ByteBuffer) throws(RESPProtocolError) -> RESPValue {
            switch type {
            case UInt8(ascii: "$"):
                return .bulkString(payload)
            case UInt8(ascii: "!"):
                return .bulkError(payload)
            default:  // "=": three bytes of format, ":", the text
                var text = payload
                guard payload.readableBytes >= 4, let format = text.readSlice(length: 3),
                    text.readInteger(as: UInt8.self) == UInt8(ascii: ":")
                else { throw .invalidVerbatimString }
                return .verbatimString(format: String(buffer: format), text: text)
            }
        }

        /// `[+|-]digits` as a 64-bit integer, without allocating; `nil` if malformed or out of range.
        private static func integer(_ line: ByteBuffer, allowsPlus: Bool) -> Int64? {
            line.withUnsafeReadableBytes { bytes -> Int64? in
                var index = 0
                var negative = false
                if let first = bytes.first, first == UInt8(ascii: "-") || (allowsPlus && first == UInt8(ascii: "+")) {
                    negative = first == UInt8(ascii: "-")
                    index = 1
                }
                guard index < bytes.count else { return nil }
                var value: Int64 = 0
                while index < bytes.count {
                    let digit = bytes[index] &- UInt8(ascii: "0")
                    guard digit < 10 else { return nil }
                    // Accumulate negatively: Int64.min has no positive counterpart.
                    let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                    let (next, overflow2) = times10.subtractingReportingOverflow(Int64(digit))
                    guard !overflow1 && !overflow2 else { return nil }
                    value = next
                    index += 1
                }
                if negative { return value }
                return value == .min ? nil : -value
            }
        }

        /// A length or count: digits, or `-1` (returned as `nil`) where a null is allowed.
        private static func length(_ line: ByteBuffer, allowsNull: Bool) throws(RESPProtocolError) -> Int? {
            guard let value = integer(line, allowsPlus: false), let length = Int(exactly: value) else {
                throw .invalidLength(excerpt(line))
            }
            if length == -1 && allowsNull { return nil }
            guard length >= 0 else { throw .negativeLength(length) }
            return length
        }

        private static func double(_ line: ByteBuffer) -> Double? {
            let text = String(buffer: line)
            switch text {
            case "inf", "+inf": return .infinity
            case "-inf": return -.infinity
            case "nan", "-nan": return .nan
            default: break
            }
            guard text.utf8.contains(where: { $0 >= 0x30 && $0 <= 0x39 }),
                text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || "+-.eE".utf8.contains($0) })
            else { return nil }
            return Double(text)
        }

        private static func bigNumber(_ line: ByteBuffer) -> String? {
            var text = Substring(String(buffer: line))
            var sign = ""
            if text.first == "-" || text.first == "+" {
                sign = text.first == "-" ? "-" : ""
                text = text.dropFirst()
            }
            guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return sign + text
        }

        /// The start of a malformed line, for the error (never the whole of a long line).
        private static func excerpt(_ line: ByteBuffer) -> String {
            String(buffer: line.getSlice(at: line.readerIndex, length: Swift.min(line.readableBytes, 64))!)
        }
    }
}
