import NIOCore
import WSGateWire

/// Every reason the gateway refuses a request before a WebSocket opens, with its context.
///
/// `response` turns each into its HTTP status and short text body, in one place.
public enum GatewayRefusal: Error, Equatable, Sendable {
    /// The request broke a wire rule (400, 426 or 431 by the rule).
    case wire(WireError)
    /// No route for the path (404).
    case noRoute(path: String)
    /// The Origin is not admitted on this route (403).
    case originRefused(origin: String)
    /// hixie-76 without an Origin header (400).
    case missingOrigin
    /// The gateway or the route is full (503).
    case full(limit: Int)
    /// A plain GET on a WebSocket-only route (426).
    case upgradeRequired(path: String)
    /// An upgrade on a static route (400).
    case upgradeOnStaticRoute(path: String)
    /// A method other than GET or HEAD on a static route (405).
    case methodNotAllowed(method: String)
    /// No such file, or a path that leaves the static root (404 / 400).
    case fileNotFound(path: String)
    /// A path that tries to leave the static root or carries a NUL byte (400).
    case forbiddenPath(path: String)
    /// A static file larger than the gateway serves (500).
    case fileTooLarge(path: String, limit: Int)
    /// The upstream refused the connection (502).
    case upstreamRefused(String)
    /// The upstream did not answer in time (504).
    case upstreamTimeout(String)
    /// A WebSocket upstream answered its handshake with `status`, not 101 (502, naming it).
    case upstreamHandshakeRefused(status: Int, detail: String)
    /// The gateway is shutting down (503).
    case shuttingDown
    /// No token, or one that does not verify (401, with `WWW-Authenticate`). `metric` names the
    /// reason in `/metrics`; `detail` never holds the token.
    case unauthorized(detail: String, challenge: String, metric: String)
    /// Authenticated but not allowed here: the auth server said 403, an unknown target, a room the
    /// token does not list (403).
    case forbidden(detail: String, metric: String)
    /// Too many connections or handshakes from one client address (429, `Retry-After` if set).
    case tooManyRequests(detail: String, retryAfterSeconds: Int?, metric: String)
    /// The auth server failed or did not answer in time: fail closed (503).
    case authUnavailable(detail: String)
    /// A room handshake while the cluster's Redis is unreachable (503).
    case clusterUnavailable

    /// The status code.
    public var status: Int {
        switch self {
        case .wire(let error):
            switch error {
            case .headTooLarge: return 431
            case .unsupportedVersion: return 426
            case .unsupportedHTTPVersion: return 505
            default: return 400
            }
        case .noRoute, .fileNotFound: return 404
        case .originRefused: return 403
        case .missingOrigin, .upgradeOnStaticRoute, .forbiddenPath: return 400
        case .full, .shuttingDown, .clusterUnavailable: return 503
        case .upgradeRequired: return 426
        case .methodNotAllowed: return 405
        case .fileTooLarge: return 500
        case .upstreamRefused, .upstreamHandshakeRefused: return 502
        case .upstreamTimeout: return 504
        case .unauthorized: return 401
        case .forbidden: return 403
        case .tooManyRequests: return 429
        case .authUnavailable: return 503
        }
    }

    /// The label of the refusal in `/metrics` (`wsgate_handshake_refusals_total{reason=...}`).
    public var metricReason: String {
        switch self {
        case .unauthorized(_, _, let metric), .forbidden(_, let metric), .tooManyRequests(_, _, let metric): return metric
        case .authUnavailable: return "auth_unavailable"
        default: return String(self.status)
        }
    }

    /// A short text saying why, for the body and the log line.
    public var reason: String {
        switch self {
        case .wire(let error): return Self.describe(error)
        case .noRoute(let path): return "no route for \(path)"
        case .originRefused(let origin): return "origin \(origin) is not allowed"
        case .missingOrigin: return "hixie-76 handshake without an Origin header"
        case .full(let limit): return "too many connections (limit \(limit))"
        case .upgradeRequired(let path): return "\(path) is a WebSocket endpoint"
        case .upgradeOnStaticRoute(let path): return "\(path) serves files, not WebSockets"
        case .methodNotAllowed(let method): return "method \(method) is not allowed"
        case .fileNotFound(let path): return "no file at \(path)"
        case .forbiddenPath(let path): return "path \(path) is not allowed"
        case .fileTooLarge(let path, let limit): return "\(path) is larger than the \(limit) bytes served"
        case .upstreamRefused(let detail): return "upstream refused: \(detail)"
        case .upstreamTimeout(let detail): return "upstream timed out: \(detail)"
        case .upstreamHandshakeRefused(_, let detail): return "upstream refused the WebSocket handshake: \(detail)"
        case .shuttingDown: return "shutting down"
        case .unauthorized(let detail, _, _), .forbidden(let detail, _), .tooManyRequests(let detail, _, _), .authUnavailable(let detail):
            return detail
        case .clusterUnavailable: return "cluster unavailable"
        }
    }

    static func describe(_ error: WireError) -> String {
        switch error {
        case .headTooLarge(let limit): return "request header block over \(limit) bytes"
        case .malformedRequestLine: return "malformed request line"
        case .malformedHeader(let line): return "malformed header line \(line)"
        case .unsupportedHTTPVersion: return "HTTP version not supported"
        case .missingHeader(let name): return "missing header \(name)"
        case .invalidHeader(let name, let reason): return "bad \(name): \(reason)"
        case .unsupportedVersion(let version): return "unsupported Sec-WebSocket-Version \(version)"
        case .hixieKeyHasNoSpaces: return "hixie-76 key has no spaces"
        case .hixieKeyNotMultipleOfSpaces: return "hixie-76 key is not a multiple of its spaces"
        case .hixieKeyOutOfRange: return "hixie-76 key out of range"
        case .handshakeResponseMismatch(let reason): return "handshake mismatch: \(reason)"
        case .frameTooLarge(let limit): return "frame over \(limit) bytes"
        case .invalidUTF8: return "invalid UTF-8"
        }
    }

    /// Extra headers the status calls for.
    var extraHeaders: [(String, String)] {
        switch self {
        case .upgradeRequired, .wire(.unsupportedVersion):
            return [("Sec-WebSocket-Version", "13, 8, 7"), ("Upgrade", "websocket")]
        case .methodNotAllowed: return [("Allow", "GET, HEAD")]
        case .unauthorized(_, let challenge, _): return [("WWW-Authenticate", challenge)]
        case .tooManyRequests(_, let retryAfter?, _): return [("Retry-After", String(retryAfter))]
        default: return []
        }
    }

    /// The whole response, ready to write; the connection is closed after it.
    public func response(includeBody: Bool = true) -> ByteBuffer {
        HTTPResponse.text(status: self.status, body: self.reason + "\n", headers: self.extraHeaders, includeBody: includeBody)
    }
}
