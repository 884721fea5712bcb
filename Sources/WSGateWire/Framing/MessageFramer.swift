import NIOCore

/// Frames normalized messages for one frame family: the one place outbound framing is decided.
public enum MessageFramer {
    /// The message as one frame of `family`, header and payload in one buffer.
    public static func frame(_ message: GatewayMessage, family: FrameFamily) -> ByteBuffer {
        switch family {
        case .rfc6455:
            return RFC6455FrameEncoder.message(message)
        case .hixieText:
            switch message {
            case .text(let bytes): return HixieFrameEncoder.textFrame(bytes.readableBytesView)
            case .binary(let bytes): return HixieFrameEncoder.textFrame(Base64.encode(bytes))
            }
        }
    }
}

/// One message encoded for the families that will carry it, shared (immutable) by every
/// connection that writes it: a room encodes each message once per family, not once per member.
public final class FramedMessage: Sendable {
    /// The message itself.
    public let message: GatewayMessage
    private let rfc6455: ByteBuffer?
    private let hixie: ByteBuffer?

    /// Encodes `message` for each of `families` now; other families are encoded on demand.
    public init(_ message: GatewayMessage, families: some Sequence<FrameFamily>) {
        self.message = message
        var rfc6455: ByteBuffer?
        var hixie: ByteBuffer?
        for family in families {
            switch family {
            case .rfc6455: rfc6455 = MessageFramer.frame(message, family: .rfc6455)
            case .hixieText: hixie = MessageFramer.frame(message, family: .hixieText)
            }
        }
        self.rfc6455 = rfc6455
        self.hixie = hixie
    }

    /// The bytes for a connection of `family`.
    public func bytes(for family: FrameFamily) -> ByteBuffer {
        switch family {
        case .rfc6455: return self.rfc6455 ?? MessageFramer.frame(self.message, family: .rfc6455)
        case .hixieText: return self.hixie ?? MessageFramer.frame(self.message, family: .hixieText)
        }
    }
}
