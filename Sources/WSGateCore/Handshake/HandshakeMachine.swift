import NIOCore
import WSGateConfig
import WSGateWire

/// The handshake as a pure decision: fed the parsed request head (then, as they come, key3 and
/// the upstream's answer), it says what to do — refuse, serve a static file, connect upstream,
/// send the hixie-76 head and await key3, or open the WebSocket with these response bytes.
///
/// It does no I/O and keeps no channel: `HTTPRequestHandler` performs its actions, and tests drive
/// it directly. Steps that wait (the upstream connect now; an asynchronous `authorize` step of
/// the auth issue next, before it) are states of their own, entered from `proceed`.
struct HandshakeMachine {
    /// What the gateway knows when the machine is made.
    struct Environment {
        /// The routes of the configuration the connection was accepted under.
        var routes: RouteTable
        /// Whether the connection came over TLS (`wss://` locations, Origin defaults).
        var isTLS: Bool
        /// Open connections now on a route with its own `max_connections` (by path), if counted.
        var routeLoad: (String) -> Int?
        /// Whether a route checks its handshakes before the 101 (`auth`, `targets`).
        var needsAuthorization: (RouteConfiguration) -> Bool = { _ in false }
        /// Whether room handshakes wait for the room's broker first (cluster rooms).
        var preparesRooms = false
        /// The client's real address, without port (forwarding headers to WebSocket upstreams).
        var clientAddress: String = ""
    }

    /// An upgrade accepted so far: what is opened once every step has passed.
    struct Upgrade {
        /// The request head.
        var head: HTTPRequestHead
        /// The route and, for rooms, the room name.
        var match: RouteTable.Match
        /// The client's dialect.
        var dialect: WebSocketDialect
        /// The subprotocol chosen, if any.
        var subprotocol: String?
        /// The whole response (hixie-76: its head, the token follows key3).
        var response: ByteBuffer
        /// permessage-deflate, when it was offered and the route allows it.
        var compression: PerMessageDeflateParameters? = nil
        /// permessage-deflate on the hop to a WebSocket backend, when the backend accepted it.
        var backendCompression: PerMessageDeflateParameters? = nil
        /// What the route's access check granted (token expiry, named target), once it ran.
        var grant: AccessGrant? = nil
    }

    /// Where the handshake is.
    enum State {
        /// Reading the request head (the handler's parser does the bytes).
        case readingHead
        /// Waiting for the route's access check (JWT, auth server, named target; autoRead off).
        case authorizing(Upgrade)
        /// Waiting for the upstream's connection (autoRead off; early bytes are kept).
        case connectingUpstream(Upgrade)
        /// Waiting for the room's broker: subscribed, top offset read (autoRead off; early bytes kept).
        case preparingRoom(Upgrade)
        /// WebSocket upstreams: connected; waiting for the backend's answer to our handshake.
        case handshakingBackend(Upgrade, UpstreamHandshake)
        /// hixie-76: the 101 head went out; waiting for the 8 bytes of key3.
        case awaitingKey3(Upgrade)
        /// A plain HTTP answer or a refusal is being written; the connection closes after it.
        case responding
        /// The WebSocket is open; the machine has nothing more to decide.
        case upgraded
    }

    /// What the handler does.
    enum Action {
        /// Write the refusal's response and close. `dialect` labels the log line (nil: HTTP).
        case refuse(GatewayRefusal, head: HTTPRequestHead?, dialect: String?)
        /// Serve the file below `root` at `remainder` (GET or HEAD) and close.
        case serveStatic(root: String, remainder: String, head: HTTPRequestHead)
        /// Check the handshake against its route's `auth`/`targets`, then report with `authorized`
        /// or `authorizationRefused`.
        case authorize(Upgrade)
        /// Connect to the upstream, then report with `upstreamConnected` or `upstreamFailed`.
        case connectUpstream(host: String, port: Int, timeoutMs: Int)
        /// Ready the room with its broker, then report with `roomPrepared` or `roomPreparationFailed`.
        case prepareRoom(name: String)
        /// WebSocket upstreams: send this handshake on the connected upstream, then report the
        /// answer with `backendAnswered` (or `upstreamFailed`: no answer, or none in time).
        case handshakeBackend(UpstreamHandshake)
        /// hixie-76: write this 101 head now, then feed key3 to `receivedKey3` when it is in.
        case sendHeadAwaitKey3(ByteBuffer)
        /// Write `response`, install the WebSocket pipeline for `upgrade`, and step aside.
        case open(Upgrade, response: ByteBuffer)
    }

    var state: State = .readingHead
    /// What the gateway knows; the handler sets `clientAddress` once the head named the client
    /// (trusted proxies), before `receivedHead`.
    var environment: Environment
    /// The route of an upgrade that passed the head's checks (it counts towards the route's
    /// `max_connections` from then on).
    private(set) var acceptedRoute: RouteConfiguration?

    init(environment: Environment) {
        self.environment = environment
    }

    // MARK: Inputs

