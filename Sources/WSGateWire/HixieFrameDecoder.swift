import NIOCore

/// `HixieFrameParser` as a NIO `ByteToMessageDecoder`: each `.text` or `.close` frame is fired as
/// one `HixieFrameParser.Frame`; discarded frames fire nothing; `WireError`s are thrown through.
///
/// At end of input an unfinished frame is dropped without an error (hixie has no way to report it).
public final class HixieFrameDecoder: ByteToMessageDecoder {
    /// The frames this decoder produces.
    public typealias InboundOut = HixieFrameParser.Frame

    private var parser: HixieFrameParser

    /// A decoder for `dialect` that refuses payloads over `maxMessageSize` bytes.
    public init(dialect: HixieDialect, maxMessageSize: Int) {
        self.parser = HixieFrameParser(dialect: dialect, maxMessageSize: maxMessageSize)
    }

    /// Decodes at most one frame from `buffer`.
    public func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try self.parser.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    /// Decodes what is left when the channel closes, as `decode(context:buffer:)` does.
    public func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        try self.decode(context: context, buffer: &buffer)
    }
}
