import NIOCore

/// A NIO decoder of RESP: bytes in, one `RESPValue` per complete value out (`RESPParser` on NIO's
/// cumulation buffer). Use it as `ByteToMessageHandler(RESPValueDecoder())`.
///
/// A `RESPProtocolError` reaches the next handlers' `errorCaught`; the stream cannot go on after it
/// (`RedisCommandHandler` closes the connection).
public struct RESPValueDecoder: ByteToMessageDecoder {
    /// Each complete value.
    public typealias InboundOut = RESPValue

    private var parser: RESPParser

    /// A decoder with the parser's bounds.
    public init(configuration: RESPParser.Configuration = .init()) {
        self.parser = RESPParser(configuration: configuration)
    }

    /// Decodes one value, if all of its bytes are there.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try parser.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(value))
        return .continue
    }

    /// At end of stream: the complete values still buffered; a partial one is dropped with the connection.
    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
