/// The kinds of bytes a message can be framed into: every connection writes one family, and a
/// message is encoded once per family, whatever the number of connections that get it.
public enum FrameFamily: Hashable, Sendable {
    /// hixie-75/76: `0x00 <UTF-8> 0xFF` text frames; binary goes as base64 text.
    case hixieText
    /// RFC 6455 (and hybi-07/08) unmasked server frames.
    case rfc6455
    /// RFC 6455 with permessage-deflate and no context takeover (rooms): messages of at least
    /// `minBytes` compressed with a window of `windowBits`, RSV1 set; shorter ones, and ones that
    /// would not shrink, as plain `rfc6455` frames. Members whose server window is the same share
    /// the same compressed bytes.
    case rfc6455Deflate(windowBits: Int, minBytes: Int)

    /// The family a dialect's connections are written in, without compression.
    public init(_ dialect: WebSocketDialect) {
        self = dialect.isHixie ? .hixieText : .rfc6455
    }
}
