import NIOCore

/// Reads hixie frames from a byte stream that arrives in pieces, as a channel handler gets it:
/// keeps a partial frame between reads (the parser never rescans it) and hands over each complete one.
///
/// Shared by the gateway's and the client's hixie handlers. It adds no rule of its own: every limit
/// is `HixieFrameParser`'s.
public struct HixieFrameReader: Sendable {
    private var parser: HixieFrameParser
    private var pending: ByteBuffer?

    public init(dialect: HixieDialect, maxMessageSize: Int) {
        self.parser = HixieFrameParser(dialect: dialect, maxMessageSize: maxMessageSize)
    }

    /// Appends `incoming` to what was kept and hands each complete frame to `body`, in order, until
    /// `body` returns `false` (after a close, say) or no complete frame is left.
    public mutating func read(_ incoming: ByteBuffer, _ body: (HixieFrameParser.Frame) -> Bool) throws(WireError) {
        var buffer = incoming
        if var pending = self.pending {
            self.pending = nil
            pending.writeBuffer(&buffer)
            buffer = pending
        }
        while let frame = try self.parser.next(from: &buffer) {
            guard body(frame) else { return }
        }
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            self.pending = buffer
        }
    }
}
