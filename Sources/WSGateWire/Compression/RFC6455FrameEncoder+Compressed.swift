import NIOCore

/// Frames of compressed messages (RFC 7692 section 6): RSV1, the "Per-Message Compressed" bit, is
/// set on the first frame of a compressed text or binary message and on no other frame
/// (continuations and control frames keep it clear; use `frame(opcode: .continuation, ...)`).
extension RFC6455FrameEncoder {
    /// RSV1 in the first header byte.
    public static let perMessageCompressedBit: UInt8 = 0x40

    /// A frame like `frame(opcode:payload:fin:maskingKey:allocator:)` with RSV1 set, for the
    /// first (or only) frame of a message whose payload `Deflater` produced.
    public static func compressedFrame(
        opcode: Opcode,
        payload: ByteBuffer,
        fin: Bool = true,
        maskingKey: (UInt8, UInt8, UInt8, UInt8)? = nil,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> ByteBuffer {
        precondition(opcode == .text || opcode == .binary, "only a text or binary message's first frame carries RSV1")
        var out = Self.frame(opcode: opcode, payload: payload, fin: fin, maskingKey: maskingKey, allocator: allocator)
        out.setInteger(out.getInteger(at: out.readerIndex, as: UInt8.self)! | Self.perMessageCompressedBit, at: out.readerIndex)
        return out
    }

    /// Only the header of an unmasked, unfragmented compressed frame (FIN and RSV1 set), for
    /// payloads written separately.
    public static func compressedHeader(
        opcode: Opcode,
        payloadLength length: Int,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> ByteBuffer {
        precondition(opcode == .text || opcode == .binary, "only a text or binary message's first frame carries RSV1")
        var out = Self.header(opcode: opcode, payloadLength: length, allocator: allocator)
        out.setInteger(out.getInteger(at: out.readerIndex, as: UInt8.self)! | Self.perMessageCompressedBit, at: out.readerIndex)
        return out
    }

    /// A whole message compressed by `deflater` into one frame with FIN and RSV1: the compressed
    /// bytes go straight into the frame's buffer, after room left for the header (masked there in
    /// place for a client), so they are never copied.
    public static func compressedMessageFrame(
        opcode: Opcode,
        message: ByteBuffer,
        deflater: Deflater,
        maskingKey: (UInt8, UInt8, UInt8, UInt8)? = nil,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> ByteBuffer {
        precondition(opcode == .text || opcode == .binary, "only a text or binary message's first frame carries RSV1")
        let room = 14  // the longest header: 2 + 8 length bytes + 4 mask bytes
        var out = allocator.buffer(capacity: room + message.readableBytes / 2 + 64)
        out.writeRepeatingByte(0, count: room)
        out.moveReaderIndex(forwardBy: room)
        deflater.compress(message, appendingTo: &out)
        let length = out.readableBytes
        if let key = maskingKey {
            out.withUnsafeMutableReadableBytes { payload in
                WebSocketMasking.xor(UnsafeRawBufferPointer(payload), into: payload, key: key)
            }
        }
        var index = room - Self.headerLength(payloadLength: length, masked: maskingKey != nil)
        let start = index
        func put(_ byte: UInt8) {
            out.setInteger(byte, at: index)
            index += 1
        }
        put(0x80 | Self.perMessageCompressedBit | opcode.rawValue)
        let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
        if length < 126 {
            put(maskBit | UInt8(length))
        } else if length <= 0xFFFF {
            put(maskBit | 126)
            out.setInteger(UInt16(length), at: index)
            index += 2
        } else {
            put(maskBit | 127)
            out.setInteger(UInt64(length), at: index)
            index += 8
        }
        if let key = maskingKey {
            put(key.0)
            put(key.1)
            put(key.2)
            put(key.3)
        }
        out.moveReaderIndex(to: start)
        return out
    }
}
