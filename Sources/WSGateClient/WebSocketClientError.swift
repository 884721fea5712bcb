import WSGateWire

/// Why a `WebSocketClient` could not connect, or what went wrong on an open connection.
public enum WebSocketClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The server answered the opening handshake with a status other than 101.
    case handshakeRefused(status: Int, statusLine: String, body: String)
    /// The server's answer is a 101 that breaks the dialect's rules (wrong accept value or token, a
    /// missing or wrong header, a subprotocol or extension not offered, a wrong status line).
    case invalidHandshakeResponse(String)
    /// The server's `Sec-WebSocket-Extensions` answer to our permessage-deflate offer breaks RFC 7692
    /// section 7.1 (e.g. a window larger than offered, an unknown parameter, an extension not offered).
    case compressionResponseRejected(header: String, reason: PerMessageDeflateResponseError)
    /// The handshake did not complete within `handshakeTimeout`.
    case handshakeTimedOut
    /// The connection closed before the handshake completed.
    case connectionClosedDuringHandshake
    /// The answer could not be parsed.
    case malformedResponse(WireError)
    /// `next(timeout:)` waited in vain.
    case timedOut
    /// The connection is closed; no more messages will come.
    case closed(code: WebSocketCloseCode?, reason: String?)

    public var description: String {
        switch self {
        case .handshakeRefused(let status, let statusLine, let body):
            return "handshake refused with \(status) (\(statusLine)): \(body)"
        case .invalidHandshakeResponse(let reason): return "invalid handshake response: \(reason)"
        case .compressionResponseRejected(let header, let reason):
            return "invalid handshake response: Sec-WebSocket-Extensions '\(header)' does not answer our permessage-deflate offer: \(reason)"
        case .handshakeTimedOut: return "handshake timed out"
        case .connectionClosedDuringHandshake: return "connection closed during the handshake"
        case .malformedResponse(let error): return "malformed handshake response: \(error)"
        case .timedOut: return "timed out waiting for a message"
        case .closed(let code, let reason): return "closed (\(code.map { "\($0)" } ?? "no code") \(reason ?? ""))"
        }
    }
}