    /// The request head is in.
    mutating func receivedHead(_ head: HTTPRequestHead) -> Action {
        guard case .readingHead = self.state else { preconditionFailure("a second request head") }
        let kind = RequestKind.classify(head)
        let match = self.environment.routes.match(path: head.path)
        guard kind != .plainHTTP else { return self.plainHTTP(head, match: match) }
        let label: String
        switch kind {
        case .hixie76: label = "hixie76"
        case .hixie75: label = "hixie75"
        default: label = "rfc6455"
        }
        guard let match else { return self.refuse(.noRoute(path: head.path), head, label) }
        if case .staticFiles = match.route.target { return self.refuse(.upgradeOnStaticRoute(path: head.path), head, label) }
        if let cap = match.route.maxConnectionsOnRoute, let load = self.environment.routeLoad(match.route.path), load >= cap {
            return self.refuse(.full(limit: cap), head, label)
        }
        let origin = head.first("Origin") ?? head.first("Sec-WebSocket-Origin")
        guard OriginPolicy.admits(origin: origin, host: head.first("Host"), isTLS: self.environment.isTLS, allowed: match.route.origins) else {
            return self.refuse(.originRefused(origin: origin ?? ""), head, label)
        }
        let upgrade: Upgrade
        switch kind {
        case .rfc6455:
            do {
                let request = try RFC6455Handshake.validate(head)
                var supported = match.route.subprotocols
                if match.route.target.isByteStreamUpstream { supported.append("base64") }
                let subprotocol = RFC6455Handshake.selectSubprotocol(offered: request.offeredSubprotocols, supported: supported)
                let compression = Self.negotiateCompression(head, route: match.route)
                upgrade = Upgrade(
                    head: head, match: match, dialect: .rfc6455(version: request.version), subprotocol: subprotocol,
                    response: RFC6455Handshake.serverResponse(key: request.key, subprotocol: subprotocol, extensions: compression?.headerValue),
                    compression: compression)
            } catch {
                return self.refuse(.wire(error), head, label)
            }
        case .hixie76:
            guard let origin else { return self.refuse(.missingOrigin, head, label) }
            do {
                // Bad keys are refused from the head alone, before anything is sent.
                _ = try Hixie76Handshake.keyNumber(head.first("Sec-WebSocket-Key1") ?? "")
                guard let key2 = head.first("Sec-WebSocket-Key2") else { throw WireError.missingHeader("Sec-WebSocket-Key2") }
                _ = try Hixie76Handshake.keyNumber(key2)
            } catch let error as WireError {
                return self.refuse(.wire(error), head, label)
            } catch {
                return self.refuse(.wire(.malformedRequestLine), head, label)
            }
            let subprotocol = Self.hixieSubprotocol(head.first("Sec-WebSocket-Protocol"), route: match.route)
            upgrade = Upgrade(
                head: head, match: match, dialect: .hixie76, subprotocol: subprotocol,
                response: Hixie76Handshake.serverResponseHead(origin: origin, location: self.location(head), subprotocol: subprotocol))
        case .hixie75, .plainHTTP:
            let subprotocol = Self.hixieSubprotocol(head.first("WebSocket-Protocol"), route: match.route)
            upgrade = Upgrade(
                head: head, match: match, dialect: .hixie75, subprotocol: subprotocol,
                response: Hixie75Handshake.serverResponse(origin: origin ?? "null", location: self.location(head), subprotocol: subprotocol))
        }
        return self.proceed(upgrade)
    }

    /// The route's access check admitted the handshake.
    mutating func authorized(_ grant: AccessGrant) -> Action {
        guard case .authorizing(var upgrade) = self.state else { preconditionFailure("no access check pending") }
        upgrade.grant = grant
        return self.connectOrRespond(upgrade)
    }

    /// The route's access check refused the handshake (401, 403, 429, 503).
    mutating func authorizationRefused(_ refusal: GatewayRefusal) -> Action {
        guard case .authorizing(let upgrade) = self.state else { preconditionFailure("no access check pending") }
        return self.refuse(refusal, upgrade.head, upgrade.dialect.label)
    }

    /// The upstream's connection is up (`to`: the pool's address that answered, if a pool).
    mutating func upstreamConnected(to address: RouteTarget? = nil) -> Action {
        guard case .connectingUpstream(let upgrade) = self.state else { preconditionFailure("no upstream connect pending") }
        if case .webSocketUpstream = upgrade.match.route.target { return self.handshakeBackend(upgrade, address: address) }
        return self.respond(upgrade)
    }

    /// The upstream could not be reached (502) or did not answer in time (504).
    mutating func upstreamFailed(_ refusal: GatewayRefusal) -> Action {
        let upgrade: Upgrade
        switch self.state {
        case .connectingUpstream(let pending), .handshakingBackend(let pending, _): upgrade = pending
        default: preconditionFailure("no upstream connect pending")
        }
        return self.refuse(refusal, upgrade.head, upgrade.dialect.label)
    }

    /// The room's broker is ready for the member.
    mutating func roomPrepared() -> Action {
        guard case .preparingRoom(let upgrade) = self.state else { preconditionFailure("no room preparation pending") }
        return self.respond(upgrade)
    }

