internal import COpenSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a token was refused. Every case answers 401 `invalid_token`; `reason` is for the log and
/// never holds the token (nor any part of it beyond a sanitized, truncated `alg` name).
public enum JWTError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Longer than the verifier's `maximumTokenBytes` (checked before anything else).
    case tooLarge
    /// Not three dot-separated parts, or an empty header or signature part.
    case malformed
    /// A part that is not strict unpadded base64url.
    case invalidBase64URL(part: String)
    /// A header or payload that is not a JSON object.
    case invalidJSON(part: String)
    /// The header has no string `alg`.
    case missingAlgorithm
    /// `alg` is `none` or not in the pinned list.
    case algorithmNotAllowed(String)
    /// `alg` is pinned but is not for this key's kind (the algorithm-confusion attack).
    case algorithmKeyMismatch(String)
    /// The header has `crit`: no extension is understood, so the token is refused (RFC 7515 §4.1.11).
    case unsupportedCriticalHeader
    /// The signature does not verify (or has the wrong length).
    case invalidSignature
    /// A required claim is absent (`exp`; `iss`/`aud` when configured).
    case missingClaim(String)
    /// A claim of the wrong JSON type (e.g. a string `exp`, a non-string in `rooms`).
    case invalidClaim(String)
    /// `exp` plus leeway has passed.
    case expired
    /// `nbf` minus leeway is still ahead.
    case notYetValid
    /// `iat` minus leeway is ahead: issued in the future.
    case issuedInFuture
    /// `iss` is not the configured issuer.
    case issuerMismatch
    /// `aud` does not name the configured audience.
    case audienceMismatch

    /// A short text for the log.
    public var reason: String {
        switch self {
        case .tooLarge: return "token too large"
        case .malformed: return "malformed token"
        case .invalidBase64URL(let part): return "invalid base64url in the \(part)"
        case .invalidJSON(let part): return "the \(part) is not a JSON object"
        case .missingAlgorithm: return "no alg in the header"
        case .algorithmNotAllowed(let alg): return "algorithm \(alg) not allowed"
        case .algorithmKeyMismatch(let alg): return "algorithm \(alg) does not match the key"
        case .unsupportedCriticalHeader: return "unsupported crit header"
        case .invalidSignature: return "invalid signature"
        case .missingClaim(let name): return "missing claim \(name)"
        case .invalidClaim(let name): return "invalid claim \(name)"
        case .expired: return "token expired"
        case .notYetValid: return "token not yet valid"
        case .issuedInFuture: return "token issued in the future"
        case .issuerMismatch: return "wrong issuer"
        case .audienceMismatch: return "wrong audience"
        }
    }

    public var description: String { reason }
}

/// The claims of a verified token (RFC 7519 §4.1 and the gateway's own `target` and `rooms`).
public struct JWTClaims: Hashable, Sendable {
    /// `exp`, seconds since the Unix epoch (required).
    public let exp: Double
    public let nbf: Double?
    public let iat: Double?
    public let iss: String?
    /// `aud`, a string or an array of strings in the token; always a list here.
    public let aud: [String]?
    public let sub: String?
    /// The gateway's `target` claim: the name of a `targets:` entry.
    public let target: String?
    /// The gateway's `rooms` claim: the rooms this token may join on `room: "*"` routes.
    public let rooms: [String]?
    /// Every claim, as parsed.
    public let raw: [String: JSONValue]
    /// The protected header, as parsed.
    public let header: [String: JSONValue]

    /// Any claim by name.
    public subscript(name: String) -> JSONValue? { raw[name] }

    /// Whether the token may join `room` on a `room: "*"` route: any room without a `rooms`
    /// claim, else only those it lists (otherwise 403).
    public func allowsRoom(_ room: String) -> Bool {
        rooms.map { $0.contains(room) } ?? true
    }

    init(raw: [String: JSONValue], header: [String: JSONValue]) throws(JWTError) {
        self.raw = raw
        self.header = header
        guard let expValue = raw["exp"] else { throw .missingClaim("exp") }
        guard let exp = expValue.numberValue else { throw .invalidClaim("exp") }
        self.exp = exp
        self.nbf = try Self.number(raw, "nbf")
        self.iat = try Self.number(raw, "iat")
        self.iss = try Self.string(raw, "iss")
        self.sub = try Self.string(raw, "sub")
        self.target = try Self.string(raw, "target")
        switch raw["aud"] {
        case nil: self.aud = nil
        case .string(let single)?: self.aud = [single]
        case .array(let list)?:
            let strings = list.compactMap(\.stringValue)
            guard strings.count == list.count else { throw .invalidClaim("aud") }
            self.aud = strings
        default: throw .invalidClaim("aud")
        }
        switch raw["rooms"] {
        case nil: self.rooms = nil
        case .array(let list)?:
            let strings = list.compactMap(\.stringValue)
            guard strings.count == list.count else { throw .invalidClaim("rooms") }
            self.rooms = strings
        default: throw .invalidClaim("rooms")
        }
    }

