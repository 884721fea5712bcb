import NIOCore
import WSGateConfig
import WSGateWire

/// The backend-handshake step of WebSocket upstreams (docs/SPEC.md "Upstreams, all forms"): after
/// the connect, the gateway's own RFC 6455 handshake with the backend; its answer decides the
/// client's (a 101 with the backend's subprotocol, or a 502 naming the backend's status).
extension HandshakeMachine {
    /// The upstream is connected: the handshake to send it.
    mutating func handshakeBackend(_ upgrade: Upgrade, address: RouteTarget? = nil) -> Action {
        let route = upgrade.match.route
        guard case .webSocketUpstream(let host, let port, let path) = address ?? route.target else {
            preconditionFailure("not a WebSocket upstream")
        }
        var handshake = UpstreamHandshake(
            host: host, port: port, path: path, head: upgrade.head, offered: Self.offeredSubprotocols(upgrade),
            allowed: route.subprotocols, client: self.environment.clientAddress, isTLS: self.environment.isTLS)
        if route.upstreamTLS != nil { handshake.defaultPort = 443 }
        if route.compression {
            // Our own offer on this hop: both windows at most the route's, so both zlib streams stay small.
            handshake.compressionOffer = PerMessageDeflateClientOffer(
                serverMaxWindowBits: route.compressionWindowBits, clientMaxWindowBits: route.compressionWindowBits)
        }
        self.state = .handshakingBackend(upgrade, handshake)
        return .handshakeBackend(handshake)
    }

    /// The backend answered our handshake.
    mutating func backendAnswered(_ response: ClientHandshakeResponse) -> Action {
        guard case .handshakingBackend(var upgrade, let handshake) = self.state else { preconditionFailure("no backend handshake pending") }
        let backend = "\(handshake.hostHeader)\(handshake.path)"
        switch handshake.judge(response) {
        case .refused(let status, let statusLine):
            return self.refuse(.upstreamHandshakeRefused(status: status, detail: "\(backend) answered \(statusLine)"), upgrade.head, upgrade.dialect.label)
        case .invalid(let reason):
            return self.refuse(.upstreamRefused("\(backend): \(reason)"), upgrade.head, upgrade.dialect.label)
        case .accepted(let subprotocol, let compression):
            upgrade.subprotocol = subprotocol
            upgrade.backendCompression = compression
            upgrade.response = self.response(upgrade, subprotocol: subprotocol)
            return self.respond(upgrade)
        }
    }

    /// What the client offered: RFC 6455's list, or the hixie drafts' one protocol.
    static func offeredSubprotocols(_ upgrade: Upgrade) -> [String] {
        switch upgrade.dialect {
        case .rfc6455:
            return (try? RFC6455Handshake.validate(upgrade.head))?.offeredSubprotocols ?? []
        case .hixie76:
            return upgrade.head.first("Sec-WebSocket-Protocol").map { [$0] } ?? []
        case .hixie75:
            return upgrade.head.first("WebSocket-Protocol").map { [$0] } ?? []
        }
    }

    /// The client's response again, now naming the backend's subprotocol.
    private func response(_ upgrade: Upgrade, subprotocol: String?) -> ByteBuffer {
        let head = upgrade.head
        switch upgrade.dialect {
        case .rfc6455:
            // The head was validated before the connect; only the key is needed again.
            let key = (try? RFC6455Handshake.validate(head))?.key ?? ""
            return RFC6455Handshake.serverResponse(key: key, subprotocol: subprotocol, extensions: upgrade.compression?.headerValue)
        case .hixie76:
            return Hixie76Handshake.serverResponseHead(
                origin: head.first("Origin") ?? head.first("Sec-WebSocket-Origin") ?? "null", location: self.location(head), subprotocol: subprotocol)
        case .hixie75:
            return Hixie75Handshake.serverResponse(origin: head.first("Origin") ?? "null", location: self.location(head), subprotocol: subprotocol)
        }
    }
}
