internal import COpenSSL

/// A TLS configuration: one OpenSSL `SSL_CTX`, built once (off the event loop, it reads files) and
/// shared by every connection on every event loop.
///
/// A server context speaks TLS 1.2 and 1.3 only, prefers its own cipher order, refuses renegotiation,
/// selects ALPN `http/1.1` when the client offers it, and switches certificate by SNI (exact name,
/// case-insensitive) among `sni` entries, falling back to the default certificate.
public final class TLSContext: @unchecked Sendable {
    // @unchecked: after configuration the SSL_CTX is only read (SSL_new, callbacks), which OpenSSL makes
    // thread-safe; the Swift properties are all `let`.

    /// One certificate chosen by SNI: served when the client's server name equals `name` (case-insensitive).
    public struct SNIEntry: Sendable, Equatable {
        /// The host name to match, e.g. `other.test`.
        public var name: String
        /// PEM certificate chain file (leaf first).
        public var certificatePath: String
        /// PEM private key file for that certificate.
        public var keyPath: String

        /// Creates an entry serving `certificatePath`/`keyPath` for the server name `name`.
        public init(name: String, certificatePath: String, keyPath: String) {
            self.name = name
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }

    /// Which side of a handshake a context can drive.
    enum Side { case server, client }

    /// The protocol versions a context may negotiate (OpenSSL's `TLS1_x_VERSION` values).
    enum ProtocolVersion: Int32 {
        case tls1 = 0x0301, tls1_1 = 0x0302, tls1_2 = 0x0303, tls1_3 = 0x0304
    }

    /// The ALPN protocol a server selects.
    static let serverALPN = "http/1.1"

    /// `SSL_CTX*`, owned: freed in `deinit`.
    let pointer: OpaquePointer
    let side: Side
    /// Client only: whether the peer's certificate (and the server name, when given) is checked.
    let verifiesPeer: Bool
    /// Server only: contexts chosen by SNI, keyed by lowercased name. Kept alive as long as this one.
    private let sniContexts: [String: TLSContext]

    private init(pointer: OpaquePointer, side: Side, verifiesPeer: Bool, sniContexts: [String: TLSContext]) {
        self.pointer = pointer
        self.side = side
        self.verifiesPeer = verifiesPeer
        self.sniContexts = sniContexts
    }

    deinit {
        SSL_CTX_free(self.pointer)
    }

    /// A server context presenting `certificatePath` (PEM chain, leaf first) with `keyPath`, and the
    /// `sni` certificates for the names they list. Reads files: call it before the listeners start.
    /// - Throws: `TLSError` naming the file and OpenSSL's reasons.
    public convenience init(certificatePath: String, keyPath: String, sni: [SNIEntry] = []) throws {
        var sniContexts: [String: TLSContext] = [:]
        for entry in sni {
            sniContexts[entry.name.lowercased()] = try TLSContext(certificatePath: entry.certificatePath,
                                                                  keyPath: entry.keyPath)
        }
        let pointer = try Self.makeServerContext(certificatePath: certificatePath, keyPath: keyPath)
        self.init(pointer: pointer, side: .server, verifiesPeer: false, sniContexts: sniContexts)
        if !sniContexts.isEmpty {
            // Unretained: the callback's argument lives exactly as long as the SSL_CTX it is set on,
            // and every SSL* made from it keeps its TLSConnection, which keeps this context.
            gw_SSL_CTX_set_tlsext_servername_callback(self.pointer, tlsServerNameCallback)
            gw_SSL_CTX_set_tlsext_servername_arg(self.pointer, Unmanaged.passUnretained(self).toOpaque())
        }
    }

    /// A client context. `trustedCAPath` is a PEM file of trusted CAs (`nil`: the system's);
    /// `verifyPeer: false` accepts any certificate (tests, development only); `alpn` lists the
    /// protocols offered, in order of preference.
    /// - Throws: `TLSError` naming the CA file or the refused setting, with OpenSSL's reasons.
    public static func client(trustedCAPath: String?, verifyPeer: Bool, alpn: [String]) throws -> TLSContext {
        try self.client(trustedCAPath: trustedCAPath, verifyPeer: verifyPeer, alpn: alpn, versions: .tls1_2 ... .tls1_3)
    }

