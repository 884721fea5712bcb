/// Every way a peer's bytes can break a wire-format rule, in one closed enum.
///
/// Wire codecs throw it; `WSGateCore` maps it, in one place, to an HTTP status, an RFC 6455 close
/// code, or a dropped connection. Payload bytes never go into it.
public enum WireError: Error, Equatable, Sendable {
    // HTTP request head (RFC 9112)
    /// The head did not end within `limit` bytes (HTTP 431).
    case headTooLarge(limit: Int)
    /// The request line is not `METHOD SP target SP HTTP/x.y`.
    case malformedRequestLine
    /// Header line `line` (1-based, after the request line) is not `name: value`.
    case malformedHeader(line: Int)
    /// An HTTP version other than HTTP/1.0 or HTTP/1.1.
    case unsupportedHTTPVersion

    // Handshakes (RFC 6455 section 4.2.1, hixie-75, hixie-76)
    /// A header the dialect requires is absent.
    case missingHeader(String)
    /// A header is present but its value breaks the rule named in `reason`.
    case invalidHeader(name: String, reason: String)
    /// `Sec-WebSocket-Version` names a version we do not speak (HTTP 426).
    case unsupportedVersion(String)
    /// A hixie-76 key has no space characters.
    case hixieKeyHasNoSpaces
    /// A hixie-76 key's number is not an exact multiple of its space count.
    case hixieKeyNotMultipleOfSpaces
    /// A hixie-76 key's number (or the quotient) does not fit in 32 bits.
    case hixieKeyOutOfRange
    /// A server's handshake response did not match what the client expected (client side).
    case handshakeResponseMismatch(reason: String)

    // Frames
    /// A frame or message longer than the configured limit.
    case frameTooLarge(limit: Int)
    /// A text payload that is not valid UTF-8.
    case invalidUTF8
}
