import NIOCore
import WSGateWire

/// One message published to a room, encoded once per dialect family and shared by every member.
///
/// Immutable once built: the same bytes are written to every member of that family.
final class RoomDelivery: Sendable {
    /// The room's sequence number: the one order every member sees.
    let sequence: UInt64
    /// The member that sent it (nil for notices from the gateway).
    let senderID: UInt64?
    /// The RFC 6455 frame.
    let rfc6455Frame: ByteBuffer
    /// The hixie frame (binary as base64 text), when a hixie member may need it.
    let hixieFrame: ByteBuffer?
    /// The message itself, kept for history replay to dialects encoded later.
    let message: GatewayMessage

    init(sequence: UInt64, senderID: UInt64?, message: GatewayMessage, encodeForHixie: Bool) {
        self.sequence = sequence
        self.senderID = senderID
        self.message = message
        self.rfc6455Frame = RFC6455FrameEncoder.message(message)
        self.hixieFrame = encodeForHixie ? MessageEncoding.hixieFrame(for: message) : nil
    }

    /// The bytes for a member of the given family.
    func frame(forHixie isHixie: Bool) -> ByteBuffer {
        if !isHixie { return self.rfc6455Frame }
        return self.hixieFrame ?? MessageEncoding.hixieFrame(for: self.message)
    }
}

/// How a normalized message becomes bytes in each dialect.
enum MessageEncoding {
    /// hixie text frame; binary goes as base64 text, since hixie has no binary frames.
    static func hixieFrame(for message: GatewayMessage) -> ByteBuffer {
        switch message {
        case .text(let bytes): return HixieFrameEncoder.textFrame(bytes.readableBytesView)
        case .binary(let bytes): return HixieFrameEncoder.textFrame(Base64.encode(bytes))
        case .close: return HixieFrameEncoder.closeFrame
        }
    }

    /// The frame for one dialect.
    static func frame(for message: GatewayMessage, dialect: WebSocketDialect) -> ByteBuffer {
        dialect.isHixie ? Self.hixieFrame(for: message) : RFC6455FrameEncoder.message(message)
    }
}
