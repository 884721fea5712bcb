import NIOCore

/// Encodes RFC 6455 frames (section 5.2) into one contiguous buffer: header and payload together,
/// so a room can write the same bytes to every member.
///
/// Server frames are unmasked; client frames (for `WSGateClient` and the bench) take a masking key.
public enum RFC6455FrameEncoder {
    /// Opcodes of section 5.2.
    public enum Opcode: UInt8, Sendable {
        case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA
    }

    /// The header length for a payload of `length` bytes.
    @inlinable
    public static func headerLength(payloadLength length: Int, masked: Bool) -> Int {
        let base = length < 126 ? 2 : (length <= 0xFFFF ? 4 : 10)
        return masked ? base + 4 : base
    }

    /// One frame: FIN, opcode, the length in its shortest form, the optional mask, the payload.
    public static func frame(
        opcode: Opcode,
        payload: ByteBuffer,
        fin: Bool = true,
        maskingKey: (UInt8, UInt8, UInt8, UInt8)? = nil,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> ByteBuffer {
        let length = payload.readableBytes
        var out = allocator.buffer(capacity: Self.headerLength(payloadLength: length, masked: maskingKey != nil) + length)
        out.writeInteger((fin ? 0x80 : 0x00) | opcode.rawValue)
        let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
        if length < 126 {
            out.writeInteger(maskBit | UInt8(length))
        } else if length <= 0xFFFF {
            out.writeInteger(maskBit | 126)
            out.writeInteger(UInt16(length))
        } else {
            out.writeInteger(maskBit | 127)
            out.writeInteger(UInt64(length))
        }
        if let key = maskingKey {
            out.writeBytes([key.0, key.1, key.2, key.3])
            WebSocketMasking.appendMasked(payload, key: key, to: &out)
        } else {
            out.writeImmutableBuffer(payload)
        }
        return out
    }

    /// Only the header of an unmasked, unfragmented frame, for payloads written separately.
    public static func header(opcode: Opcode, payloadLength length: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var out = allocator.buffer(capacity: Self.headerLength(payloadLength: length, masked: false))
        out.writeInteger(0x80 | opcode.rawValue)
        if length < 126 {
            out.writeInteger(UInt8(length))
        } else if length <= 0xFFFF {
            out.writeInteger(UInt8(126))
            out.writeInteger(UInt16(length))
        } else {
            out.writeInteger(UInt8(127))
            out.writeInteger(UInt64(length))
        }
        return out
    }

    /// A text or binary message as one unfragmented frame.
    public static func message(_ message: GatewayMessage, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        switch message {
        case .text(let bytes): return Self.frame(opcode: .text, payload: bytes, allocator: allocator)
        case .binary(let bytes): return Self.frame(opcode: .binary, payload: bytes, allocator: allocator)
        }
    }

    /// A close frame for `close`: its code and reason (none: an empty body).
    public static func closeFrame(
        _ close: WebSocketClose,
        maskingKey: (UInt8, UInt8, UInt8, UInt8)? = nil,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> ByteBuffer {
        Self.closeFrame(code: close.code, reason: close.reason, maskingKey: maskingKey, allocator: allocator)
    }

    /// A close frame (section 5.5.1): the code, then the reason, cut to fit in 125 bytes.
    public static func closeFrame(
        code: WebSocketCloseCode?,
        reason: String? = nil,
        maskingKey: (UInt8, UInt8, UInt8, UInt8)? = nil,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> ByteBuffer {
        var payload = allocator.buffer(capacity: 125)
        if let code {
            payload.writeInteger(code.rawValue)
            if let reason {
                var utf8 = Array(reason.utf8.prefix(123))
                while !utf8.isEmpty, !utf8.withUnsafeBytes({ UTF8Validator.isValid($0) }) { utf8.removeLast() }
                payload.writeBytes(utf8)
            }
        }
        return Self.frame(opcode: .close, payload: payload, maskingKey: maskingKey, allocator: allocator)
    }
}
