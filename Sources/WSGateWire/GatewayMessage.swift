import NIOCore

/// The one message type every dialect is decoded into and encoded from.
///
/// Text is UTF-8 validated before it becomes a `GatewayMessage`; binary is opaque. A close carries
/// an RFC 6455 code and reason where the dialect has them (hixie closes have neither).
/// Kept within `NIOAny`'s inline storage (24 bytes) so that passing it through a pipeline does
/// not allocate; `indirect` on the rare close case is what keeps it there.
public enum GatewayMessage: Equatable, Sendable {
    /// A text message, as its UTF-8 bytes (already validated).
    case text(ByteBuffer)
    /// A binary message.
    case binary(ByteBuffer)
    /// A close, with the RFC 6455 code and reason where the dialect carried them.
    indirect case close(code: UInt16?, reason: String?)

    /// A text message from a Swift string.
    public static func text(_ string: String) -> GatewayMessage {
        .text(ByteBuffer(string: string))
    }

    /// The payload bytes of a text or binary message; empty for a close.
    public var payload: ByteBuffer {
        switch self {
        case .text(let bytes), .binary(let bytes): return bytes
        case .close: return ByteBuffer()
        }
    }
}
