import NIOCore
import NIOWebSocket

/// Turns decoded RFC 6455 frames into messages and control actions (sections 5.4–5.6, 7.4, 8.1).
///
/// A pure state machine: it gets one frame at a time (an `RFC6455Frame` from `RFC6455FrameReader`,
/// or NIO's `WebSocketFrame` from its `WebSocketFrameDecoder`)
/// and answers what to do. It enforces masking, reserved bits and opcodes, fragmentation rules,
/// the message size limit, UTF-8 in text (failing on the first bad byte, across fragments) and the
/// close frame's code and reason. It does not do the closing handshake's timing: the handler does.
public struct RFC6455MessageAssembler: Sendable {
    /// What to do after a frame.
    public enum Action: Equatable, Sendable {
        /// A fragment was taken in; the message is not complete yet.
        case needMore
        /// A complete message.
        case message(GatewayMessage)
        /// A complete permessage-deflate message (RSV1 on its first frame): still compressed, its
        /// UTF-8 not checked yet; the handler inflates it (RFC 7692 section 6.2).
        case compressedMessage(isText: Bool, payload: ByteBuffer)
        /// A ping: answer with a pong carrying this payload.
        case ping(ByteBuffer)
        /// A pong: nothing to answer.
        case pong
        /// The peer closed, with this code and reason (both validated).
        case peerClosed(WebSocketClose)
        /// The peer broke a rule: close with this code.
        case fail(WebSocketClose)
    }

    private enum State: Sendable {
        case idle
        case assembling(isText: Bool, buffer: ByteBuffer)
        case assemblingCompressed(isText: Bool, buffer: ByteBuffer)
    }

    private var state: State = .idle
    private var validator = UTF8Validator()
    /// The largest message accepted, in bytes (close 1009 beyond).
    public let maxMessageSize: Int
    /// Whether frames must be masked (true for a server, section 5.1).
    public let requiresMasking: Bool

    /// Whether RSV1 marks compressed messages (permessage-deflate was negotiated).
    public let acceptsCompressed: Bool

    /// The largest compressed message accepted on the wire (its inflated size is the handler's to
    /// bound, at `maxMessageSize`).
    public var maxCompressedSize: Int {
        self.acceptsCompressed ? Self.compressedWireLimit(self.maxMessageSize) : self.maxMessageSize
    }

    /// The most compressed bytes a message of `limit` bytes may take on the wire: incompressible
    /// data goes in stored blocks of 5 bytes' overhead each, and small buffers cut them small
    /// (zlib at 12 window bits: 0.2 % over 1 MiB of random bytes; at memLevel 1: 3.9 %), so
    /// 1/16 and 1 KiB more. What it inflates to is bounded at `limit` itself.
    public static func compressedWireLimit(_ limit: Int) -> Int {
        let (sum, overflow) = limit.addingReportingOverflow(limit / 16 + 1024)
        return overflow ? Int.max : sum
    }

    public init(maxMessageSize: Int, requiresMasking: Bool = true, acceptsCompressed: Bool = false) {
        self.maxMessageSize = maxMessageSize
        self.requiresMasking = requiresMasking
        self.acceptsCompressed = acceptsCompressed
    }

    /// A failure with `code` and `reason`.
    static func fail(code: WebSocketCloseCode, reason: String) -> Action {
        .fail(WebSocketClose(code: code, reason: reason))
    }

    /// Takes one frame.
    public mutating func receive(_ frame: WebSocketFrame) -> Action {
        self.receive(RFC6455Frame(frame))
    }

    /// Takes one frame.
    public mutating func receive(_ frame: RFC6455Frame) -> Action {
        if frame.rsv2 || frame.rsv3 || (frame.rsv1 && !self.acceptsCompressed) {
            return Self.fail(code: .protocolError, reason: "reserved bits set")
        }
        if self.requiresMasking && frame.maskKey == nil {
            return Self.fail(code: .protocolError, reason: "client frames must be masked")
        }
        let opcode = frame.opcode
        switch opcode {
        case 0x8, 0x9, 0xA:
            guard !frame.rsv1 else { return Self.fail(code: .protocolError, reason: "RSV1 on a control frame") }
            guard frame.fin else { return Self.fail(code: .protocolError, reason: "fragmented control frame") }
            guard frame.length <= 125 else { return Self.fail(code: .protocolError, reason: "control frame over 125 bytes") }
            let payload = Self.payload(of: frame)
            switch opcode {
            case 0x9: return .ping(payload)
            case 0xA: return .pong
            default: return Self.parseClose(payload)
            }
        case 0x1, 0x2:
            guard case .idle = self.state else {
                return Self.fail(code: .protocolError, reason: "new data frame inside a fragmented message")
            }
            if frame.rsv1 { return self.takeCompressed(frame, isText: opcode == 0x1, into: nil) }
            return self.take(frame, isText: opcode == 0x1, into: nil)
        case 0x0:
            guard !frame.rsv1 else { return Self.fail(code: .protocolError, reason: "RSV1 on a continuation frame") }
            switch self.state {
            case .assembling(let isText, let buffer):
                self.state = .idle  // drop our reference so the buffer can grow in place
                return self.take(frame, isText: isText, into: buffer)
            case .assemblingCompressed(let isText, let buffer):
                self.state = .idle
                return self.takeCompressed(frame, isText: isText, into: buffer)
            case .idle:
                return Self.fail(code: .protocolError, reason: "continuation frame with no message to continue")
            }
        default:
            return Self.fail(code: .protocolError, reason: "reserved opcode \(opcode)")
        }
    }

