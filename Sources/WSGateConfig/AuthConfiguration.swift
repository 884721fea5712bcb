/// Who may connect on a route (key `auth`): a JWT checked by the gateway, an auth server asked
/// for every handshake (nginx's `auth_request`), or both (the JWT first).
public struct AuthConfiguration: Sendable, Equatable {
    /// Key `jwt`.
    public var jwt: JWTConfiguration?
    /// Key `request`: the auth server's URL.
    public var request: AuthRequestConfiguration?

    public init(jwt: JWTConfiguration? = nil, request: AuthRequestConfiguration? = nil) {
        self.jwt = jwt
        self.request = request
    }
}

/// Key `auth.jwt`: tokens the gateway verifies itself (OpenSSL's EVP).
public struct JWTConfiguration: Sendable, Equatable {
    /// Key `algorithms`: the pinned list (HS256, HS384, HS512, RS256, ES256, EdDSA). Required.
    public var algorithms: [String]
    /// Key `key`: a PEM public key, or a file holding the HMAC secret. Required.
    public var keyPath: String
    /// Key `issuer`: the `iss` required, if set.
    public var issuer: String?
    /// Key `audience`: the `aud` required, if set.
    public var audience: String?
    /// Key `leeway_s`: clock skew allowed on `exp`, `nbf` and `iat`. Default: 30.
    public var leewaySeconds: Int

    public init(algorithms: [String], keyPath: String, issuer: String? = nil, audience: String? = nil, leewaySeconds: Int = 30) {
        self.algorithms = algorithms
        self.keyPath = keyPath
        self.issuer = issuer
        self.audience = audience
        self.leewaySeconds = leewaySeconds
    }

    /// The algorithm names the gateway knows.
    public static let knownAlgorithms = ["HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"]
}

/// Key `auth.request`: an HTTP URL asked with a GET for every handshake.
public struct AuthRequestConfiguration: Sendable, Equatable {
    /// The host of the URL.
    public var host: String
    /// The port of the URL (80 by default).
    public var port: Int
    /// The path and query of the URL.
    public var path: String
    /// Key `auth.timeout_ms`: no answer within it is a 503. Default: 2,000.
    public var timeoutMs: Int

    public init(host: String, port: Int, path: String, timeoutMs: Int = 2000) {
        self.host = host
        self.port = port
        self.path = path
        self.timeoutMs = timeoutMs
    }
}
