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

/// Why a client rejects a server's `Sec-WebSocket-Extensions` answer to its permessage-deflate
/// offer (RFC 7692 section 7.1; RFC 6455 section 4.1 then says: _Fail the WebSocket Connection_).
public enum PerMessageDeflateResponseError: Error, Equatable, Sendable {
    /// The header is not `1#extension` syntax (RFC 6455 section 9.1).
    case malformed
    /// The response names an extension the client did not offer.
    case extensionNotOffered(String)
    /// The response accepts permessage-deflate more than once.
    case multipleAcceptances
    /// A parameter RFC 7692 does not define for a response.
    case unknownParameter(String)
    /// The same parameter twice (RFC 7692 section 7).
    case duplicateParameter(String)
    /// A parameter's value is missing, present where none is allowed, or not a number in 9...15
    /// (8 is valid in RFC 7692, but zlib's raw deflate cannot use a 256-byte window).
    case invalidValue(parameter: String, value: String?)
    /// The answer breaks what the offer allowed: `reason` says which rule of section 7.1.
    case notAllowedByOffer(parameter: String, reason: String)
}
