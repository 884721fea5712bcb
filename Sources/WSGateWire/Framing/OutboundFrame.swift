import NIOCore

/// What a session writes to its connection's frame handler, which owns the framing.
///
/// Kept within `NIOAny`'s inline storage (24 bytes), like `GatewayMessage`, so that a write does
/// not allocate.
public enum OutboundFrame: Sendable {
    /// A text message, to be framed by the connection's dialect.
    case text(ByteBuffer)
    /// A binary message, to be framed by the connection's dialect.
    case binary(ByteBuffer)
    /// Bytes already framed for this connection's family (a room's shared encoding).
    case framed(ByteBuffer)

    /// A normalized message, to be framed by the connection.
    @inlinable
    public init(_ message: GatewayMessage) {
        switch message {
        case .text(let bytes): self = .text(bytes)
        case .binary(let bytes): self = .binary(bytes)
        }
    }
}
