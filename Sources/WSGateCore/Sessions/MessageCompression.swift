import WSGateWire

/// The permessage-deflate a connection negotiated, as its frame handler applies it.
///
/// Neither direction holds zlib state until it first sends or receives a compressed message; the
/// state is released with the handler.
struct MessageCompression {
    /// The negotiated parameters (RFC 7692 section 7).
    let parameters: PerMessageDeflateParameters
    /// Messages shorter than this go out uncompressed (the route's `compression_min_bytes`).
    let minBytes: Int
    /// Counts the deflates the gateway runs.
    let compressions: MetricCell

    /// The frame family of a room member with these parameters: the shared compressed bytes
    /// for its server window.
    var roomFamily: FrameFamily {
        .rfc6455Deflate(windowBits: self.parameters.serverMaxWindowBits, minBytes: self.minBytes)
    }
}
