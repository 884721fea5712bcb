import NIOCore
import NIOWebSocket

/// One RFC 6455 frame as `RFC6455FrameReader` cut it (section 5.2): the bits of its first byte, its
/// masking key and its payload, still masked. A plain value: unlike NIO's `WebSocketFrame` it
/// holds no storage object of its own, so cutting a frame allocates nothing.
public struct RFC6455Frame: Sendable {
    /// FIN, RSV1-3 and the opcode, as on the wire.
    public var firstByte: UInt8
    /// The masking key's four bytes (nil: the frame is not masked).
    public var maskKey: (UInt8, UInt8, UInt8, UInt8)?
    /// The payload as sent (masked when `maskKey` is set).
    public var data: ByteBuffer

    public init(firstByte: UInt8, maskKey: (UInt8, UInt8, UInt8, UInt8)?, data: ByteBuffer) {
        self.firstByte = firstByte
        self.maskKey = maskKey
        self.data = data
    }

    /// NIO's decoded frame, as this type.
    public init(_ frame: WebSocketFrame) {
        self.firstByte = (frame.fin ? 0x80 : 0) | (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) | (frame.rsv3 ? 0x10 : 0)
            | UInt8(webSocketOpcode: frame.opcode)
        self.maskKey = frame.maskKey.map { WebSocketMasking.bytes(of: $0) }
        self.data = frame.data
    }

    public var fin: Bool { self.firstByte & 0x80 != 0 }
    public var rsv1: Bool { self.firstByte & 0x40 != 0 }
    public var rsv2: Bool { self.firstByte & 0x20 != 0 }
    public var rsv3: Bool { self.firstByte & 0x10 != 0 }
    /// The opcode, 0x0-0xF.
    public var opcode: UInt8 { self.firstByte & 0x0F }
    /// The payload's length.
    public var length: Int { self.data.readableBytes }
}

/// Cuts RFC 6455 frames (section 5.2) out of the bytes a connection reads: the frame handler's
/// own decoder, called directly, in place of NIO's `ByteToMessageHandler(WebSocketFrameDecoder)`,
/// which put every frame through the pipeline boxed in `NIOAny` (an allocation and a chain of
/// dynamic casts per frame) and re-ran a byte-at-a-time state machine.
///
/// The checks are NIO's decoder's, made as soon as a frame's length is known (so that nothing over
/// the limit is ever buffered): longer than `maxFrameSize` is `.invalidFrameLength` (close 1009), a
/// control frame without FIN is `.fragmentedControlFrame` and one over 125 bytes is
/// `.multiByteControlFrameLength` (1002). Everything else (reserved bits, opcodes, masking,
/// fragmentation, UTF-8) is `RFC6455MessageAssembler`'s. Payloads stay masked (the assembler
/// unmasks them once, into the message's own buffer) and are slices of the bytes read.
public struct RFC6455FrameReader {
    /// The largest frame accepted, in bytes.
    public let maxFrameSize: Int
    /// Bytes not yet cut into frames: nil when every byte read so far was a whole frame.
    private var pending: ByteBuffer?

    /// Above this many consumed bytes at the front of `pending`, they are dropped before more is
    /// appended (a stream that always ends mid-frame would otherwise keep every byte it sent).
    static let compactionThreshold = 4096

    public init(maxFrameSize: Int) {
        precondition(maxFrameSize <= UInt32.max, "frames are at most 4 GiB here")
        self.maxFrameSize = maxFrameSize
    }

    /// The reader for frames `assembler` will take: as long as its largest message on the wire
    /// (`maxCompressedSize`: a compressed message may be a little longer than what it inflates to).
    public init(for assembler: RFC6455MessageAssembler) {
        self.init(maxFrameSize: min(assembler.maxCompressedSize, Int(UInt32.max)))
    }

    /// How many bytes wait for the rest of their frame.
    public var pendingBytes: Int { self.pending?.readableBytes ?? 0 }

    /// The storage the waiting bytes keep (for the tests of the compaction).
    var heldCapacity: Int { self.pending?.capacity ?? 0 }

    /// Takes bytes read from the connection (after any already taken).
    public mutating func append(_ bytes: ByteBuffer) {
        guard var buffer = self.pending else {
            self.pending = bytes
            return
        }
        self.pending = nil  // one reference: the append below grows it in place when it can
        if buffer.readerIndex >= Self.compactionThreshold { buffer.discardReadBytes() }
        buffer.writeImmutableBuffer(bytes)
        self.pending = buffer
    }

    /// Drops whatever was read and not cut into frames yet (the connection is closing).
    public mutating func discard() {
        self.pending = nil
    }

    /// The next complete frame, or nil until more bytes come.
    public mutating func next() throws(NIOWebSocketError) -> RFC6455Frame? {
        guard let buffer = self.pending else { return nil }
        let start = buffer.readerIndex
        let readable = buffer.readableBytes
        guard readable >= 2, let first = buffer.getInteger(at: start, as: UInt8.self),
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return nil }
        var headerLength = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard readable >= 4, let word = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(word)
            headerLength = 4
        } else if length == 127 {
            guard readable >= 10, let qword = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            guard qword <= UInt64(self.maxFrameSize) else { throw .invalidFrameLength }
            length = Int(qword)
            headerLength = 10
        }
        guard length <= self.maxFrameSize else { throw .invalidFrameLength }
        let isControl = first & 0x08 != 0
        if isControl && first & 0x80 == 0 { throw .fragmentedControlFrame }
        if isControl && length > 125 { throw .multiByteControlFrameLength }
        let masked = second & 0x80 != 0
        if masked { headerLength += 4 }
        guard readable >= headerLength + length else { return nil }
        var maskKey: (UInt8, UInt8, UInt8, UInt8)? = nil
        if masked, let key = buffer.getInteger(at: start + headerLength - 4, as: UInt32.self) {
            maskKey = (UInt8(truncatingIfNeeded: key >> 24), UInt8(truncatingIfNeeded: key >> 16), UInt8(truncatingIfNeeded: key >> 8), UInt8(truncatingIfNeeded: key))
        }
        let data = buffer.getSlice(at: start + headerLength, length: length) ?? ByteBuffer()
        if readable == headerLength + length {
            self.pending = nil
        } else {
            self.pending!.moveReaderIndex(forwardBy: headerLength + length)
        }
        return RFC6455Frame(firstByte: first, maskKey: maskKey, data: data)
    }
}
