import NIOCore

/// Small plaintext writes waiting for the flush, to be encrypted together as one TLS record.
///
/// One write is kept as the buffer it came in (no allocation, no copy: the usual case is one message
/// per flush); only a second write before the flush gathers them into a buffer of their own.
enum GatheredWrites {
    /// Nothing waiting.
    case none
    /// One write, as it was written.
    case single(ByteBuffer)
    /// Several writes, copied one after the other into a buffer of our own.
    case gathered(ByteBuffer)

    /// Plaintext bytes waiting.
    var byteCount: Int {
        switch self {
        case .none: 0
        case .single(let buffer), .gathered(let buffer): buffer.readableBytes
        }
    }

    /// Adds `plaintext` after what is waiting.
    mutating func append(_ plaintext: ByteBuffer, allocator: ByteBufferAllocator) {
        switch self {
        case .none:
            self = .single(plaintext)
        case .single(let first):
            var combined = allocator.buffer(capacity: max(first.readableBytes + plaintext.readableBytes, 1024))
            combined.writeImmutableBuffer(first)
            combined.writeImmutableBuffer(plaintext)
            self = .gathered(combined)
        case .gathered(var combined):
            self = .none  // so that `combined` is uniquely referenced and grows in place
            combined.writeImmutableBuffer(plaintext)
            self = .gathered(combined)
        }
    }

    /// What is waiting, as one buffer (nil if nothing); leaves nothing waiting.
    mutating func take() -> ByteBuffer? {
        defer { self = .none }
        switch self {
        case .none: return nil
        case .single(let buffer), .gathered(let buffer): return buffer
        }
    }
}
