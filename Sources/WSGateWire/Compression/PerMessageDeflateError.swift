/// Why an `Inflater` refused a compressed message (RFC 7692 section 7.2.2).
///
/// After any of these the connection must be failed: with context takeover the decompressor's
/// window no longer matches the peer's, so no later message can be decoded.
public enum PerMessageDeflateError: Error, Equatable, Sendable {
    /// The message inflated to more than `limit` bytes; inflation stopped there (close 1009).
    case tooLarge(limit: Int)
    /// The payload is not valid DEFLATE data, or does not end on a block boundary as section 7.2.1
    /// requires (close 1007). `reason` is zlib's message or ours; it never contains payload bytes.
    case invalidData(reason: String)
    /// zlib could not allocate its state (`Z_MEM_ERROR`) or failed in another way that is not the
    /// peer's fault (close 1011). `code` is zlib's return code.
    case zlibFailure(code: Int32)
}
