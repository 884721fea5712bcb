import CZlib
import NIOCore

/// The compressing half of permessage-deflate for one direction of one connection (RFC 7692
/// section 7.2.1): raw DEFLATE (no zlib header), each message ended with `Z_SYNC_FLUSH` and its
/// trailing `00 00 ff ff` removed.
///
/// With context takeover (the default) the LZ77 window runs on from message to message, so
/// messages must be compressed in the order they are sent. zlib's state is allocated on the first
/// non-empty message and freed when the `Deflater` is released. Not thread-safe: use it on one
/// event loop.
///
/// Memory (measured with zlib 1.2.13; `memoryBytes(windowBits:memLevel:)` estimates it, and
/// `zlibMemoryBytes` reports it): windowBits 12 / memLevel 8: 150 KiB; 15 / 8: 262 KiB;
/// 12 / 4: 30 KiB; 10 / 3: 14 KiB; 9 / 1: 9 KiB. memLevel dominates below 15 bits: for many
/// connections, memLevel = windowBits - 8 costs little compression and a fifth of the memory.
public final class Deflater {
    /// zlib's default memLevel: 8.
    public static let defaultMemLevel = 8
    /// zlib's default compression level: 6.
    public static let defaultLevel = 6

    /// log2 of the LZ77 window, 9...15 (RFC 7692's 8 is not possible with zlib's raw deflate).
    public let windowBits: Int
    /// zlib's memLevel, 1...9: the size of the match-finding hash and of the pending buffer.
    public let memLevel: Int
    /// zlib's compression level, 0 (stored) ... 9 (best).
    public let level: Int
    /// Whether the window is dropped after every message (`deflateReset`), as
    /// `server_no_context_takeover` / `client_no_context_takeover` require of this sender.
    public let noContextTakeover: Bool

    private var stream: UnsafeMutablePointer<z_stream>?
    private let allocatedBytes: UnsafeMutablePointer<Int>

    /// A compressor. Parameters outside the ranges above are a programming error (trap).
    public init(
        windowBits: Int = 15,
        memLevel: Int = Deflater.defaultMemLevel,
        level: Int = Deflater.defaultLevel,
        noContextTakeover: Bool = false
    ) {
        precondition((9...15).contains(windowBits), "windowBits must be 9...15")
        precondition((1...9).contains(memLevel), "memLevel must be 1...9")
        precondition((0...9).contains(level), "level must be 0...9")
        self.windowBits = windowBits
        self.memLevel = memLevel
        self.level = level
        self.noContextTakeover = noContextTakeover
        self.allocatedBytes = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        self.allocatedBytes.initialize(to: 0)
    }

    deinit {
        if let stream = self.stream {
            deflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        self.allocatedBytes.deallocate()
    }

    /// The bytes zlib allocated for this compressor: 0 until the first non-empty message.
    public var zlibMemoryBytes: Int { self.allocatedBytes.pointee }

    /// zlib's own estimate of a compressor's state (zconf.h): `(1 << (windowBits + 2)) +
    /// (1 << (memLevel + 9))`, plus about 6 KiB for `deflate_state` itself.
    public static func memoryBytes(windowBits: Int, memLevel: Int) -> Int {
        (1 << (windowBits + 2)) + (1 << (memLevel + 9)) + 6 * 1024
    }

    /// `message` compressed, in a new buffer: the payload of a frame with RSV1 set.
    public func compress(_ message: ByteBuffer, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var output = allocator.buffer(capacity: 0)
        self.compress(message, appendingTo: &output)
        return output
    }

    /// Appends `message`, compressed, to `output` (e.g. after room left for a frame header).
    ///
    /// An empty message becomes the single byte `00` (RFC 7692 section 7.2.3.6: an empty stored
    /// block without its tail), written directly: zlib would flush nothing a second time in a row.
    public func compress(_ message: ByteBuffer, appendingTo output: inout ByteBuffer) {
        guard message.readableBytes > 0 else {
            output.writeInteger(UInt8(0))
            return
        }
        let stream = self.ensureStream()
        let start = output.writerIndex
        message.withUnsafeReadableBytes { input in
            var offset = 0
            while offset < input.count {
                let chunk = min(input.count - offset, zlibMaximumChunk)
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self))
                stream.pointee.avail_in = uInt(chunk)
                offset += chunk
                let flush = offset == input.count ? Z_SYNC_FLUSH : Z_NO_FLUSH
                // The bound is for Z_FINISH; a sync flush adds its 5-byte marker and may need more,
                // so the loop goes on until zlib leaves room unused.
                var room = min(Int(deflateBound(stream, uLong(chunk))) + 16, 1 << 18)
                repeat {
                    output.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { out in
                        let space = min(out.count, zlibMaximumChunk)
                        stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                        stream.pointee.avail_out = uInt(space)
                        let status = deflate(stream, flush)
                        // Z_BUF_ERROR: nothing left to flush; anything else is a misuse of zlib.
                        precondition(status == Z_OK || status == Z_BUF_ERROR, "deflate returned \(status)")
                        return space - Int(stream.pointee.avail_out)
                    }
                    room = max(room, output.writerIndex - start)
                } while stream.pointee.avail_out == 0
            }
        }
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        stream.pointee.next_out = nil
        stream.pointee.avail_out = 0
        // RFC 7692 section 7.2.1: remove the 4 octets 00 00 ff ff that end the sync flush.
        let end = output.writerIndex
        let endsWithTail = end - start >= 4 && output.getInteger(at: end - 4, as: UInt32.self) == 0x0000_FFFF
        assert(endsWithTail, "a sync flush ends with an empty stored block")
        if endsWithTail { output.moveWriterIndex(to: end - 4) }
        if self.noContextTakeover { deflateReset(stream) }
    }

    private func ensureStream() -> UnsafeMutablePointer<z_stream> {
        if let stream = self.stream { return stream }
        let stream = makeZlibStream(counter: self.allocatedBytes)
        // Negative windowBits: raw deflate, no zlib header or checksum (RFC 7692 section 7.2.1).
        let status = czlib_deflate_init2(stream, Int32(self.level), -Int32(self.windowBits), Int32(self.memLevel))
        precondition(status == Z_OK, "deflateInit2 returned \(status)")
        self.stream = stream
        return stream
    }
}

/// A `Deflater` holds a zlib stream and must stay on one thread (event loop).
@available(*, unavailable)
extension Deflater: Sendable {}
