internal import COpenSSL

// Client-side session resumption: a `TLSSessionCache` hangs off a client context's SSL_CTX (ex_data,
// retained, released when OpenSSL frees the SSL_CTX), each connection's SSL points at its server
// name's slot (ex_data, unretained), and two C callbacks on the SSL_CTX store the sessions that arrive
// and count the handshakes.

extension TLSContext {
    /// A client context whose connections resume sessions through `sessionCache` (see `TLSSessionCache`);
    /// otherwise as `client(trustedCAPath:verifyPeer:alpn:)`. `nil`: no resumption, the same as that one.
    /// - Precondition: `sessionCache` serves no other context.
    /// - Throws: `TLSError` naming the CA file or the refused setting, with OpenSSL's reasons.
    public static func client(
        trustedCAPath: String?, verifyPeer: Bool, alpn: [String], sessionCache: TLSSessionCache?
    ) throws -> TLSContext {
        try self.client(trustedCAPath: trustedCAPath, verifyPeer: verifyPeer, alpn: alpn, versions: .tls1_2 ... .tls1_3,
                        sessionCache: sessionCache)
    }

    /// The same, limited to `versions` (tests: TLS 1.2 resumption).
    static func client(
        trustedCAPath: String?, verifyPeer: Bool, alpn: [String], versions: ClosedRange<ProtocolVersion>,
        sessionCache: TLSSessionCache?
    ) throws -> TLSContext {
        let context = try self.client(trustedCAPath: trustedCAPath, verifyPeer: verifyPeer, alpn: alpn, versions: versions)
        if let sessionCache { try context.attach(sessionCache) }
        return context
    }

    /// The session cache this client context resumes through, if it was made with one.
    public var sessionCache: TLSSessionCache? { Self.sessionCache(ofSSLContext: self.pointer) }

    /// Client connections call this once, before the handshake: with a session cache, `ssl` offers the
    /// newest session stored for `serverName` and stores those it receives. Without one, nothing.
    func prepareSessionResumption(_ ssl: OpaquePointer, serverName: String?) {
        self.sessionCache?.prepare(ssl, serverName: serverName)
    }

    static func sessionCache(ofSSLContext pointer: OpaquePointer?) -> TLSSessionCache? {
        guard let pointer, let raw = SSL_CTX_get_ex_data(pointer, tlsSessionCacheIndex) else { return nil }
        return Unmanaged<TLSSessionCache>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Hangs `cache` on this (new, not yet used) client context. Sessions go to the cache only, not to
    /// OpenSSL's internal store (which would keep every one of them until it expires).
    private func attach(_ cache: TLSSessionCache) throws {
        precondition(self.side == .client, "a TLSSessionCache is for client contexts")
        precondition(cache.claim(), "a TLSSessionCache serves one TLSContext")
        let retained = Unmanaged.passRetained(cache)
        guard SSL_CTX_set_ex_data(self.pointer, tlsSessionCacheIndex, retained.toOpaque()) == 1 else {
            retained.release()
            throw TLSError.configurationFailed(reasons: OpenSSLErrorQueue.drain(orElse: "SSL_CTX_set_ex_data failed"))
        }
        _ = gw_SSL_CTX_set_session_cache_mode(self.pointer, Int(SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE))
        SSL_CTX_sess_set_new_cb(self.pointer, tlsNewSessionCallback)
        SSL_CTX_set_info_callback(self.pointer, tlsClientInfoCallback)
    }
}

/// SSL_CTX ex_data index of the context's `TLSSessionCache` (a retained reference, released by OpenSSL's
/// free callback when the SSL_CTX goes: after the last connection made from it).
let tlsSessionCacheIndex: Int32 = gw_SSL_CTX_get_ex_new_index { _, pointer, _, _, _, _ in
    guard let pointer else { return }
    Unmanaged<TLSSessionCache>.fromOpaque(pointer).release()
}

/// SSL ex_data index of a client connection's `TLSSessionSlot` (unretained: its cache keeps it).
let tlsSessionSlotIndex: Int32 = gw_SSL_get_ex_new_index()

/// A session arrived (TLS 1.3: a NewSessionTicket, read after the handshake; TLS 1.2: at its end).
/// The cache keeps a copy; returning 0 lets OpenSSL drop the reference it passed.
let tlsNewSessionCallback: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = { ssl, session in
    if let ssl, let session, SSL_SESSION_is_resumable(session) == 1,
       let slot = SSL_get_ex_data(ssl, tlsSessionSlotIndex),
       let cache = TLSContext.sessionCache(ofSSLContext: SSL_get_SSL_CTX(ssl)) {
        cache.store(session, in: Unmanaged<TLSSessionSlot>.fromOpaque(slot).takeUnretainedValue())
    }
    return 0
}

/// Counts each completed client handshake, and whether it resumed. (TLS 1.3 tickets read after the
/// handshake do not report HANDSHAKE_DONE again.)
let tlsClientInfoCallback: @convention(c) (OpaquePointer?, Int32, Int32) -> Void = { ssl, type, _ in
    guard let ssl, type & SSL_CB_HANDSHAKE_DONE != 0,
          let cache = TLSContext.sessionCache(ofSSLContext: SSL_get_SSL_CTX(ssl))
    else { return }
    cache.noteHandshake(resumed: SSL_session_reused(ssl) == 1)
}
