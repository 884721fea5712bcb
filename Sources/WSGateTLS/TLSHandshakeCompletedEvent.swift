/// Fired inbound (as a user event) by `TLSHandler` once the TLS handshake has completed.
public struct TLSHandshakeCompletedEvent: Sendable, Equatable {
    /// The ALPN protocol agreed on (`http/1.1`), or nil if the client offered none we speak.
    public var negotiatedALPN: String?
    /// Server: the name the client asked for by SNI, if any. Client: the name it asked for.
    public var serverName: String?
    /// The protocol version in OpenSSL's spelling: `TLSv1.3` or `TLSv1.2`.
    public var protocolVersion: String
    /// Whether the handshake resumed an earlier session (`SSL_session_reused`): the client offered one
    /// (see `TLSSessionCache`) and the server accepted it, so no certificate was sent or checked.
    public var sessionResumed: Bool

    /// Creates the event; `TLSHandler` does this, tests may too.
    public init(negotiatedALPN: String?, serverName: String?, protocolVersion: String, sessionResumed: Bool = false) {
        self.negotiatedALPN = negotiatedALPN
        self.serverName = serverName
        self.protocolVersion = protocolVersion
        self.sessionResumed = sessionResumed
    }
}
