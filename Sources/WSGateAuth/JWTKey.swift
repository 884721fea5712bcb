internal import COpenSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A JWS algorithm the gateway can verify (RFC 7518 / RFC 8037). `none` is not one of them, ever.
public enum JWTAlgorithm: String, CaseIterable, Hashable, Sendable {
    case hs256 = "HS256"
    case hs384 = "HS384"
    case hs512 = "HS512"
    case rs256 = "RS256"
    case es256 = "ES256"
    case edDSA = "EdDSA"

    /// The kind of key this algorithm needs.
    public var keyKind: JWTKey.Kind {
        switch self {
        case .hs256, .hs384, .hs512: return .hmac
        case .rs256: return .rsa
        case .es256: return .ecP256
        case .edDSA: return .ed25519
        }
    }

    /// RFC 7518 §3.2: an HMAC key at least as long as the hash output.
    var minimumHMACKeyLength: Int {
        switch self {
        case .hs256: return 32
        case .hs384: return 48
        case .hs512: return 64
        default: return 0
        }
    }
}

/// Why a key could not be loaded, or a verifier not configured (a configuration error).
public enum JWTKeyError: Error, Hashable, Sendable {
    /// The key file could not be read.
    case unreadableFile(String)
    /// An HMAC secret with no bytes.
    case emptySecret
    /// A PEM that OpenSSL cannot read as a public key (SubjectPublicKeyInfo, `BEGIN PUBLIC KEY`).
    case invalidPEM(String)
    /// A public key that is not RSA, EC P-256 or Ed25519.
    case unsupportedKeyType(String)
    /// A secret or PEM past 1 MiB.
    case keyTooLarge
    /// An RSA key under 2048 bits (RFC 7518 §3.3).
    case rsaKeyTooSmall(bits: Int)
    /// The pinned algorithm list is empty.
    case noAlgorithms
    /// A pinned algorithm that this key cannot verify (e.g. RS256 with an HMAC secret).
    case algorithmDoesNotMatchKey(JWTAlgorithm)
    /// An HMAC secret shorter than the algorithm's hash (RFC 7518 §3.2: 32/48/64 bytes).
    case secretTooShort(JWTAlgorithm, minimum: Int)
}

/// The key a route verifies its tokens with: an HMAC secret, or a PEM public key (RSA, EC P-256,
/// Ed25519). Its kind decides which algorithms it can ever verify, whatever a token's header says.
/// Immutable and safe to share between threads (OpenSSL 3 allows concurrent use of one EVP_PKEY).
public final class JWTKey: @unchecked Sendable {
    /// What the key is.
    public enum Kind: String, Hashable, Sendable {
        case hmac, rsa, ecP256, ed25519
    }

    public let kind: Kind
    /// Key material is small; anything past this (1 MiB) is refused.
    static let maximumKeyBytes = 1 << 20
    let secret: [UInt8]
    let publicKey: OpaquePointer?

    /// An HMAC secret, used as it is.
    public init(hmacSecret: [UInt8]) throws(JWTKeyError) {
        guard !hmacSecret.isEmpty else { throw .emptySecret }
        guard hmacSecret.count <= Self.maximumKeyBytes else { throw .keyTooLarge }
        self.kind = .hmac
        self.secret = hmacSecret
        self.publicKey = nil
    }

    /// A public key from its PEM text (`-----BEGIN PUBLIC KEY-----`).
    public init(pem: [UInt8]) throws(JWTKeyError) {
        guard pem.count <= Self.maximumKeyBytes else { throw .keyTooLarge }
        var loaded: OpaquePointer?
        pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return }
            loaded = PEM_read_bio_PUBKEY(bio, nil, nil, nil)
            BIO_free(bio)
        }
        guard let key = loaded else {
            let reason = JWTKey.openSSLError()
            throw .invalidPEM(reason)
        }
        let kind: Kind
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_RSA:
            let bits = Int(EVP_PKEY_get_bits(key))
            guard bits >= 2048 else {
                EVP_PKEY_free(key)
                throw .rsaKeyTooSmall(bits: bits)
            }
            kind = .rsa
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            let ok = EVP_PKEY_get_group_name(key, &name, name.count, &length) == 1
            let group = ok ? String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
            guard group == "prime256v1" || group == "P-256" else {
                EVP_PKEY_free(key)
                throw .unsupportedKeyType("EC curve \(group)")
            }
            kind = .ecP256
        case EVP_PKEY_ED25519:
            kind = .ed25519
        default:
            EVP_PKEY_free(key)
            throw .unsupportedKeyType("key type \(EVP_PKEY_get_base_id(key))")
        }
        self.kind = kind
        self.secret = []
        self.publicKey = key
    }

    /// A key from a file's contents: a PEM public key if it holds `-----BEGIN`, else an HMAC
    /// secret, less exactly one trailing newline (`\n` or `\r\n`) — the SPEC's fine print.
    public convenience init(fileContents: [UInt8]) throws(JWTKeyError) {
        if fileContents.starts(with: Array("-----BEGIN".utf8))
            || Self.containsPEMMarker(fileContents)
        {
            try self.init(pem: fileContents)
        } else {
            var secret = fileContents
            if secret.last == 0x0A {
                secret.removeLast()
                if secret.last == 0x0D { secret.removeLast() }
            }
            try self.init(hmacSecret: secret)
        }
    }

    /// Reads the key file at `path` (the route's `auth.jwt.key`); see `init(fileContents:)`.
    public convenience init(file path: String) throws(JWTKeyError) {
        guard let contents = Self.readFile(path) else { throw .unreadableFile(path) }
        try self.init(fileContents: contents)
    }

    deinit {
        if let publicKey { EVP_PKEY_free(publicKey) }
    }

    static func containsPEMMarker(_ bytes: [UInt8]) -> Bool {
        let marker = Array("-----BEGIN ".utf8)
        guard bytes.count >= marker.count else { return false }
        for start in 0...(bytes.count - marker.count) where bytes[start] == marker[0] {
            if bytes[start..<(start + marker.count)].elementsEqual(marker) { return true }
        }
        return false
    }

    static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count > 0 { out += chunk[0..<count] }
            if count < chunk.count { break }
            // A key file is small; stop reading past the limit (init then throws .keyTooLarge).
            if out.count > maximumKeyBytes { break }
        }
        return ferror(file) == 0 ? out : nil
    }

    /// The latest OpenSSL error as text (and the queue cleared).
    static func openSSLError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "unknown error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