    /// The room's broker could not be readied (503 cluster unavailable).
    mutating func roomPreparationFailed(_ refusal: GatewayRefusal) -> Action {
        guard case .preparingRoom(let upgrade) = self.state else { preconditionFailure("no room preparation pending") }
        return self.refuse(refusal, upgrade.head, upgrade.dialect.label)
    }

    /// hixie-76's 8 key bytes are in.
    mutating func receivedKey3(_ key3: [UInt8]) -> Action {
        guard case .awaitingKey3(let upgrade) = self.state else { preconditionFailure("key3 not awaited") }
        let head = upgrade.head
        do {
            let token = try Hixie76Handshake.challengeResponse(
                key1: head.first("Sec-WebSocket-Key1") ?? "", key2: head.first("Sec-WebSocket-Key2") ?? "", key3: key3)
            self.state = .upgraded
            return .open(upgrade, response: ByteBuffer(bytes: token))
        } catch {
            // Keys were checked with the head; only key3's length could fail, and the handler
            // passes exactly 8 bytes.
            return self.refuse(.wire(error), head, "hixie76")
        }
    }

    // MARK: Steps

    /// The steps that may wait, in order: the access check, the upstream connect or the room's
    /// preparation, then the answer.
    private mutating func proceed(_ upgrade: Upgrade) -> Action {
        self.acceptedRoute = upgrade.match.route
        if self.environment.needsAuthorization(upgrade.match.route) {
            self.state = .authorizing(upgrade)
            return .authorize(upgrade)
        }
        return self.connectOrRespond(upgrade)
    }

    private mutating func connectOrRespond(_ upgrade: Upgrade) -> Action {
        let route = upgrade.match.route
        switch route.target {
        case .upstream(let host, let port):
            self.state = .connectingUpstream(upgrade)
            return .connectUpstream(host: host, port: port, timeoutMs: route.connectTimeoutMs)
        case .namedTargets:
            guard let target = upgrade.grant?.target else {
                return self.refuse(.forbidden(detail: "no target named", metric: "unknown_target"), upgrade.head, upgrade.dialect.label)
            }
            self.state = .connectingUpstream(upgrade)
            return .connectUpstream(host: target.host, port: target.port, timeoutMs: route.connectTimeoutMs)
        case .unixUpstream(let path):
            // The handler connects to the route's own target; host and port name it in logs.
            self.state = .connectingUpstream(upgrade)
            return .connectUpstream(host: "unix:" + path, port: 0, timeoutMs: route.connectTimeoutMs)
        case .webSocketUpstream(let host, let port, _):
            self.state = .connectingUpstream(upgrade)
            return .connectUpstream(host: host, port: port, timeoutMs: route.connectTimeoutMs)
        case .room where self.environment.preparesRooms:
            self.state = .preparingRoom(upgrade)
            return .prepareRoom(name: upgrade.match.roomName ?? "")
        default:
            return self.respond(upgrade)
        }
    }

    mutating func respond(_ upgrade: Upgrade) -> Action {
        if upgrade.dialect == .hixie76 {
            self.state = .awaitingKey3(upgrade)
            return .sendHeadAwaitKey3(upgrade.response)
        }
        self.state = .upgraded
        return .open(upgrade, response: upgrade.response)
    }

    private mutating func plainHTTP(_ head: HTTPRequestHead, match: RouteTable.Match?) -> Action {
        guard let match else { return self.refuse(.noRoute(path: head.path), head, nil) }
        guard case .staticFiles(let root) = match.route.target else { return self.refuse(.upgradeRequired(path: head.path), head, nil) }
        guard head.method == "GET" || head.method == "HEAD" else { return self.refuse(.methodNotAllowed(method: head.method), head, nil) }
        self.state = .responding
        return .serveStatic(root: root, remainder: match.remainder, head: head)
    }

    mutating func refuse(_ refusal: GatewayRefusal, _ head: HTTPRequestHead?, _ dialect: String?) -> Action {
        self.state = .responding
        return .refuse(refusal, head: head, dialect: dialect)
    }

    /// permessage-deflate per RFC 7692 section 7: the first offer the route can honour, or none.
    /// Room routes always answer `server_no_context_takeover`, so that one compression of a
    /// message serves every member.
    static func negotiateCompression(_ head: HTTPRequestHead, route: RouteConfiguration) -> PerMessageDeflateParameters? {
        guard route.compression else { return nil }
        var isRoom = false
        if case .room = route.target { isRoom = true }
        let policy = PerMessageDeflatePolicy(isEnabled: true, forceServerNoContextTakeover: isRoom, windowBits: route.compressionWindowBits)
        return PerMessageDeflateNegotiation.negotiate(head: head, policy: policy)
    }

    private static func hixieSubprotocol(_ offered: String?, route: RouteConfiguration) -> String? {
        guard let offered else { return nil }
        if route.subprotocols.contains(offered) { return offered }
        if route.target.isByteStreamUpstream, offered == "base64" { return offered }
        return nil
    }

    func location(_ head: HTTPRequestHead) -> String {
        (self.environment.isTLS ? "wss://" : "ws://") + (head.first("Host") ?? "localhost") + head.target
    }
}
