internal import COpenSSL
import NIOCore
import NIOWebSocket

/// RFC 6455 section 5.3 masking, eight bytes at a time.
///
/// NIO's `webSocketUnmask` works a byte at a time; on 64 KiB messages that alone was half of the
/// gateway's CPU time. This copies and XORs in one pass with 64-bit words.
public enum WebSocketMasking {
    /// Copies `source` into a new buffer, XORed with the 4-byte `key` (starting at key byte 0).
    @inlinable
    public static func maskedCopy(of source: ByteBuffer, key: (UInt8, UInt8, UInt8, UInt8), allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var out = allocator.buffer(capacity: source.readableBytes)
        Self.appendMasked(source, key: key, to: &out)
        return out
    }

    /// Appends `source`, XORed with `key`, to `out`.
    @inlinable
    public static func appendMasked(_ source: ByteBuffer, key: (UInt8, UInt8, UInt8, UInt8), to out: inout ByteBuffer) {
        let count = source.readableBytes
        guard count > 0 else { return }
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { destination in
            source.withUnsafeReadableBytes { input in
                Self.xor(input, into: destination, key: key)
            }
            return count
        }
    }

    /// XORs `input` with the repeating `key` into `output` (at least as long as `input`).
    @inlinable
    public static func xor(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, key: (UInt8, UInt8, UInt8, UInt8)) {
        let count = input.count
        var pattern: UInt64 = 0
        withUnsafeMutableBytes(of: &pattern) { bytes in
            for i in 0..<8 {
                switch i & 3 {
                case 0: bytes[i] = key.0
                case 1: bytes[i] = key.1
                case 2: bytes[i] = key.2
                default: bytes[i] = key.3
                }
            }
        }
        var index = 0
        while index + 8 <= count {
            let word = input.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            output.storeBytes(of: word ^ pattern, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            let k: UInt8
            switch index & 3 {
            case 0: k = key.0
            case 1: k = key.1
            case 2: k = key.2
            default: k = key.3
            }
            output[index] = input[index] ^ k
            index += 1
        }
    }

    /// The key of a NIO mask, as four bytes.
    @inlinable
    public static func bytes(of key: WebSocketMaskingKey) -> (UInt8, UInt8, UInt8, UInt8) {
        (key[0], key[1], key[2], key[3])
    }
}

/// A random RFC 6455 masking key (section 5.3: fresh for each frame, from a strong source), for the
/// client ends: WSGateClient and the gateway's WebSocket upstreams.
@inline(__always)
public func makeMaskingKey() -> (UInt8, UInt8, UInt8, UInt8) {
    let bits = UInt32.random(in: .min ... .max)
    return (UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
            UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24))
}

/// Bytes from OpenSSL's CSPRNG (`RAND_bytes`): a strong source without a system call per draw.
public enum StrongRandom {
    /// Fills `buffer`; false if OpenSSL could not (the caller falls back to the system generator).
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return true }
        return RAND_bytes(base.assumingMemoryBound(to: UInt8.self), Int32(clamping: buffer.count)) == 1
    }
}
