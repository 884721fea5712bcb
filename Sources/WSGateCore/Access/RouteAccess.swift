import Foundation
import WSGateAuth
import WSGateConfig

/// What a route checks before its 101, built once per configuration (start and every reload):
/// the JWT verifier with its key read from disk, the auth server to ask, the named targets.
struct RouteAccess: Sendable {
    /// The route's JWT verifier, if it has `auth.jwt`.
    let verifier: JWTVerifier?
    /// The route's auth server, if it has `auth.request`.
    let request: AuthRequestConfiguration?
    /// The route's named targets, if it is a `targets:` route.
    let targets: NamedTargets?

    /// Whether anything must be checked before the 101.
    var isNeeded: Bool { self.verifier != nil || self.request != nil || self.targets != nil }

    /// Builds every route's access, or every problem (each naming its route and file).
    static func build(_ configuration: WSGateConfiguration) -> (access: [String: RouteAccess], problems: [String]) {
        var access: [String: RouteAccess] = [:]
        var problems: [String] = []
        for route in configuration.routes {
            var verifier: JWTVerifier?
            if let jwt = route.auth?.jwt {
                do {
                    let key = try JWTKey(file: jwt.keyPath)
                    let algorithms = jwt.algorithms.compactMap(JWTAlgorithm.init(rawValue:))
                    verifier = try JWTVerifier(
                        algorithms: algorithms, key: key, issuer: jwt.issuer, audience: jwt.audience, leeway: Double(jwt.leewaySeconds))
                } catch {
                    problems.append("route \(route.path): jwt key \(jwt.keyPath): \(error)")
                }
            }
            var targets: NamedTargets?
            if case .namedTargets(let file) = route.target {
                do {
                    targets = try NamedTargets.load(path: file)
                } catch {
                    problems += error.errors.map { "route \(route.path): \($0.description)" }
                }
            }
            let entry = RouteAccess(verifier: verifier, request: route.auth?.request, targets: targets)
            if entry.isNeeded { access[route.path] = entry }
        }
        return (access, problems)
    }
}
