import WSGateWire

/// The permessage-deflate a connection negotiated, as its frame handler applies it.
///
/// Neither direction holds zlib state until it first sends or receives a compressed message; the
/// state is released with the handler.
final class MessageCompression: Sendable {
    /// The negotiated parameters (RFC 7692 section 7).
    let parameters: PerMessageDeflateParameters
    /// Messages shorter than this go out uncompressed (the route's `compression_min_bytes`).
    let minBytes: Int
    /// Counts the deflates the gateway runs.
    let compressions: MetricCell

    init(parameters: PerMessageDeflateParameters, minBytes: Int, compressions: MetricCell) {
        self.parameters = parameters
        self.minBytes = minBytes
        self.compressions = compressions
    }

    /// The most compressed bytes a message of `limit` bytes may take on the wire: incompressible
    /// data goes in stored blocks of 5 bytes' overhead each, and small buffers cut them small
    /// (zlib at 12 window bits: 0.2 % over 1 MiB of random bytes; at memLevel 1: 3.9 %), so
    /// 1/16 and 1 KiB more. What it inflates to is bounded at `limit` itself.
    static func wireLimit(_ limit: Int) -> Int {
        limit + limit / 16 + 1024
    }

    /// The frame family of a room member with these parameters: the shared compressed bytes
    /// for its server window.
    var roomFamily: FrameFamily {
        .rfc6455Deflate(windowBits: self.parameters.serverMaxWindowBits, minBytes: self.minBytes)
    }
}
