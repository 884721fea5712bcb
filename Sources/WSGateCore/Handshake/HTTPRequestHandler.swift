import Foundation
import Logging
import NIOCore
import WSGateAuth
import WSGateConfig
import WSGateTLS
import WSGateWire

/// The first handler of every connection after TLS: reads the request head and performs what the
/// `HandshakeMachine` decides — a refusal, a static file, an upstream connect, the hixie-76 head
/// before key3, or the WebSocket pipeline — then steps out of the pipeline.
///
/// Every refusal is a `GatewayRefusal`, turned into its status in one place; every handshake is
/// logged in one line. The connection's `HandshakeDeadline` runs until the WebSocket is open (or
/// until an upstream connect starts, which has its own deadline).
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: HandshakeMachine
    private var parser = HTTPHeadParser()
    /// Bytes read past what the current step took (key3, early frames).
    private var buffered: ByteBuffer?
    private var deadline: Scheduled<Void>?
    private var info: ConnectionInfo
    private var runtime: GatewayRuntime { self.info.runtime }

    init(info: ConnectionInfo) {
        self.info = info
        let runtime = info.runtime
        self.machine = HandshakeMachine(
            environment: .init(
                routes: runtime.routes, isTLS: info.isTLS, routeLoad: { runtime.routeConnections[$0]?.load },
                needsAuthorization: { route in runtime.access[route.path] != nil },
                preparesRooms: runtime.rooms.needsPreparation,
                clientAddress: info.peer))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.deadline = HandshakeDeadline.arm(context: context, info: self.info, stage: "request")
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.deadline?.cancel()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? TLSError {
            self.info.logger.info("TLS handshake failed", metadata: ["wsgate.peer": "\(self.info.peer)", "wsgate.tls": "true", "wsgate.reason": "\(error)"])
            self.runtime.metrics.countRefusal("tls")
        } else {
            self.info.logger.debug("connection error", metadata: ["wsgate.peer": "\(self.info.peer)", "wsgate.error": "\(error)"])
        }
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = Self.unwrapInboundIn(data)
        if var buffered = self.buffered {
            buffered.writeBuffer(&incoming)
            incoming = buffered
            self.buffered = nil
        }
        switch self.machine.state {
        case .readingHead:
            do {
                guard let head = try self.parser.next(from: &incoming) else {
                    self.buffered = incoming
                    return
                }
                self.buffered = incoming
                self.resolveClientAddress(head)
                var action = self.machine.receivedHead(head)
                if let route = self.machine.acceptedRoute {
                    self.reserveRouteSlot(route)
                    if let refusal = self.admitClient(route: route) {
                        action = .refuse(refusal, head: head, dialect: Self.dialectLabel(RequestKind.classify(head)))
                    }
                }
                self.perform(action, context: context)
            } catch {
                self.perform(.refuse(.wire(error), head: nil, dialect: nil), context: context)
            }
        case .awaitingKey3:
            self.buffered = incoming
            self.takeKey3(context: context)
        case .authorizing, .connectingUpstream, .preparingRoom, .handshakingBackend, .responding:
            self.buffered = incoming  // early frames: kept for the WebSocket once it opens
        case .upgraded:
            context.fireChannelRead(Self.wrapInboundOut(incoming))
        }
    }

    /// Feeds key3 to the machine once its 8 bytes are in.
    private func takeKey3(context: ChannelHandlerContext) {
        guard var rest = self.buffered, rest.readableBytes >= 8, let key3 = rest.readBytes(length: 8) else { return }
        self.buffered = rest
        self.perform(self.machine.receivedKey3(key3), context: context)
    }

    // MARK: Actions

    private func perform(_ action: HandshakeMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .refuse(let refusal, let head, let dialect):
            self.refuse(context: context, refusal, head: head, dialect: dialect)
        case .serveStatic(let root, let remainder, let head):
            self.serveStatic(context: context, root: root, remainder: remainder, head: head)
        case .authorize(let upgrade):
            self.authorize(context: context, upgrade: upgrade)
        case .connectUpstream(let host, let port, let timeoutMs):
            self.connectUpstream(context: context, host: host, port: port, timeoutMs: timeoutMs)
        case .prepareRoom(let name):
            self.prepareRoom(context: context, name: name)
        case .handshakeBackend(let handshake):
            self.handshakeBackend(context: context, handshake: handshake)
        case .sendHeadAwaitKey3(let responseHead):
            self.hasSentHead = true
            context.writeAndFlush(Self.wrapOutboundOut(responseHead), promise: nil)
            self.takeKey3(context: context)
        case .open(let upgrade, let response):
            self.open(context: context, upgrade: upgrade, response: response)
        }
    }

    private static func dialectLabel(_ kind: RequestKind) -> String? {
        switch kind {
        case .rfc6455: return "rfc6455"
        case .hixie76: return "hixie76"
        case .hixie75: return "hixie75"
        case .plainHTTP: return nil
        }
    }

    /// The client's real address: from a trusted proxy, the rightmost `X-Forwarded-For` entry it
    /// does not itself trust; otherwise the peer (or what its PROXY header said).
    private func resolveClientAddress(_ head: HTTPRequestHead) {
        let forwarded = head.headers.filter { $0.name.lowercased() == "x-forwarded-for" }.map(\.value)
        guard !forwarded.isEmpty, self.runtime.trustedProxies.contains(self.info.peer) else { return }
        self.info.peer = ClientAddress.resolve(peer: self.info.peer, xForwardedFor: forwarded, trusted: self.runtime.trustedProxies)
        self.info.clientPort = 0
        // Forwarding headers and PROXY headers to upstreams name the same client as logs and limits.
        self.machine.environment.clientAddress = self.info.peer
    }

    /// The per-client limits, by the real address: nil admits (and counts) the connection.
    private func admitClient(route: RouteConfiguration) -> GatewayRefusal? {
        let global = self.runtime.configuration.limits
        guard global.maxConnectionsPerIP > 0 || global.handshakesPerIPPerSecond > 0 || route.limits.maxConnectionsPerIP > 0
            || route.limits.handshakesPerIPPerSecond > 0
        else { return nil }
        switch self.runtime.clientLimits.admit(client: self.info.peer, global: global, route: route) {
        case .success(let claim):
            if let claim { self.info.accounting.clientClaim = ClientLimits.Held(limits: self.runtime.clientLimits, claim: claim) }
            return nil
        case .failure(let refusal):
            return refusal
        }
    }

    /// The route's access check, off the handshake's path: nothing more is read meanwhile, and a
    /// client that leaves costs nothing more than the check itself.
    private func authorize(context: ChannelHandlerContext, upgrade: HandshakeMachine.Upgrade) {
        guard let access = self.runtime.access[upgrade.match.route.path] else {
            return self.perform(self.machine.authorized(AccessGrant()), context: context)
        }
        let outcome = Authorizer.authorize(
            head: upgrade.head, route: upgrade.match.route, roomName: upgrade.match.roomName, access: access, clientAddress: self.info.peer,
            isTLS: self.info.isTLS, eventLoop: context.eventLoop)
        switch outcome {
        case .decided(let result):
            // A JWT alone: decided now, no reason to stop reading (and no turn of the loop).
            self.authorizationDecided(result, context: context)
        case .pending(let answer):
            // The auth server thinks: nothing more is read from the client meanwhile.
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            answer.assumeIsolated().whenSuccess { result in
                context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
                self.authorizationDecided(result, context: context)
            }
        }
    }

    private func authorizationDecided(_ result: Result<AccessGrant, GatewayRefusal>, context: ChannelHandlerContext) {
        switch result {
        case .success(let grant): self.perform(self.machine.authorized(grant), context: context)
        case .failure(let refusal): self.perform(self.machine.authorizationRefused(refusal), context: context)
        }
    }

    private func connectUpstream(context: ChannelHandlerContext, host: String, port: Int, timeoutMs: Int) {
        // The connect has its own deadline (504): the handshake timer must not drop the client first.
        self.deadline?.cancel()
        // Read nothing more until the bridge is in place: what the client sends early must not
        // pile up here (the bridge turns reading back on through its backpressure).
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        self.upstreamDeadline = .now() + .milliseconds(Int64(timeoutMs))
        self.upstreamTimeoutMs = timeoutMs
        let route = self.machine.acceptedRoute
        guard let pool = route.flatMap({ self.runtime.pools[$0.path] }) else {
            // A named target was resolved by the access check: the machine's address is the one.
            var target = route?.target ?? .upstream(host: host, port: port)
            if case .namedTargets = target { target = .upstream(host: host, port: port) }
            return self.connectUpstream(context: context, to: target, pool: nil, rest: [])
        }
        let order = pool.candidates()
        guard let first = order.first else {
            self.runtime.metrics.upstreamFailures.add(1)
            return self.perform(self.machine.upstreamFailed(.upstreamRefused("every address of the pool is down")), context: context)
        }
        self.connectUpstream(context: context, to: pool.members[first].target, pool: (pool, first), rest: Array(order.dropFirst()))
    }

    /// One connect attempt; in a pool, a refusal or timeout marks the address down and the next is
    /// tried within what is left of `connect_timeout_ms`.
    private func connectUpstream(
        context: ChannelHandlerContext, to target: RouteTarget, pool: (UpstreamPool, Int)?, rest: [Int]
    ) {
        let host: String
        let port: Int
        var unixPath: String? = nil
        switch target {
        case .upstream(let h, let p), .webSocketUpstream(let h, let p, _): (host, port) = (h, p)
        case .unixUpstream(let path): (host, port, unixPath) = ("unix:" + path, 0, path)
        default: preconditionFailure("not an upstream")
        }
        let name = UpstreamPool.label(target)
        let timeoutMs = self.upstreamTimeoutMs
        let remainingMs = max(1, Int(((self.upstreamDeadline ?? .now()) - .now()).nanoseconds / 1_000_000))
        var tls: UpstreamConnector.TLS? = nil
        if let route = self.machine.acceptedRoute, let settings = route.upstreamTLS, let made = self.runtime.upstreamTLS[route.path] {
            switch made {
            case .success(let tlsContext):
                tls = UpstreamConnector.TLS(context: tlsContext, serverName: settings.serverName ?? host)
            case .failure(let error):
                self.runtime.metrics.upstreamFailures.add(1)
                return self.perform(self.machine.upstreamFailed(.upstreamRefused("\(name): TLS: \(error)")), context: context)
            }
        }
        let proxyHeader = self.machine.acceptedRoute?.proxyProtocol.map { self.proxyHeader($0) }
        UpstreamConnector.connect(
            host: host, port: port, unixPath: unixPath, timeoutMs: remainingMs, tls: tls, proxyHeader: proxyHeader, eventLoop: context.eventLoop)
            .assumeIsolated().whenComplete { result in
                switch result {
                case .success(let upstream):
                    self.runtime.metrics.upstreamConnects.add(1)
                    if let (pool, index) = pool {
                        pool.connected(index)
                        upstream.closeFuture.whenComplete { _ in pool.released(index) }
                    }
                    self.pendingUpstream = upstream
                    self.perform(self.machine.upstreamConnected(to: pool == nil ? nil : target), context: context)
                    // The client went away while we connected, or we are shutting down: nothing
                    // will ever close this upstream otherwise.
                    if case .handshakingBackend = self.machine.state { return }
                    if let upstream = self.pendingUpstream {
                        self.pendingUpstream = nil
                        upstream.close(promise: nil)
                    }
                case .failure(let error):
                    self.runtime.metrics.upstreamFailures.add(1)
                    let isTimeout = (error as? UpstreamConnector.Failure) == .timeout
                    if let (pool, index) = pool {
                        pool.failed(index)
                        let timeLeft = (self.upstreamDeadline ?? .now()) > .now()
                        if let next = rest.first, timeLeft, context.channel.isActive {
                            self.info.logger.info("upstream address failed, trying the next", metadata: [
                                "wsgate.peer": "\(self.info.peer)", "wsgate.upstream": "\(UpstreamPool.label(target))", "wsgate.reason": "\(error)",
                            ])
                            return self.connectUpstream(context: context, to: pool.members[next].target, pool: (pool, next), rest: Array(rest.dropFirst()))
                        }
                    }
                    let refusal: GatewayRefusal =
                        isTimeout
                        ? .upstreamTimeout("\(name) after \(timeoutMs) ms")
                        : .upstreamRefused("\(name): \(error)")
                    self.perform(self.machine.upstreamFailed(refusal), context: context)
                }
            }
    }

    /// Cluster rooms: the gateway subscribes to the room and reads its top offset before the 101
    /// (docs/SPEC.md "Cluster"). A client that leaves meanwhile costs nothing more.
    private func prepareRoom(context: ChannelHandlerContext, name: String) {
        self.readsPaused = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        let history = self.runtime.historyLimit(room: name, default: self.machine.acceptedRoute?.history ?? 0)
        self.runtime.rooms.prepare(room: name, historyLimit: history, on: context.eventLoop)
            .assumeIsolated().whenComplete { result in
                guard case .preparingRoom = self.machine.state else { return }
                switch result {
                case .success:
                    // Reading again: hixie-76's key3 may still be on its way (the WebSocket, opened
                    // synchronously below otherwise, takes anything read later).
                    self.readsPaused = false
                    context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
                    self.perform(self.machine.roomPrepared(), context: context)
                case .failure:
                    self.perform(self.machine.roomPreparationFailed(.clusterUnavailable), context: context)
                }
            }
    }

    /// Whether autoRead was turned off for an asynchronous step (turned on again when the WebSocket opens).
    private var readsPaused = false

    /// The PROXY header naming the client's real address and the address it connected to
    /// (TCP4, or TCP6 when either is IPv6; v1 `UNKNOWN` / v2 `LOCAL` when they cannot be told).
    private func proxyHeader(_ version: ProxyProtocolVersion) -> [UInt8] {
        let source = ProxyEndpoint(address: self.info.peer, port: UInt16(clamping: self.info.clientPort))
        let destination = ProxyEndpoint(address: self.info.localAddress, port: UInt16(clamping: self.info.localPort))
        switch version {
        case .v1: return (try? ProxyProtocolEncoder.v1(source: source, destination: destination)) ?? ProxyProtocolEncoder.v1Unknown()
        case .v2: return (try? ProxyProtocolEncoder.v2(source: source, destination: destination)) ?? ProxyProtocolEncoder.v2Local()
        }
    }

    /// The upstream connected for this handshake, until a bridge takes it.
    private var pendingUpstream: Channel?
    /// WebSocket upstreams: what the backend sent after its 101, for the relay.
    private var upstreamLeftover = ByteBuffer()
    /// When the whole way to a usable upstream must be done (`connect_timeout_ms`).
    private var upstreamDeadline: NIODeadline?
    private var upstreamTimeoutMs = 0

    /// Sends the backend its handshake on the connected upstream and feeds the answer to the
    /// machine; `connect_timeout_ms` bounds the connect and this together (504 past it).
    private func handshakeBackend(context: ChannelHandlerContext, handshake: UpstreamHandshake) {
        guard let upstream = self.pendingUpstream else { return }
        let backend = "\(handshake.hostHeader)\(handshake.path)"
        let finish: (HandshakeMachine.Action) -> Void = { action in
            self.perform(action, context: context)
            // Refused, or no relay took it (the client left): nothing will close it otherwise.
            if let upstream = self.pendingUpstream {
                self.pendingUpstream = nil
                upstream.close(promise: nil)
            }
        }
        let handler = UpstreamHandshakeHandler(request: handshake.bytes) { result in
            self.upstreamTimer?.cancel()
            guard case .handshakingBackend = self.machine.state else { return }
            switch result {
            case .answered(let response, let leftover):
                if response.status != 101 { self.runtime.metrics.upstreamFailures.add(1) }
                self.upstreamLeftover = leftover
                finish(self.machine.backendAnswered(response))
            case .failed(let reason):
                self.runtime.metrics.upstreamFailures.add(1)
                finish(self.machine.upstreamFailed(.upstreamRefused("\(backend): \(reason)")))
            }
        }
        let timeoutMs = self.upstreamTimeoutMs
        self.upstreamTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: self.upstreamDeadline ?? .now()) {
            handler.cancel()
            guard case .handshakingBackend = self.machine.state else { return }
            self.runtime.metrics.upstreamFailures.add(1)
            finish(self.machine.upstreamFailed(.upstreamTimeout("\(backend): no handshake answer within \(timeoutMs) ms")))
        }
        do {
            try upstream.pipeline.syncOperations.addHandler(handler)  // after the TLS handler, if any
        } catch {
            self.upstreamTimer?.cancel()
            finish(self.machine.upstreamFailed(.upstreamRefused("\(backend): \(error)")))
        }
    }

    private var upstreamTimer: Scheduled<Void>?
    /// Whether the hixie-76 101 head went out (a refusal can no longer be an HTTP answer).
    private var hasSentHead = false

    /// Counts the connection on its route, if the route has its own `max_connections`.
    private func reserveRouteSlot(_ route: RouteConfiguration) {
        guard route.maxConnectionsOnRoute != nil, let cell = self.runtime.routeConnections[route.path] else { return }
        cell.add(1)
        self.info.accounting.routeCell = cell
    }

    private func makeSession(upgrade: HandshakeMachine.Upgrade, compression: MessageCompression?) -> ChannelHandler? {
        let route = upgrade.match.route
        switch route.target {
        case .upstream, .unixUpstream, .namedTargets:
            guard let upstream = self.pendingUpstream else { return nil }
            self.pendingUpstream = nil
            let encoding = BridgeCodec.encoding(route: route.encoding, dialect: upgrade.dialect, subprotocol: upgrade.subprotocol)
            return BridgeHandler(upstream: upstream, encoding: encoding, dialect: upgrade.dialect, metrics: self.runtime.metrics, logger: self.info.logger)
        case .webSocketUpstream:
            guard let upstream = self.pendingUpstream else { return nil }
            self.pendingUpstream = nil
            // The hop's compressor is small like the client hop's (memLevel by window), so that a
            // relayed connection holds tens of KiB of zlib state at most, not 150.
            let backendCompression = upgrade.backendCompression.map {
                ClientMessageCompression(
                    parameters: $0, minBytes: route.compressionMinBytes, memLevel: SharedDeflaters.memLevel(windowBits: $0.clientMaxWindowBits))
            }
            return WebSocketRelayHandler(
                upstream: upstream, leftover: self.upstreamLeftover, maxMessageBytes: route.limits.maxMessageBytes,
                backendCompression: backendCompression, metrics: self.runtime.metrics, logger: self.info.logger)
        case .echo:
            return WebSocketSessionHandler(
                dialect: upgrade.dialect, target: .echo, sendQueueBytes: route.limits.sendQueueBytes, rooms: self.runtime.rooms,
                metrics: self.runtime.metrics, logger: self.info.logger)
        case .room:
            let name = upgrade.match.roomName ?? ""
            let target = SessionTarget.room(
                name: name, historyLimit: self.runtime.historyLimit(room: name, default: route.history),
                includeSender: route.includeSender, announce: route.announce, family: compression?.roomFamily)
            return WebSocketSessionHandler(
                dialect: upgrade.dialect, target: target, sendQueueBytes: route.limits.sendQueueBytes,
                rooms: self.runtime.rooms, metrics: self.runtime.metrics, logger: self.info.logger)
        case .staticFiles:
            return nil  // the machine refuses upgrades on static routes
        }
    }

    /// Writes the response, installs the dialect's frame handler and the session after this
    /// handler, flushes, hands over any bytes that came after the handshake, and steps out.
    private func open(context: ChannelHandlerContext, upgrade: HandshakeMachine.Upgrade, response: ByteBuffer) {
        let label = upgrade.dialect.label
        guard context.channel.isActive else {
            // The client left during the handshake (an upstream connected meanwhile is closed by
            // the caller, since no bridge took it).
            context.close(promise: nil)
            return
        }
        guard self.runtime.connections.add(context.channel) else {
            return self.refuse(context: context, .shuttingDown, head: upgrade.head, dialect: label)
        }
        let compression = upgrade.compression.map {
            MessageCompression(parameters: $0, minBytes: upgrade.match.route.compressionMinBytes, compressions: self.runtime.metrics.compressions)
        }
        guard let session = self.makeSession(upgrade: upgrade, compression: compression) else {
            return self.refuse(context: context, .upgradeOnStaticRoute(path: upgrade.head.path), head: upgrade.head, dialect: label)
        }
        self.deadline?.cancel()
        let route = upgrade.match.route
        let cells = self.runtime.metrics.cells(dialect: label, isTLS: self.info.isTLS)
        cells.open.add(1)
        cells.total.add(1)
        self.info.accounting.dialectCells = cells
        context.channel.setOption(ChannelOptions.writeBufferWaterMark, value: WebSocketPipeline.writeBufferWaterMark(for: route.limits))
            .whenFailure { _ in }
        self.logHandshake(head: upgrade.head, dialect: label, status: 101, reason: nil)
        context.write(Self.wrapOutboundOut(response), promise: nil)
        if compression != nil { self.runtime.metrics.compressedConnections.add(1) }
        let handlers = WebSocketPipeline.handlers(
            dialect: upgrade.dialect, limits: route.limits, compression: compression, session: session, metrics: self.runtime.metrics,
            logger: self.info.logger)
        if let expiresAt = upgrade.grant?.expiresAt {
            // Its token's `exp` (plus leeway) passing closes it with 1008, within a second.
            TokenExpiry.shared.watch(context.channel, expiresAt: expiresAt, logger: self.info.logger, peer: self.info.peer)
        }
        do {
            // One by one, each after the one before: `addHandlers(_:position: .after)` adds them in
            // reverse, so the session's `handlerAdded` (a room's history replay) would write before
            // the frame handler is in place.
            var anchor: ChannelHandler = self
            for handler in handlers {
                try context.pipeline.syncOperations.addHandler(handler, position: .after(anchor))
                anchor = handler
            }
        } catch {
            // Usually the client left during the handshake; anything else is our fault.
            if context.channel.isActive {
                self.info.logger.error("could not install WebSocket handlers", metadata: ["wsgate.peer": "\(self.info.peer)", "wsgate.error": "\(error)"])
            } else {
                self.info.logger.debug("client left during the handshake", metadata: ["wsgate.peer": "\(self.info.peer)", "wsgate.error": "\(error)"])
            }
            (session as? BridgeHandler)?.discard()
            (session as? WebSocketRelayHandler)?.discard()
            WebSocketPipeline.unlink(handlers)
            context.close(promise: nil)
            return
        }
        context.flush()
        if route.target.isUpstream {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        } else if self.readsPaused {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        }
        if let rest = self.buffered, rest.readableBytes > 0 {
            self.buffered = nil
            context.fireChannelRead(Self.wrapInboundOut(rest))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    // MARK: Plain HTTP

    private func serveStatic(context: ChannelHandlerContext, root: String, remainder: String, head: HTTPRequestHead) {
        self.deadline?.cancel()
        let isHead = head.method == "HEAD"
        StaticFileResponder.read(
            root: root, remainder: remainder, requestPath: head.path, threadPool: self.runtime.threadPool, eventLoop: context.eventLoop
        ).assumeIsolated().whenComplete { result in
            switch result {
            case .success(.success(let (body, contentType))):
                var out = HTTPResponse.head(status: 200, contentType: contentType, contentLength: body.readableBytes)
                if !isHead { out.writeImmutableBuffer(body) }
                self.logHandshake(head: head, dialect: nil, status: 200, reason: nil)
                context.writeAndFlush(Self.wrapOutboundOut(out)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            case .success(.failure(let refusal)):
                self.refuse(context: context, refusal, head: head, dialect: nil, includeBody: !isHead)
            case .failure(let error):
                self.info.logger.error("static file read failed", metadata: ["wsgate.peer": "\(self.info.peer)", "wsgate.error": "\(error)"])
                context.close(promise: nil)
            }
        }
    }

    // MARK: Refusals

    private func refuse(context: ChannelHandlerContext, _ refusal: GatewayRefusal, head: HTTPRequestHead?, dialect: String?, includeBody: Bool = true) {
        self.deadline?.cancel()
        self.runtime.metrics.countRefusal(refusal.metricReason)
        self.logHandshake(head: head, dialect: dialect, status: refusal.status, reason: refusal.reason)
        guard !self.hasSentHead else {
            // hixie-76 after its 101 head: no HTTP answer is possible any more.
            context.close(promise: nil)
            return
        }
        context.writeAndFlush(Self.wrapOutboundOut(refusal.response(includeBody: includeBody))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func logHandshake(head: HTTPRequestHead?, dialect: String?, status: Int, reason: String?) {
        var metadata: Logger.Metadata = [
            "wsgate.peer": "\(self.info.peer)",
            "wsgate.tls": "\(self.info.isTLS)",
            "wsgate.dialect": "\(dialect ?? "http")",
            "wsgate.path": "\(head?.path ?? "-")",
            "wsgate.status": "\(status)",
        ]
        if let reason { metadata["wsgate.reason"] = "\(reason)" }
        self.info.logger.info("request", metadata: metadata)
    }
}

@available(*, unavailable)
extension HTTPRequestHandler: Sendable {}
