import NIOCore

/// permessage-deflate on a connection where this side is the client (RFC 7692): the gateway's own
/// hop to a WebSocket backend, and `WSGateClient`. Its zlib streams are made on the first
/// compressed message in each direction, so a connection that never compresses holds none.
///
/// Sending: a message of `minBytes` or more is compressed, masked, into one frame, and used only if
/// that frame is shorter than the plain one; when it is not, the compressor, whose window now holds
/// bytes the server never inflated, is dropped (a new one starts empty, which the server's
/// decompressor can follow). Receiving: a compressed message inflates within `maxMessageSize`
/// (1009 past it, 1007 for data that does not inflate) and a text one must then be UTF-8 (1007).
public final class ClientMessageCompression {
    /// What the server accepted.
    public let parameters: PerMessageDeflateParameters
    /// Messages shorter than this go out plain.
    public let minBytes: Int
    /// zlib's memLevel for the compressor (its hash table is 2^(memLevel+9) bytes: 128 KiB at the
    /// default 8, 4 KiB at 3).
    public let memLevel: Int
    private var inflater: Inflater?
    private var deflater: Deflater?

    public init(parameters: PerMessageDeflateParameters, minBytes: Int, memLevel: Int = Deflater.defaultMemLevel) {
        self.parameters = parameters
        self.minBytes = minBytes
        self.memLevel = memLevel
    }

    /// Frees both zlib streams (the connection is gone; a later message would make new ones).
    public func release() {
        self.inflater = nil
        self.deflater = nil
    }

    /// The zlib memory held now (0 until the first compressed message each way).
    public var zlibMemoryBytes: Int { (self.inflater?.zlibMemoryBytes ?? 0) + (self.deflater?.zlibMemoryBytes ?? 0) }

    /// The message as one compressed, masked frame, or nil when it goes out plain (too short, or no
    /// shorter compressed).
    public func compressedFrame(
        opcode: RFC6455FrameEncoder.Opcode, payload: ByteBuffer, maskingKey: (UInt8, UInt8, UInt8, UInt8), allocator: ByteBufferAllocator
    ) -> ByteBuffer? {
        guard payload.readableBytes >= self.minBytes else { return nil }
        let deflater = self.deflater ?? self.parameters.makeDeflater(role: .client, memLevel: self.memLevel)
        self.deflater = deflater
        let frame = RFC6455FrameEncoder.compressedMessageFrame(
            opcode: opcode, message: payload, deflater: deflater, maskingKey: maskingKey, allocator: allocator)
        let plainLength = RFC6455FrameEncoder.headerLength(payloadLength: payload.readableBytes, masked: true) + payload.readableBytes
        if frame.readableBytes < plainLength { return frame }
        if !self.parameters.clientNoContextTakeover { self.deflater = nil }
        return nil
    }

    /// What a compressed message from the server came to.
    public enum Inflation {
        /// The message, inflated and checked.
        case message(GatewayMessage)
        /// The connection must fail with this close.
        case fail(WebSocketClose)
    }

    /// A compressed message from the server, inflated and checked.
    public func inflate(_ payload: ByteBuffer, isText: Bool, maxMessageSize: Int, allocator: ByteBufferAllocator) -> Inflation {
        let inflater = self.inflater ?? self.parameters.makeInflater(role: .client)
        self.inflater = inflater
        let message: ByteBuffer
        do {
            message = try inflater.decompress(payload, maxOutputBytes: maxMessageSize, allocator: allocator)
        } catch {
            switch error {
            case .tooLarge: return .fail(WebSocketClose(code: .messageTooBig, reason: "message over \(maxMessageSize) bytes once inflated"))
            case .invalidData: return .fail(WebSocketClose(code: .invalidPayload, reason: "compressed data that does not inflate"))
            case .zlibFailure: return .fail(WebSocketClose(code: .internalError, reason: "zlib failed"))
            }
        }
        if isText, !message.withUnsafeReadableBytes({ UTF8Validator.isValid($0) }) {
            return .fail(WebSocketClose(code: .invalidPayload, reason: "invalid UTF-8 in a text message"))
        }
        return .message(isText ? .text(message) : .binary(message))
    }
}

@available(*, unavailable)
extension ClientMessageCompression: Sendable {}
