import NIOCore

/// Writes Redis commands (arrays of bulk strings, `*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n`) into ByteBuffers.
///
/// The `commands:` overloads write a whole pipeline into one buffer, sized once. `encode(_:into:)`
/// writes any `RESPValue`, RESP3 types included: what a server sends, for tests and fakes.
public enum RESPEncoder {
    /// Appends `command` (name first) to `buffer` as an array of bulk strings.
    public static func encode(command: [RESPArgument], into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: encodedLength(command: command))
        write(command: command, into: &buffer)
    }

    /// Appends every command of `commands`, in order, to `buffer` (a pipeline: one write, many replies).
    public static func encode(commands: [[RESPArgument]], into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: commands.reduce(0) { $0 + encodedLength(command: $1) })
        for command in commands { write(command: command, into: &buffer) }
    }

    /// `command` in a new buffer.
    public static func encode(command: [RESPArgument], allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: encodedLength(command: command))
        write(command: command, into: &buffer)
        return buffer
    }

    /// A pipeline of `commands` in one new buffer.
    public static func encode(commands: [[RESPArgument]], allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 0)
        encode(commands: commands, into: &buffer)
        return buffer
    }

    /// The number of bytes `command` takes on the wire.
    public static func encodedLength(command: [RESPArgument]) -> Int {
        var length = 3 + decimalLength(command.count)  // *N\r\n
        for argument in command {
            let count = argument.byteCount
            length += 5 + decimalLength(count) + count  // $N\r\n…\r\n
        }
        return length
    }

    private static func write(command: [RESPArgument], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        writeDecimal(Int64(command.count), into: &buffer)
        buffer.writeCRLF()
        for argument in command {
            buffer.writeInteger(UInt8(ascii: "$"))
            writeDecimal(Int64(argument.byteCount), into: &buffer)
            buffer.writeCRLF()
            switch argument.storage {
            case .string(let string): buffer.writeString(string)
            case .buffer(let payload): buffer.writeImmutableBuffer(payload)
            case .bytes(let bytes): buffer.writeBytes(bytes)
            case .integer(let integer): writeDecimal(Int64(integer), into: &buffer)
            }
            buffer.writeCRLF()
        }
    }

    // MARK: - Any value

    /// Appends `value` in its RESP2/RESP3 wire form (RESP3 types are written as RESP3: a server's view).
    public static func encode(_ value: RESPValue, into buffer: inout ByteBuffer) {
        switch value {
        case .simpleString(let string):
            writeLine(UInt8(ascii: "+"), string, into: &buffer)
        case .simpleError(let message):
            writeLine(UInt8(ascii: "-"), message, into: &buffer)
        case .integer(let integer):
            buffer.writeInteger(UInt8(ascii: ":"))
            writeDecimal(integer, into: &buffer)
            buffer.writeCRLF()
        case .bulkString(let payload?):
            writeBulk(UInt8(ascii: "$"), payload, into: &buffer)
        case .bulkString(nil):
            buffer.writeString("$-1\r\n")
        case .array(let elements?):
            writeAggregate(UInt8(ascii: "*"), elements, into: &buffer)
        case .array(nil):
            buffer.writeString("*-1\r\n")
        case .null:
            buffer.writeString("_\r\n")
        case .boolean(let flag):
            buffer.writeString(flag ? "#t\r\n" : "#f\r\n")
        case .double(let number):
            let text: String
            if number.isNaN {
                text = "nan"
            } else if number.isInfinite {
                text = number < 0 ? "-inf" : "inf"
            } else {
                text = "\(number)"
            }
            writeLine(UInt8(ascii: ","), text, into: &buffer)
        case .bigNumber(let digits):
            writeLine(UInt8(ascii: "("), digits, into: &buffer)
        case .bulkError(let payload):
            writeBulk(UInt8(ascii: "!"), payload, into: &buffer)
        case .verbatimString(let format, let text):
            var payload = ByteBuffer(string: format)
            payload.writeInteger(UInt8(ascii: ":"))
            payload.writeImmutableBuffer(text)
            writeBulk(UInt8(ascii: "="), payload, into: &buffer)
        case .map(let pairs):
            writePairs(UInt8(ascii: "%"), pairs, into: &buffer)
        case .set(let elements):
            writeAggregate(UInt8(ascii: "~"), elements, into: &buffer)
        case .attribute(let pairs, let value):
            writePairs(UInt8(ascii: "|"), pairs, into: &buffer)
            encode(value, into: &buffer)
        case .push(let elements):
            writeAggregate(UInt8(ascii: ">"), elements, into: &buffer)
        }
    }

    /// `value` in a new buffer.
    public static func encode(_ value: RESPValue, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        encode(value, into: &buffer)
        return buffer
    }

    private static func writeLine(_ type: UInt8, _ text: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(type)
        buffer.writeString(text)
        buffer.writeCRLF()
    }

    private static func writeBulk(_ type: UInt8, _ payload: ByteBuffer, into buffer: inout ByteBuffer) {
        buffer.writeInteger(type)
        writeDecimal(Int64(payload.readableBytes), into: &buffer)
        buffer.writeCRLF()
        buffer.writeImmutableBuffer(payload)
        buffer.writeCRLF()
    }

    private static func writeAggregate(_ type: UInt8, _ elements: [RESPValue], into buffer: inout ByteBuffer) {
        buffer.writeInteger(type)
        writeDecimal(Int64(elements.count), into: &buffer)
        buffer.writeCRLF()
        for element in elements { encode(element, into: &buffer) }
    }

    private static func writePairs(_ type: UInt8, _ pairs: [RESPPair], into buffer: inout ByteBuffer) {
        buffer.writeInteger(type)
        writeDecimal(Int64(pairs.count), into: &buffer)
        buffer.writeCRLF()
        for pair in pairs {
            encode(pair.key, into: &buffer)
            encode(pair.value, into: &buffer)
        }
    }

    // MARK: - Decimals

    /// The number of characters of `value` in decimal, sign included.
    static func decimalLength(_ value: Int) -> Int {
        var magnitude = value.magnitude
        var length = value < 0 ? 2 : 1
        while magnitude >= 10 {
            magnitude /= 10
            length += 1
        }
        return length
    }

    /// Writes `value` in decimal without going through a String.
    private static func writeDecimal(_ value: Int64, into buffer: inout ByteBuffer) {
        if value < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var divisor: UInt64 = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(magnitude / divisor))
            magnitude %= divisor
            divisor /= 10
        }
    }
}

extension ByteBuffer {
    fileprivate mutating func writeCRLF() {
        writeInteger(UInt16(0x0D0A))
    }
}