    private static func number(_ raw: [String: JSONValue], _ name: String) throws(JWTError) -> Double? {
        guard let value = raw[name] else { return nil }
        guard let number = value.numberValue else { throw .invalidClaim(name) }
        return number
    }

    private static func string(_ raw: [String: JSONValue], _ name: String) throws(JWTError) -> String? {
        guard let value = raw[name] else { return nil }
        guard let string = value.stringValue else { throw .invalidClaim(name) }
        return string
    }
}

/// Verifies compact JWS tokens (RFC 7515/7519) for one route's `auth.jwt`, on OpenSSL's EVP.
///
/// The header's `alg` must be in the pinned `algorithms` AND be one the key's kind verifies: an
/// HMAC secret never verifies RS256/ES256/EdDSA and a public key never verifies HS*. `exp` is
/// required; `nbf` and `iat` are honoured with `leeway`; `iss` and `aud` are checked only when
/// `issuer`/`audience` are configured. Immutable and thread-safe.
public struct JWTVerifier: Sendable {
    /// Seconds since the Unix epoch (wall clock: `exp` is wall-clock time).
    public typealias Clock = @Sendable () -> Double

    public let algorithms: Set<JWTAlgorithm>
    public let key: JWTKey
    public let issuer: String?
    public let audience: String?
    /// Seconds of clock skew allowed on `exp`, `nbf` and `iat` (the SPEC's `leeway_s`, default 30).
    public let leeway: Double
    /// Tokens longer than this are refused with `.tooLarge` before any parsing.
    public let maximumTokenBytes: Int
    let clock: Clock

