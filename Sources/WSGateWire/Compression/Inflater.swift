import CZlib
import NIOCore

/// The decompressing half of permessage-deflate for one direction of one connection (RFC 7692
/// section 7.2.2): the payloads of a compressed message (the frames of a message whose first
/// frame had RSV1), then `00 00 ff ff`, through raw inflate.
///
/// Output is bounded: inflation stops with `.tooLarge` as soon as a message passes
/// `maxOutputBytes`, having written at most `maxOutputBytes + 1` bytes, so a small bomb costs no
/// more than the limit. zlib's state is allocated on the first non-empty message and freed when
/// the `Inflater` is released. Not thread-safe: use it on one event loop.
///
/// After a thrown error the connection must be closed (1009 for `.tooLarge`, 1007 for
/// `.invalidData`): the `Inflater` resets itself, but with context takeover the peer's later
/// messages refer to a window it no longer has.
///
/// Memory (measured with zlib 1.2.13, reported by `zlibMemoryBytes`): about 7 KiB of state plus
/// the window, 2^windowBits bytes: 11 KiB at 12 bits, 39 KiB at 15.
public final class Inflater {
    /// log2 of the largest window the peer may use, 9...15. A larger value than the peer's
    /// always works; with a smaller one, references into earlier messages fail (`.invalidData`).
    public let windowBits: Int
    /// Whether the window is dropped after every message (`inflateReset`): only when the peer
    /// promised not to take over context (`*_no_context_takeover` for its direction).
    public let noContextTakeover: Bool

    private var stream: UnsafeMutablePointer<z_stream>?
    private let allocatedBytes: UnsafeMutablePointer<Int>
    /// Bytes inflated so far for the message in progress.
    private var messageBytes = 0
    /// Whether the message in progress had any compressed bytes yet.
    private var messageHasInput = false
    /// Where the decompressor stands in the DEFLATE data, to check that a message ends well.
    private var position = Position.freshStream

    /// A place in the DEFLATE data, as zlib reports it after each step.
    private enum Position {
        /// A new stream that has read nothing: at the start, or after a final block.
        case freshStream
        /// Between two blocks, byte-aligned: where every message ends (section 7.2.1).
        case betweenBlocks
        /// Just after a block with BFINAL set; what follows in the byte is padding.
        case afterFinalBlock
        /// Anywhere else: inside a block or its header, or between blocks but not byte-aligned.
        case insideBlock
    }

    /// The 4 octets that RFC 7692 section 7.2.2 appends to every compressed message.
    private static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    /// A decompressor. `windowBits` outside 9...15 is a programming error (trap).
    public init(windowBits: Int = 15, noContextTakeover: Bool = false) {
        precondition((9...15).contains(windowBits), "windowBits must be 9...15")
        self.windowBits = windowBits
        self.noContextTakeover = noContextTakeover
        self.allocatedBytes = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        self.allocatedBytes.initialize(to: 0)
    }