    /// A client context limited to `versions`; `securityLevel` overrides OpenSSL's (0 lets TLS 1.0 through,
    /// for tests that check the server refuses it).
    static func client(
        trustedCAPath: String?, verifyPeer: Bool, alpn: [String],
        versions: ClosedRange<ProtocolVersion>, securityLevel: Int32? = nil
    ) throws -> TLSContext {
        ERR_clear_error()
        guard let pointer = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError.configurationFailed(reasons: OpenSSLErrorQueue.drain(orElse: "SSL_CTX_new failed"))
        }
        do {
            if let securityLevel { SSL_CTX_set_security_level(pointer, securityLevel) }
            try Self.configureCommon(pointer, versions: versions)
            if verifyPeer {
                SSL_CTX_set_verify(pointer, SSL_VERIFY_PEER, nil)
                let loaded = trustedCAPath.map { SSL_CTX_load_verify_locations(pointer, $0, nil) }
                    ?? SSL_CTX_set_default_verify_paths(pointer)
                guard loaded == 1 else {
                    throw TLSError.trustStore(path: trustedCAPath, reasons: OpenSSLErrorQueue.drain(orElse: "unreadable"))
                }
            } else {
                SSL_CTX_set_verify(pointer, SSL_VERIFY_NONE, nil)
            }
            if !alpn.isEmpty {
                var wire: [UInt8] = []
                for name in alpn {
                    let bytes = Array(name.utf8)
                    guard (1...255).contains(bytes.count) else {
                        throw TLSError.configurationFailed(reasons: ["ALPN protocol name '\(name)' must be 1 to 255 bytes"])
                    }
                    wire.append(UInt8(bytes.count))
                    wire.append(contentsOf: bytes)
                }
                // Unusually, 0 means success here.
                guard SSL_CTX_set_alpn_protos(pointer, wire, UInt32(wire.count)) == 0 else {
                    throw TLSError.configurationFailed(reasons: OpenSSLErrorQueue.drain(orElse: "ALPN list refused"))
                }
            }
        } catch {
            SSL_CTX_free(pointer)
            throw error
        }
        return TLSContext(pointer: pointer, side: .client, verifiesPeer: verifyPeer, sniContexts: [:])
    }

    /// The context serving `serverName` by SNI, if one matches exactly (case-insensitive).
    func sniContext(for serverName: String) -> TLSContext? {
        self.sniContexts[serverName.lowercased()]
    }

    /// TLS 1.3 suites in the server's order of preference (Mozilla's "intermediate" order): AES-128-GCM
    /// first, as fast as AES-256-GCM's key schedule is not, and as strong as any of these needs to be.
    static let tls13CipherSuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    /// TLS 1.2 ciphers, in order: forward-secret AEAD only (Mozilla's "intermediate" list).
    static let tls12Ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
        + "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

    private static func makeServerContext(certificatePath: String, keyPath: String) throws -> OpaquePointer {
        ERR_clear_error()
        guard let pointer = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError.configurationFailed(reasons: OpenSSLErrorQueue.drain(orElse: "SSL_CTX_new failed"))
        }
        do {
            try Self.configureCommon(pointer, versions: .tls1_2 ... .tls1_3)
            SSL_CTX_set_options(pointer, gw_SSL_OP_CIPHER_SERVER_PREFERENCE() | gw_SSL_OP_NO_RENEGOTIATION())
            guard SSL_CTX_set_ciphersuites(pointer, Self.tls13CipherSuites) == 1,
                  SSL_CTX_set_cipher_list(pointer, Self.tls12Ciphers) == 1
            else {
                throw TLSError.configurationFailed(reasons: OpenSSLErrorQueue.drain(orElse: "cipher lists refused"))
            }
            guard SSL_CTX_use_certificate_chain_file(pointer, certificatePath) == 1 else {
                throw TLSError.certificateFile(path: certificatePath, reasons: OpenSSLErrorQueue.drain(orElse: "unreadable"))
            }
            guard SSL_CTX_use_PrivateKey_file(pointer, keyPath, gw_SSL_FILETYPE_PEM()) == 1 else {
                // Loading the key also checks it against the certificate: tell a mismatch from a bad file.
                let last = ERR_peek_last_error()
                let isMismatch = ERR_GET_LIB(last) == ERR_LIB_X509 && ERR_GET_REASON(last) == X509_R_KEY_VALUES_MISMATCH
                let reasons = OpenSSLErrorQueue.drain(orElse: "unreadable")
                throw isMismatch
                    ? TLSError.keyMismatch(certificatePath: certificatePath, keyPath: keyPath, reasons: reasons)
                    : TLSError.privateKeyFile(path: keyPath, reasons: reasons)
            }
            guard SSL_CTX_check_private_key(pointer) == 1 else {
                throw TLSError.keyMismatch(certificatePath: certificatePath, keyPath: keyPath,
                                           reasons: OpenSSLErrorQueue.drain(orElse: "key does not match"))
            }
            SSL_CTX_set_alpn_select_cb(pointer, tlsALPNSelectCallback, nil)
        } catch {
            SSL_CTX_free(pointer)
            throw error
        }
        return pointer
    }

    private static func configureCommon(_ pointer: OpaquePointer, versions: ClosedRange<ProtocolVersion>) throws {
        guard gw_SSL_CTX_set_min_proto_version(pointer, versions.lowerBound.rawValue) == 1,
              gw_SSL_CTX_set_max_proto_version(pointer, versions.upperBound.rawValue) == 1
        else {
            throw TLSError.configurationFailed(reasons: OpenSSLErrorQueue.drain(orElse: "protocol versions refused"))
        }
        _ = gw_SSL_CTX_set_mode(pointer, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                                             | SSL_MODE_RELEASE_BUFFERS))
    }
}

extension TLSContext.ProtocolVersion: Comparable {
    static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
