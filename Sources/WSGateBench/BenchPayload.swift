import NIOCore

/// The payload of a timed message, as ASCII text so that every dialect (hixie has text only) carries
/// the same bytes: `sender sequence sentAtNanoseconds ` then `x` padding up to the message size.
enum BenchPayload {
    static func make(sender: Int, sequence: UInt64, size: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: max(size, 48))
        buffer.writeString("\(sender) \(sequence) \(NIODeadline.now().uptimeNanoseconds) ")
        if size > buffer.readableBytes { buffer.writeRepeatingByte(UInt8(ascii: "x"), count: size - buffer.readableBytes) }
        return buffer
    }

    /// Reads the three numbers back; `nil` if the payload is not one of ours.
    static func read(_ buffer: ByteBuffer) -> (sender: Int, sequence: UInt64, sentAt: UInt64)? {
        var numbers: [UInt64] = []
        var current: UInt64 = 0
        var hasDigits = false
        for byte in buffer.readableBytesView {
            if byte >= 0x30 && byte <= 0x39 {
                current = current &* 10 &+ UInt64(byte - 0x30)
                hasDigits = true
            } else if byte == 0x20 && hasDigits {
                numbers.append(current)
                if numbers.count == 3 { break }
                current = 0
                hasDigits = false
            } else {
                return nil
            }
        }
        guard numbers.count == 3 else { return nil }
        return (Int(numbers[0]), numbers[1], numbers[2])
    }
}