    private mutating func take(_ frame: RFC6455Frame, isText: Bool, into existing: ByteBuffer?) -> Action {
        let total = (existing?.readableBytes ?? 0) + frame.length
        guard total <= self.maxMessageSize else {
            return Self.fail(code: .messageTooBig, reason: "message over \(self.maxMessageSize) bytes")
        }
        if var existing, let key = frame.maskKey {
            // A continuation: unmask straight onto the end of the message so far.
            let start = existing.writerIndex
            WebSocketMasking.appendMasked(frame.data, key: key, to: &existing)
            if isText {
                let ok = existing.withUnsafeReadableBytes { raw in
                    self.validator.feed(UnsafeRawBufferPointer(rebasing: raw[(start - existing.readerIndex)...]))
                }
                guard ok else { return Self.fail(code: .invalidPayload, reason: "invalid UTF-8 in a text message") }
                if frame.fin, !self.validator.isComplete {
                    return Self.fail(code: .invalidPayload, reason: "text message ends inside a UTF-8 sequence")
                }
            }
            if frame.fin { return .message(isText ? .text(existing) : .binary(existing)) }
            self.state = .assembling(isText: isText, buffer: existing)
            return .needMore
        }
        let payload = Self.payload(of: frame)
        if isText {
            if existing == nil { self.validator = UTF8Validator() }
            let ok = payload.withUnsafeReadableBytes { self.validator.feed($0) }
            guard ok else { return Self.fail(code: .invalidPayload, reason: "invalid UTF-8 in a text message") }
            if frame.fin, !self.validator.isComplete {
                return Self.fail(code: .invalidPayload, reason: "text message ends inside a UTF-8 sequence")
            }
        }
        var buffer: ByteBuffer
        if var existing {
            existing.writeImmutableBuffer(payload)
            buffer = existing
        } else {
            buffer = payload
        }
        if frame.fin {
            return .message(isText ? .text(buffer) : .binary(buffer))
        }
        if existing == nil && frame.maskKey == nil {
            // Own the bytes: an unmasked first fragment is a slice of the receive buffer.
            var copy = ByteBuffer()
            copy.reserveCapacity(minimumWritableBytes: buffer.readableBytes)
            copy.writeImmutableBuffer(buffer)
            buffer = copy
        }
        self.state = .assembling(isText: isText, buffer: buffer)
        return .needMore
    }

    /// A frame of a compressed message: unmasked and gathered; UTF-8 is checked after inflation.
    private mutating func takeCompressed(_ frame: RFC6455Frame, isText: Bool, into existing: ByteBuffer?) -> Action {
        let total = (existing?.readableBytes ?? 0) + frame.length
        guard total <= self.maxCompressedSize else {
            return Self.fail(code: .messageTooBig, reason: "message over \(self.maxMessageSize) bytes")
        }
        var buffer: ByteBuffer
        if var existing {
            if let key = frame.maskKey {
                WebSocketMasking.appendMasked(frame.data, key: key, to: &existing)
            } else {
                existing.writeImmutableBuffer(frame.data)
            }
            buffer = existing
        } else {
            buffer = Self.payload(of: frame)
            if !frame.fin && frame.maskKey == nil {
                // Own the bytes: an unmasked first fragment is a slice of the receive buffer.
                var copy = ByteBuffer()
                copy.reserveCapacity(minimumWritableBytes: buffer.readableBytes)
                copy.writeImmutableBuffer(buffer)
                buffer = copy
            }
        }
        if frame.fin { return .compressedMessage(isText: isText, payload: buffer) }
        self.state = .assemblingCompressed(isText: isText, buffer: buffer)
        return .needMore
    }

    /// The frame's payload, unmasked into a buffer of its own (one pass, eight bytes at a time).
    static func payload(of frame: RFC6455Frame) -> ByteBuffer {
        guard let key = frame.maskKey else { return frame.data }
        return WebSocketMasking.maskedCopy(of: frame.data, key: key)
    }

    /// Section 5.5.1 and 7.4: an empty body, or a valid code and a UTF-8 reason.
    static func parseClose(_ payload: ByteBuffer) -> Action {
        var payload = payload
        if payload.readableBytes == 0 { return .peerClosed(WebSocketClose(code: nil, reason: nil)) }
        guard let code = payload.readInteger(as: UInt16.self) else {
            return Self.fail(code: .protocolError, reason: "close frame with a one-byte body")
        }
        guard WebSocketCloseCode(rawValue: code).isValidReceived else {
            return Self.fail(code: .protocolError, reason: "invalid close code \(code)")
        }
        let valid = payload.withUnsafeReadableBytes { UTF8Validator.isValid($0) }
        guard valid else { return Self.fail(code: .invalidPayload, reason: "invalid UTF-8 in a close reason") }
        let reason = payload.readString(length: payload.readableBytes) ?? ""
        return .peerClosed(WebSocketClose(code: WebSocketCloseCode(rawValue: code), reason: reason))
    }
}
