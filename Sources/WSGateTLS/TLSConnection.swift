internal import COpenSSL
import NIOCore

/// The result of one step of a TLS connection. WANT_READ and WANT_WRITE are `.incomplete`: more
/// ciphertext from the peer is needed (or OpenSSL's output must be sent first).
enum TLSStepResult<Value> {
    case incomplete
    case complete(Value)
    case failed(TLSError)
}

/// One TLS connection: an OpenSSL `SSL*` over a `ByteBufferBIO`. Used from one event loop only.
final class TLSConnection {
    /// What a read produced.
    enum ReadOutcome {
        /// Decrypted application data (never empty).
        case plaintext(ByteBuffer)
        /// The peer sent close_notify: no more data will come.
        case closeNotify
    }

    /// Plaintext bytes per buffer handed up: a few TLS records' worth.
    static let maximumReadChunk = 64 * 1024
    /// The most plaintext one TLS record carries (RFC 8446 §5.1).
    static let recordPlaintextLimit = 16 * 1024

    /// Kept alive for the SSL_CTX (and SNI contexts, and callback arguments) this connection uses.
    let context: TLSContext
    /// `SSL*`, owned: freed in `deinit`.
    private let ssl: OpaquePointer
    private let bio: ByteBufferBIO
    /// Client: the server name requested (SNI and certificate check). Server: nil until the handshake.
    private let requestedServerName: String?

    init(context: TLSContext, role: TLSHandler.Role) throws {
        ERR_clear_error()
        guard let ssl = SSL_new(context.pointer) else {
            throw TLSError.configurationFailed(reasons: OpenSSLErrorQueue.drain(orElse: "SSL_new failed"))
        }
        self.context = context
        self.ssl = ssl
        do {
            self.bio = try ByteBufferBIO()
        } catch {
            SSL_free(ssl)
            throw error
        }
        self.bio.attach(to: ssl)
        // OpenSSL reads as much queued ciphertext as its record buffer holds, not header then body.
        SSL_set_read_ahead(ssl, 1)
        switch role {
        case .server:
            precondition(context.side == .server, "a server TLSHandler needs a server TLSContext")
            self.requestedServerName = nil
            SSL_set_accept_state(ssl)
        case .client(let serverName):
            precondition(context.side == .client, "a client TLSHandler needs a client TLSContext")
            self.requestedServerName = serverName
            SSL_set_connect_state(ssl)
            context.prepareSessionResumption(ssl, serverName: serverName)
            if let serverName {
                try self.configureClientServerName(serverName)
            }
        }
    }

    deinit {
        SSL_free(self.ssl)
    }

