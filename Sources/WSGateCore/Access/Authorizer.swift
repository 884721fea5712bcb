import Foundation
import NIOCore
import WSGateAuth
import WSGateConfig
import WSGateWire

/// What an admitted handshake may do: when its token expires, and which named target it reaches.
struct AccessGrant: Sendable, Equatable {
    /// The wall-clock time (seconds since 1970) past which the connection is closed 1008, if the
    /// route checked a JWT.
    var expiresAt: Double?
    /// The named target's address, on a `targets:` route.
    var target: NamedTargets.Address?
}

/// An access check's outcome: decided on the spot (a JWT alone), or waiting for the auth server.
enum AuthorizationOutcome {
    /// Known now: the handshake goes on (or is refused) without a turn of the event loop.
    case decided(Result<AccessGrant, GatewayRefusal>)
    /// The auth server's answer, on the connection's event loop.
    case pending(EventLoopFuture<Result<AccessGrant, GatewayRefusal>>)
}

/// Checks one handshake against its route's `RouteAccess` (SPEC "Who may connect"): the JWT
/// (header, then `access_token`, then the `wsgate_token` cookie; the first present is judged),
/// the `rooms` claim, the auth server, the named target. Refusals are `GatewayRefusal`s with a
/// reason for the log and `/metrics` that never holds a token.
enum Authorizer {
    static func authorize(
        head: HTTPRequestHead, route: RouteConfiguration, roomName: String?, access: RouteAccess, clientAddress: String,
        isTLS: Bool, eventLoop: EventLoop
    ) -> AuthorizationOutcome {
        var grant = AccessGrant()
        var claims: JWTClaims?
        if let verifier = access.verifier {
            let query = head.target.firstIndex(of: "?").map { String(head.target[head.target.index(after: $0)...]) }
            guard let found = JWTTokenSource.find(authorization: head.first("Authorization"), query: query, cookie: head.first("Cookie")) else {
                return .decided(.failure(.unauthorized(
                    detail: "no token (Authorization: Bearer, access_token or the wsgate_token cookie)", challenge: BearerChallenge.missingToken,
                    metric: "no_token")))
            }
            do {
                let verified = try verifier.verify(token: found.token)
                claims = verified
                grant.expiresAt = verifier.deadline(for: verified)
            } catch {
                let metric: String
                switch error {
                case .expired: metric = "token_expired"
                case .algorithmNotAllowed, .algorithmKeyMismatch, .missingAlgorithm: metric = "token_algorithm"
                case .issuerMismatch, .audienceMismatch: metric = "token_claims"
                default: metric = "token_invalid"
                }
                return .decided(.failure(.unauthorized(
                    detail: "token from the \(found.source.rawValue) refused: \(error.reason)", challenge: BearerChallenge.invalidToken,
                    metric: metric)))
            }
            if case .room("*") = route.target, let roomName, let verified = claims, !verified.allowsRoom(roomName) {
                return .decided(.failure(.forbidden(detail: "the token does not list room \(roomName)", metric: "room_not_allowed")))
            }
        }
        guard let request = access.request else {
            return .decided(Self.resolveTarget(grant, access: access, route: route, head: head, claims: claims, named: nil))
        }
        var headers: [(String, String)] = [("X-Original-URI", head.target), ("X-Forwarded-For", clientAddress),
                                           ("X-Forwarded-Proto", isTLS ? "https" : "http")]
        for name in ["Cookie", "Authorization", "Origin"] {
            if let value = head.first(name) { headers.append((name, value)) }
        }
        let checked = grant
        let verifiedClaims = claims
        return .pending(AuthRequestClient.ask(request, headers: headers, eventLoop: eventLoop).map { answer -> Result<AccessGrant, GatewayRefusal> in
            switch answer.status {
            case 200..<300:
                return Self.resolveTarget(checked, access: access, route: route, head: head, claims: verifiedClaims, named: answer.target ?? "")
            case 401:
                return .failure(.unauthorized(detail: "the auth server answered 401", challenge: BearerChallenge.missingToken, metric: "auth_denied"))
            case 403:
                return .failure(.forbidden(detail: "the auth server answered 403", metric: "auth_denied"))
            default:
                return .failure(.authUnavailable(detail: "the auth server answered \(answer.status)"))
            }
        }.flatMapErrorThrowing { error in
            .failure(.authUnavailable(detail: "the auth server did not answer: \(error)"))
        })
    }

    /// The named target on a `targets:` route: from the token's `target` claim when the route has
    /// `auth.jwt`, from the auth server's `Wsgate-Target` (`named`) when it asks one, else from
    /// the `token` query parameter. Unknown or missing: 403.
    static func resolveTarget(
        _ grant: AccessGrant, access: RouteAccess, route: RouteConfiguration, head: HTTPRequestHead, claims: JWTClaims?, named: String?
    ) -> Result<AccessGrant, GatewayRefusal> {
        guard let targets = access.targets else { return .success(grant) }
        let name: String?
        if let named, access.request != nil {
            name = named.isEmpty ? nil : named
        } else if access.verifier != nil {
            name = claims?.target
        } else {
            name = Self.queryParameter("token", in: head.target)
        }
        guard let name, let address = targets.targets[name] else {
            return .failure(.forbidden(detail: name.map { "unknown target '\($0)'" } ?? "no target named", metric: "unknown_target"))
        }
        var result = grant
        result.target = address
        return .success(result)
    }

    /// A query parameter's value, percent-decoded.
    static func queryParameter(_ name: String, in target: String) -> String? {
        guard let question = target.firstIndex(of: "?") else { return nil }
        for pair in target[target.index(after: question)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.first == Substring(name) {
                let raw = parts.count > 1 ? String(parts[1]) : ""
                return raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? raw
            }
        }
        return nil
    }
}