    /// The wall clock.
    public static let systemClock: Clock = {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// A verifier; throws a configuration error if the algorithm list is empty, names an
    /// algorithm the key cannot verify, or the HMAC secret is shorter than a pinned HS* needs.
    public init(
        algorithms: [JWTAlgorithm], key: JWTKey, issuer: String? = nil, audience: String? = nil,
        leeway: Double = 30, maximumTokenBytes: Int = 8192, clock: @escaping Clock = JWTVerifier.systemClock
    ) throws(JWTKeyError) {
        guard !algorithms.isEmpty else { throw .noAlgorithms }
        for algorithm in algorithms {
            guard algorithm.keyKind == key.kind else { throw .algorithmDoesNotMatchKey(algorithm) }
            if key.kind == .hmac, key.secret.count < algorithm.minimumHMACKeyLength {
                throw .secretTooShort(algorithm, minimum: algorithm.minimumHMACKeyLength)
            }
        }
        self.algorithms = Set(algorithms)
        self.key = key
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.maximumTokenBytes = maximumTokenBytes
        self.clock = clock
    }

    /// When a connection admitted with `claims` must be closed (1008 `token expired`): `exp` plus leeway.
    public func deadline(for claims: JWTClaims) -> Double { claims.exp + leeway }

    /// True when `claims` have expired at `now` (for the check during a connection).
    public func isExpired(_ claims: JWTClaims, now: Double? = nil) -> Bool {
        (now ?? clock()) >= deadline(for: claims)
    }

    /// Verifies `token` (the compact serialization) and returns its claims.
    public func verify(token: String) throws(JWTError) -> JWTClaims {
        let utf8 = token.utf8
        guard utf8.count <= maximumTokenBytes else { throw .tooLarge }
        let bytes = Array(utf8)
        guard let firstDot = bytes.firstIndex(of: UInt8(ascii: ".")) else { throw .malformed }
        guard let secondDot = bytes[(firstDot + 1)...].firstIndex(of: UInt8(ascii: ".")) else { throw .malformed }
        guard !bytes[(secondDot + 1)...].contains(UInt8(ascii: ".")) else { throw .malformed }
        let headerPart = bytes[0..<firstDot]
        let payloadPart = bytes[(firstDot + 1)..<secondDot]
        let signaturePart = bytes[(secondDot + 1)...]
        guard !headerPart.isEmpty else { throw .malformed }

        guard let headerBytes = Base64URL.decode(utf8: headerPart) else { throw .invalidBase64URL(part: "header") }
        guard case .object(let header)? = JSONParser.parse(headerBytes) else { throw .invalidJSON(part: "header") }
        guard case .string(let algName)? = header["alg"] else { throw .missingAlgorithm }
        guard let algorithm = JWTAlgorithm(rawValue: algName), algorithms.contains(algorithm) else {
            throw .algorithmNotAllowed(Self.printable(algName))
        }
        guard algorithm.keyKind == key.kind else { throw .algorithmKeyMismatch(algorithm.rawValue) }
        guard header["crit"] == nil else { throw .unsupportedCriticalHeader }
        // An empty signature never verifies (the `alg: none` shape with a pinned alg).
        guard !signaturePart.isEmpty else { throw .invalidSignature }
        guard let signature = Base64URL.decode(utf8: signaturePart) else { throw .invalidBase64URL(part: "signature") }
        let signingInput = bytes[0..<secondDot]
        guard verifySignature(algorithm, input: signingInput, signature: signature) else { throw .invalidSignature }

        guard let payloadBytes = Base64URL.decode(utf8: payloadPart) else { throw .invalidBase64URL(part: "payload") }
        guard case .object(let payload)? = JSONParser.parse(payloadBytes) else { throw .invalidJSON(part: "payload") }
        let claims = try JWTClaims(raw: payload, header: header)
        try check(claims)
        return claims
    }

    private func check(_ claims: JWTClaims) throws(JWTError) {
        let now = clock()
        guard now < claims.exp + leeway else { throw .expired }
        if let nbf = claims.nbf, now + leeway < nbf { throw .notYetValid }
        if let iat = claims.iat, now + leeway < iat { throw .issuedInFuture }
        if let issuer {
            guard let iss = claims.iss else { throw .missingClaim("iss") }
            guard iss == issuer else { throw .issuerMismatch }
        }
        if let audience {
            guard let aud = claims.aud else { throw .missingClaim("aud") }
            guard aud.contains(audience) else { throw .audienceMismatch }
        }
    }

    private func verifySignature(_ algorithm: JWTAlgorithm, input: ArraySlice<UInt8>, signature: [UInt8]) -> Bool {
        switch algorithm {
        case .hs256, .hs384, .hs512:
            let md: OpaquePointer? =
                algorithm == .hs256 ? EVP_sha256() : algorithm == .hs384 ? EVP_sha384() : EVP_sha512()
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Int(EVP_MAX_MD_SIZE)) { mac in
                var macLength: UInt32 = 0
                let ok = key.secret.withUnsafeBytes { secret in
                    input.withUnsafeBufferPointer { data in
                        HMAC(md, secret.baseAddress, Int32(secret.count), data.baseAddress, data.count, mac.baseAddress, &macLength) != nil
                    }
                }
                guard ok, signature.count == Int(macLength) else { return false }
                return CRYPTO_memcmp(mac.baseAddress, signature, Int(macLength)) == 0
            }
        case .rs256:
            return digestVerify(md: EVP_sha256(), input: input, signature: signature)
        case .es256:
            guard signature.count == 64, let der = Self.ecdsaDER(raw: signature) else { return false }
            return digestVerify(md: EVP_sha256(), input: input, signature: der)
        case .edDSA:
            guard signature.count == 64 else { return false }
            return digestVerify(md: nil, input: input, signature: signature)
        }
    }

    private func digestVerify(md: OpaquePointer?, input: ArraySlice<UInt8>, signature: [UInt8]) -> Bool {
        guard let publicKey = key.publicKey, let context = EVP_MD_CTX_new() else { return false }
        defer {
            EVP_MD_CTX_free(context)
            ERR_clear_error()
        }
        guard EVP_DigestVerifyInit(context, nil, md, nil, publicKey) == 1 else { return false }
        return input.withUnsafeBufferPointer { data in
            EVP_DigestVerify(context, signature, signature.count, data.baseAddress, data.count) == 1
        }
    }

    /// JOSE's raw `r || s` (32 bytes each) as the DER `SEQUENCE { INTEGER r, INTEGER s }` EVP wants.
    static func ecdsaDER(raw: [UInt8]) -> [UInt8]? {
        guard raw.count == 64 else { return nil }
        func integer(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            var value = Array(bytes.drop { $0 == 0 })
            if value.isEmpty { value = [0] }
            if value[0] & 0x80 != 0 { value.insert(0, at: 0) }
            return [0x02, UInt8(value.count)] + value
        }
        let body = integer(raw[0..<32]) + integer(raw[32..<64])
        return [0x30, UInt8(body.count)] + body  // at most 2 * 35 = 70 bytes: short-form length
    }

    /// An attacker's `alg` for the log: printable ASCII only, at most 16 characters.
    static func printable(_ text: String) -> String {
        let kept = text.unicodeScalars.prefix(16).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" }
        return String(kept) + (text.unicodeScalars.count > 16 ? "..." : "")
    }
}