    /// SNI (host names only, never an IP address) and, when verifying, the name the certificate must carry.
    private func configureClientServerName(_ serverName: String) throws {
        let ipOctets = a2i_IPADDRESS(serverName)
        let isIPAddress = ipOctets != nil
        ASN1_OCTET_STRING_free(ipOctets)
        ERR_clear_error()
        if !isIPAddress {
            guard gw_SSL_set_tlsext_host_name(self.ssl, serverName) == 1 else {
                throw TLSError.configurationFailed(reasons: OpenSSLErrorQueue.drain(orElse: "bad server name \(serverName)"))
            }
        }
        if self.context.verifiesPeer {
            let accepted = isIPAddress
                ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(self.ssl), serverName)
                : SSL_set1_host(self.ssl, serverName)
            guard accepted == 1 else {
                throw TLSError.configurationFailed(reasons: OpenSSLErrorQueue.drain(orElse: "bad server name \(serverName)"))
            }
        }
    }

    // MARK: Ciphertext

    /// Queues ciphertext from the peer (any split of the records).
    func receiveFromNetwork(_ buffer: ByteBuffer) {
        self.bio.receive(buffer)
    }

    /// Bytes of storage kept alive by ciphertext received and not yet read by OpenSSL (for tests).
    var queuedCiphertextStorage: Int { self.bio.inboundCapacity }

    /// Whether anything received is still to be read: ciphertext OpenSSL has not taken from the BIO, or
    /// record bytes it took and has not processed (a whole record, or part of one, read ahead). When
    /// false, another `SSL_read` could only answer WANT_READ, so the caller need not make one.
    var hasUnreadInput: Bool {
        self.bio.pendingInbound > 0 || SSL_has_pending(self.ssl) == 1
            || SSL_get_shutdown(self.ssl) & SSL_RECEIVED_SHUTDOWN != 0
    }

    /// Whether OpenSSL has produced ciphertext to send.
    var hasCiphertextToSend: Bool { self.bio.hasOutbound }

    /// All ciphertext to send so far, as one buffer, or nil.
    func takeCiphertext() -> ByteBuffer? {
        self.bio.takeOutbound()
    }

    // MARK: Steps

    /// Advances the handshake as far as the ciphertext received allows.
    func doHandshake() -> TLSStepResult<Void> {
        ERR_clear_error()  // so that what we drain on failure belongs to this call
        let rc = SSL_do_handshake(self.ssl)
        if rc == 1 { return .complete(()) }
        let code = SSL_get_error(self.ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .incomplete
        default:
            var reasons = OpenSSLErrorQueue.drain(orElse: "SSL_do_handshake: SSL_get_error \(code)")
            let verifyResult = SSL_get_verify_result(self.ssl)
            if verifyResult != X509_V_OK, let text = X509_verify_cert_error_string(Int(verifyResult)) {
                reasons.append("certificate verify: \(String(cString: text))")
            }
            return .failed(.handshakeFailed(reasons: reasons))
        }
    }

    /// Decrypts what is available, up to `maximumReadChunk` bytes, stopping as soon as nothing
    /// received is left unread (`hasUnreadInput`). `.incomplete`: nothing more until more ciphertext
    /// arrives.
    func readPlaintext(allocator: ByteBufferAllocator) -> TLSStepResult<ReadOutcome> {
        // Sized from the ciphertext waiting, so the buffer does not regrow (and copy) record by record.
        let expected = min(Self.maximumReadChunk, max(1024, self.bio.pendingInbound + 1024))
        var buffer = allocator.buffer(capacity: expected)
        // Once per call: a failed step drains the queue (OpenSSLErrorQueue) and WANT_READ queues nothing,
        // so within one call only an error left by other code on this thread could confuse SSL_get_error.
        ERR_clear_error()
        while buffer.readableBytes < Self.maximumReadChunk {
            var code: Int32 = SSL_ERROR_NONE
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: min(16 * 1024, max(1024, self.bio.pendingInbound))) { target in
                let count = min(target.count, Self.maximumReadChunk)
                let rc = SSL_read(self.ssl, target.baseAddress!, Int32(count))
                if rc > 0 { return Int(rc) }
                code = SSL_get_error(self.ssl, rc)
                return 0
            }
            switch code {
            case SSL_ERROR_NONE:
                // Nothing more received: stop here rather than ask OpenSSL for a WANT_READ.
                if !self.hasUnreadInput { return .complete(.plaintext(buffer)) }
                continue
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return buffer.readableBytes > 0 ? .complete(.plaintext(buffer)) : .incomplete
            case SSL_ERROR_ZERO_RETURN:
                // Deliver what came before close_notify first; the next call reports it (it is sticky).
                return buffer.readableBytes > 0 ? .complete(.plaintext(buffer)) : .complete(.closeNotify)
            default:
                return .failed(.protocolFailure(reasons: OpenSSLErrorQueue.drain(orElse: "SSL_read: SSL_get_error \(code)")))
            }
        }
        return .complete(.plaintext(buffer))
    }

    /// Encrypts all of `buffer` into the outbound ciphertext. Only after the handshake.
    func writePlaintext(_ buffer: ByteBuffer) -> TLSStepResult<Void> {
        // Room for the records' ciphertext in one allocation: at most 16 KiB of plaintext per record,
        // plus its header, content type, explicit nonce and tag (≤ 32 bytes).
        let records = (buffer.readableBytes + Self.recordPlaintextLimit - 1) / Self.recordPlaintextLimit
        self.bio.reserveOutbound(buffer.readableBytes + records * 32)
        ERR_clear_error()  // once, as in readPlaintext
        return buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let chunk = Int32(min(bytes.count - offset, Int(Int32.max)))
                let rc = SSL_write(self.ssl, bytes.baseAddress! + offset, chunk)
                if rc > 0 {
                    offset += Int(rc)  // partial writes are enabled: one record at a time
                    continue
                }
                let code = SSL_get_error(self.ssl, rc)
                switch code {
                case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                    // Our BIO never pushes back and renegotiation is off: not expected after the handshake.
                    return .failed(.protocolFailure(reasons: ["SSL_write wants \(code == SSL_ERROR_WANT_READ ? "read" : "write")"]))
                default:
                    return .failed(.protocolFailure(reasons: OpenSSLErrorQueue.drain(orElse: "SSL_write: SSL_get_error \(code)")))
                }
            }
            return .complete(())
        }
    }

    /// Queues our close_notify. Does not wait for the peer's.
    func shutdown() -> TLSStepResult<Void> {
        ERR_clear_error()
        let rc = SSL_shutdown(self.ssl)
        if rc >= 0 { return .complete(()) }
        let code = SSL_get_error(self.ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .incomplete
        default:
            return .failed(.protocolFailure(reasons: OpenSSLErrorQueue.drain(orElse: "SSL_shutdown: SSL_get_error \(code)")))
        }
    }

    // MARK: After the handshake

    /// The ALPN protocol both sides agreed on, if any.
    var negotiatedALPN: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(self.ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Server: the name the client asked for by SNI. Client: the name it asked for.
    var serverName: String? {
        if let requestedServerName = self.requestedServerName { return requestedServerName }
        return SSL_get_servername(self.ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
    }

    /// `TLSv1.3`, `TLSv1.2`, …
    var protocolVersion: String {
        String(cString: SSL_get_version(self.ssl))
    }

    /// Whether the handshake resumed an earlier session (no certificate was sent).
    var sessionResumed: Bool { SSL_session_reused(self.ssl) == 1 }

    /// The peer certificate's subject, one line (`/O=…/CN=…`), if it sent one.
    var peerCertificateSubject: String? {
        guard let certificate = SSL_get1_peer_certificate(self.ssl) else { return nil }
        defer { X509_free(certificate) }
        guard let line = X509_NAME_oneline(X509_get_subject_name(certificate), nil, 0) else { return nil }
        defer { CRYPTO_free(line, #fileID, #line) }
        return String(cString: line)
    }
}
