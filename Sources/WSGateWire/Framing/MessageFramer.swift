import NIOCore

/// Frames normalized messages for one frame family: the one place outbound framing is decided.
public enum MessageFramer {
    /// The message as one frame of `family`, header and payload in one buffer; `compressed` says
    /// whether a deflate ran for it (counted by the gateway).
    public static func frame(_ message: GatewayMessage, family: FrameFamily) -> (bytes: ByteBuffer, compressed: Bool) {
        switch family {
        case .rfc6455:
            return (RFC6455FrameEncoder.message(message), false)
        case .hixieText:
            switch message {
            case .text(let bytes): return (HixieFrameEncoder.textFrame(bytes.readableBytesView), false)
            case .binary(let bytes): return (HixieFrameEncoder.textFrame(Base64.encode(bytes)), false)
            }
        case .rfc6455Deflate(let windowBits, let minBytes):
            let payload = message.payload
            guard payload.readableBytes >= minBytes else { return (RFC6455FrameEncoder.message(message), false) }
            let compressed = SharedDeflaters.compressedFrame(
                opcode: message.isText ? .text : .binary, message: payload, windowBits: windowBits)
            // A message that would not shrink goes out plain (RSV1 clear).
            let plainLength = RFC6455FrameEncoder.headerLength(payloadLength: payload.readableBytes, masked: false) + payload.readableBytes
            return (compressed.readableBytes < plainLength ? compressed : RFC6455FrameEncoder.message(message), true)
        }
    }
}

/// One message encoded for the families that will carry it, shared (immutable) by every
/// connection that writes it: a room encodes each message once per family, not once per member.
public final class FramedMessage: Sendable {
    /// The message itself.
    public let message: GatewayMessage
    /// How many deflates its encoding took (one per compressed family, whatever the members).
    public let compressions: Int
    private let rfc6455: ByteBuffer?
    private let hixie: ByteBuffer?
    /// Compressed families, when the room has members that negotiated permessage-deflate.
    private let deflated: [(family: FrameFamily, bytes: ByteBuffer)]

    /// Encodes `message` for each of `families` now; other families are encoded on demand.
    public init(_ message: GatewayMessage, families: some Sequence<FrameFamily>) {
        self.message = message
        var rfc6455: ByteBuffer?
        var hixie: ByteBuffer?
        var deflated: [(family: FrameFamily, bytes: ByteBuffer)] = []
        var compressions = 0
        for family in families {
            let (bytes, compressed) = MessageFramer.frame(message, family: family)
            if compressed { compressions += 1 }
            switch family {
            case .rfc6455: rfc6455 = bytes
            case .hixieText: hixie = bytes
            case .rfc6455Deflate: deflated.append((family, bytes))
            }
        }
        self.rfc6455 = rfc6455
        self.hixie = hixie
        self.deflated = deflated
        self.compressions = compressions
    }

    /// The bytes for a connection of `family`.
    public func bytes(for family: FrameFamily) -> ByteBuffer {
        switch family {
        case .rfc6455: return self.rfc6455 ?? MessageFramer.frame(self.message, family: .rfc6455).bytes
        case .hixieText: return self.hixie ?? MessageFramer.frame(self.message, family: .hixieText).bytes
        case .rfc6455Deflate:
            for entry in self.deflated where entry.family == family { return entry.bytes }
            return MessageFramer.frame(self.message, family: family).bytes
        }
    }
}
