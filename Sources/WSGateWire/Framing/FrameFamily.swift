/// The kinds of bytes a message can be framed into: every connection writes one family, and a
/// message is encoded once per family, whatever the number of connections that get it.
///
/// permessage-deflate adds a family of its own (compressed RFC 6455 frames, one per window size),
/// since compressed bytes differ from plain ones.
public enum FrameFamily: Hashable, Sendable, CaseIterable {
    /// hixie-75/76: `0x00 <UTF-8> 0xFF` text frames; binary goes as base64 text.
    case hixieText
    /// RFC 6455 (and hybi-07/08) unmasked server frames.
    case rfc6455

    /// The family a dialect's connections are written in.
    public init(_ dialect: WebSocketDialect) {
        self = dialect.isHixie ? .hixieText : .rfc6455
    }
}