    deinit {
        if let stream = self.stream {
            inflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        self.allocatedBytes.deallocate()
    }

    /// The bytes zlib allocated for this decompressor: 0 until the first non-empty message.
    public var zlibMemoryBytes: Int { self.allocatedBytes.pointee }

    /// About what zlib allocates for a decompressor once it has inflated a message: its state
    /// (`inflate_state`, about 7 KiB) and the window, `1 << windowBits` bytes.
    public static func memoryBytes(windowBits: Int) -> Int {
        (1 << windowBits) + 7 * 1024
    }

    /// One whole message from its frames' payloads, in order, in a new buffer.
    ///
    /// - Throws: `.tooLarge` once the message passes `maxOutputBytes`, `.invalidData` for bytes
    ///   that are not DEFLATE data, `.zlibFailure` if zlib fails for another reason.
    public func decompress(
        _ fragments: ByteBuffer...,
        maxOutputBytes: Int,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(PerMessageDeflateError) -> ByteBuffer {
        try self.decompress(fragments: fragments, maxOutputBytes: maxOutputBytes, allocator: allocator)
    }

    /// One whole message from its frames' payloads, in order, in a new buffer (see above).
    public func decompress(
        fragments: [ByteBuffer],
        maxOutputBytes: Int,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(PerMessageDeflateError) -> ByteBuffer {
        let compressedBytes = fragments.reduce(0) { $0 + $1.readableBytes }
        // A first guess of 4x (text) up to 1 MiB, grown by doubling; never more than the limit allows.
        let guess = min(max(compressedBytes, 64), 1 << 18) * 4
        var output = allocator.buffer(capacity: min(guess, Self.allowed(maxOutputBytes, produced: 0)))
        if fragments.isEmpty {
            try self.decompressFragment(ByteBuffer(), isFinal: true, maxOutputBytes: maxOutputBytes, into: &output)
        }
        for (index, fragment) in fragments.enumerated() {
            try self.decompressFragment(fragment, isFinal: index == fragments.count - 1, maxOutputBytes: maxOutputBytes, into: &output)
        }
        return output
    }

    /// Inflates one frame's payload of the message in progress, appending to `output`; `isFinal`
    /// for the frame with FIN, which also inflates the tail and ends the message.
    ///
    /// `maxOutputBytes` bounds the bytes inflated for the whole message (all its frames), not
    /// `output`'s size. A message whose payloads are all empty inflates to nothing; one that stops
    /// inside a DEFLATE block is `.invalidData`. On a throw, `output` may hold part of the message.
    public func decompressFragment(
        _ fragment: ByteBuffer,
        isFinal: Bool,
        maxOutputBytes: Int,
        into output: inout ByteBuffer
    ) throws(PerMessageDeflateError) {
        precondition(maxOutputBytes >= 0, "maxOutputBytes must not be negative")
        if fragment.readableBytes > 0 {
            self.messageHasInput = true
            var failure: PerMessageDeflateError?
            fragment.withUnsafeReadableBytes { input in
                do throws(PerMessageDeflateError) {
                    try self.inflate(input, into: &output, limit: maxOutputBytes)
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
        }
        guard isFinal else { return }
        if self.messageHasInput {
            // A message that ends with a complete final block (BFINAL) gets no tail: its stream is
            // over, and a tail read as a new stream would leave a stored block unfinished.
            if self.position == .betweenBlocks || self.position == .insideBlock {
                var failure: PerMessageDeflateError?
                Self.tail.withUnsafeBytes { tail in
                    do throws(PerMessageDeflateError) {
                        try self.inflate(tail, into: &output, limit: maxOutputBytes)
                    } catch {
                        failure = error
                    }
                }
                if let failure { throw failure }
            }
            guard self.position != .insideBlock else {
                self.abandonMessage()
                throw .invalidData(reason: "the message does not end on a DEFLATE block boundary")
            }
        }
        self.messageBytes = 0
        self.messageHasInput = false
        if self.noContextTakeover, let stream = self.stream {
            inflateReset(stream)
            self.position = .freshStream
        }
    }

    /// Drops the message in progress and the window, as after an error: for a caller that gives
    /// up on a message part-way. With context takeover, later messages cannot be decoded.
    public func abandonMessage() {
        self.messageBytes = 0
        self.messageHasInput = false
        self.position = .freshStream
        if let stream = self.stream {
            inflateReset(stream)
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
            stream.pointee.next_out = nil
            stream.pointee.avail_out = 0
        }
    }

    // MARK: - zlib

    /// How many more bytes may be written: one past the limit, to see that it is passed.
    private static func allowed(_ limit: Int, produced: Int) -> Int {
        let (allowed, overflow) = (limit - produced).addingReportingOverflow(1)
        return overflow ? Int.max : allowed
    }

    /// Inflates all of `input` into `output`, in bounded steps. Z_BLOCK makes zlib stop at each
    /// block boundary and report it in `data_type`, which is how the tail's end is checked.
    private func inflate(_ input: UnsafeRawBufferPointer, into output: inout ByteBuffer, limit: Int) throws(PerMessageDeflateError) {
        let stream = try self.ensureStream()
        defer {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
            stream.pointee.next_out = nil
            stream.pointee.avail_out = 0
        }
        var offset = 0
        var outputFull = false
        repeat {
            if stream.pointee.avail_in == 0 && offset < input.count {
                let chunk = min(input.count - offset, zlibMaximumChunk)
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self))
                stream.pointee.avail_in = uInt(chunk)
                offset += chunk
            }
            let allowed = Self.allowed(limit, produced: self.messageBytes)
            let availableBefore = stream.pointee.avail_in
            var status = Z_OK
            let written = output.writeWithUnsafeMutableBytes(minimumWritableBytes: min(allowed, max(512, self.messageBytes))) { out in
                let space = min(out.count, allowed, zlibMaximumChunk)
                stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(space)
                status = CZlib.inflate(stream, Z_BLOCK)
                return space - Int(stream.pointee.avail_out)
            }
            outputFull = stream.pointee.avail_out == 0
            let progressed = written > 0 || stream.pointee.avail_in != availableBefore
            self.messageBytes += written
            if self.messageBytes > limit {
                self.abandonMessage()
                throw .tooLarge(limit: limit)
            }
            switch status {
            case Z_OK, Z_BUF_ERROR:
                if progressed {
                    // data_type: the unused bits in the last byte read (low 6 bits), +64 while in
                    // the final block, +128 just after a block ended (zlib.h, inflate()).
                    let dataType = stream.pointee.data_type
                    if dataType & 128 == 0 {
                        self.position = .insideBlock
                    } else if dataType & 64 != 0 {
                        self.position = .afterFinalBlock
                    } else {
                        self.position = dataType & 63 == 0 ? .betweenBlocks : .insideBlock
                    }
                } else if stream.pointee.avail_in > 0 && !outputFull {
                    self.abandonMessage()
                    throw .invalidData(reason: "inflate made no progress")
                }
            case Z_STREAM_END:
                // A block with BFINAL set (RFC 7692 section 7.2.3.4): the DEFLATE stream is over,
                // but the message (or the next one) may go on with a new stream. Start one that
                // keeps the window, so that context takeover still holds across it.
                try self.restartKeepingWindow(stream)
            case Z_DATA_ERROR:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "invalid DEFLATE data"
                self.abandonMessage()
                throw .invalidData(reason: reason)
            default:
                self.abandonMessage()
                throw .zlibFailure(code: status)
            }
        } while stream.pointee.avail_in > 0 || offset < input.count || outputFull
    }

    /// After Z_STREAM_END: a fresh raw stream over the remaining input, primed with the window.
    private func restartKeepingWindow(_ stream: UnsafeMutablePointer<z_stream>) throws(PerMessageDeflateError) {
        let window = UnsafeMutablePointer<Bytef>.allocate(capacity: 1 << self.windowBits)
        defer { window.deallocate() }
        var length: uInt = 0
        var status = inflateGetDictionary(stream, window, &length)
        if status == Z_OK { status = inflateReset(stream) }
        if status == Z_OK && length > 0 { status = inflateSetDictionary(stream, window, length) }
        guard status == Z_OK else {
            self.abandonMessage()
            throw .zlibFailure(code: status)
        }
        self.position = .freshStream
    }

    private func ensureStream() throws(PerMessageDeflateError) -> UnsafeMutablePointer<z_stream> {
        if let stream = self.stream { return stream }
        let stream = makeZlibStream(counter: self.allocatedBytes)
        // Negative windowBits: raw inflate, no zlib header or checksum (RFC 7692 section 7.2.2).
        let status = czlib_inflate_init2(stream, -Int32(self.windowBits))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw .zlibFailure(code: status)
        }
        self.stream = stream
        return stream
    }
}

/// An `Inflater` holds a zlib stream and must stay on one thread (event loop).
@available(*, unavailable)
extension Inflater: Sendable {}
