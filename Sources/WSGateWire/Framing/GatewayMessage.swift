import NIOCore

/// The one message type every dialect is decoded into and encoded from: data only.
///
/// Text is UTF-8 validated before it becomes a `GatewayMessage`; binary is opaque. A connection's
/// end is a signal of its own (`WebSocketClose` inbound, `WebSocketCloseRequest` outbound).
/// Kept within `NIOAny`'s inline storage (24 bytes) so that passing it through a pipeline does
/// not allocate.
public enum GatewayMessage: Equatable, Sendable {
    /// A text message, as its UTF-8 bytes (already validated).
    case text(ByteBuffer)
    /// A binary message.
    case binary(ByteBuffer)

    /// A text message from a Swift string.
    public static func text(_ string: String) -> GatewayMessage {
        .text(ByteBuffer(string: string))
    }

    /// The payload bytes.
    @inlinable
    public var payload: ByteBuffer {
        switch self {
        case .text(let bytes), .binary(let bytes): return bytes
        }
    }

    /// Whether it is a text message.
    @inlinable
    public var isText: Bool {
        if case .text = self { return true }
        return false
    }
}
