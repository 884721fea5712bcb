import NIOCore

/// Why a Redis command or connection failed without an answer from the server (the server's own
/// error replies are `RESPError`s; malformed bytes are `RESPProtocolError`s).
public enum RedisClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The connection closed (or was never open) before the command's reply arrived.
    case connectionClosed
    /// No reply within the command timeout. The connection is closed too: the replies after it could no
    /// longer be matched to their commands.
    case commandTimedOut(TimeAmount)
    /// The TCP connection and the handshake (`HELLO`, `AUTH`, `SELECT`) did not finish within the connect timeout.
    case connectTimedOut(TimeAmount)
    /// The server sent a reply when no command was waiting for one; the connection is closed.
    case unexpectedReply(RESPValue)
    /// A `rediss://` URL: this client has no TLS.
    case tlsUnsupported
    /// A reply of an unexpected type for what the client asked (`SUBSCRIBE` confirmations, `HELLO`).
    case invalidReply(String)

    /// What went wrong, for logs.
    public var description: String {
        switch self {
        case .connectionClosed: return "Redis: the connection is closed"
        case .commandTimedOut(let timeout): return "Redis: no reply within \(timeout)"
        case .connectTimedOut(let timeout): return "Redis: not connected within \(timeout)"
        case .unexpectedReply(let value): return "Redis: a reply no command was waiting for: \(value)"
        case .tlsUnsupported: return "Redis: rediss:// (TLS) is not supported by this client"
        case .invalidReply(let what): return "Redis: unexpected reply: \(what)"
        }
    }
}
