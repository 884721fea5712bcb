import WSGateWire

/// The permessage-deflate a connection negotiated, as its frame handler applies it, and the
/// connection's zlib streams.
///
/// Neither direction holds zlib state until it first sends or receives a compressed message; the
/// state is released with the handler. Made per connection and used on its event loop only (the
/// frame handler's), which guards the streams.
final class MessageCompression: @unchecked Sendable {
    /// The negotiated parameters (RFC 7692 section 7).
    let parameters: PerMessageDeflateParameters
    /// Messages shorter than this go out uncompressed (the route's `compression_min_bytes`).
    let minBytes: Int
    /// Counts the deflates the gateway runs.
    let compressions: MetricCell

    /// The connection's streams, created on first use.
    var inflater: Inflater?
    var deflater: Deflater?

    /// The zlib memory the streams hold now.
    var zlibMemoryBytes: Int { (self.inflater?.zlibMemoryBytes ?? 0) + (self.deflater?.zlibMemoryBytes ?? 0) }

    init(parameters: PerMessageDeflateParameters, minBytes: Int, compressions: MetricCell) {
        self.parameters = parameters
        self.minBytes = minBytes
        self.compressions = compressions
    }


    /// The frame family of a room member with these parameters: the shared compressed bytes
    /// for its server window.
    var roomFamily: FrameFamily {
        .rfc6455Deflate(windowBits: self.parameters.serverMaxWindowBits, minBytes: self.minBytes)
    }
}
