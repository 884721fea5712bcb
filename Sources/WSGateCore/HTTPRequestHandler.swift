import Foundation
import Logging
import NIOCore
import NIOWebSocket
import WSGateConfig
import WSGateTLS
import WSGateWire

/// The first handler of every connection after TLS: reads the request head, routes it, and either
/// answers it (static files, refusals) or opens a WebSocket in the client's dialect.
///
/// Handshakes are told apart from the head alone (`RequestKind.classify`); for hixie-76 it then
/// waits for exactly 8 more bytes. Every refusal is a `GatewayRefusal`, turned into its status in
/// one place; every handshake is logged in one line. A client that has not finished its handshake
/// within `handshake_timeout_ms` is dropped.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case readingHead
        case awaitingKey3(head: HTTPRequestHead, match: RouteTable.Match, origin: String)
        case connectingUpstream
        case responding
        case upgraded
    }

    private var state: State = .readingHead
    private var parser = HTTPHeadParser()
    private var buffered: ByteBuffer?
    private var timeout: Scheduled<Void>?
    private var info: ConnectionInfo
    private var runtime: GatewayRuntime { self.info.runtime }

    init(info: ConnectionInfo) {
        self.info = info
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let limit = self.runtime.configuration.limits.handshakeTimeoutMs
        if limit > 0 {
            self.timeout = context.eventLoop.assumeIsolated().scheduleTask(deadline: self.info.acceptedAt + .milliseconds(Int64(limit))) {
                self.info.logger.info("handshake timeout", metadata: ["wsgate.peer": "\(self.info.peer)", "wsgate.timeout_ms": "\(limit)"])
                self.runtime.metrics.countRefusal("timeout")
                context.close(promise: nil)
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timeout?.cancel()
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
        switch self.state {
        case .readingHead:
            do {
                guard let head = try self.parser.next(from: &incoming) else {
                    self.buffered = incoming
                    return
                }
                self.route(context: context, head: head, rest: incoming)
            } catch {
                self.refuse(context: context, .wire(error), head: nil, dialect: nil)
            }
        case .awaitingKey3(let head, let match, let origin):
            self.completeHixie76(context: context, head: head, match: match, origin: origin, rest: incoming)
        case .connectingUpstream, .responding:
            self.buffered = incoming  // early frames: kept for the WebSocket once it opens
        case .upgraded:
            context.fireChannelRead(Self.wrapInboundOut(incoming))
        }
    }

    // MARK: Routing

    private func route(context: ChannelHandlerContext, head: HTTPRequestHead, rest: ByteBuffer) {
        let kind = RequestKind.classify(head)
        let match = self.runtime.routes.match(path: head.path)
        guard kind != .plainHTTP else {
            self.servePlainHTTP(context: context, head: head, match: match)
            return
        }
        let dialectLabel = kind == .hixie76 ? "hixie76" : (kind == .hixie75 ? "hixie75" : "rfc6455")
        guard let match else {
            return self.refuse(context: context, .noRoute(path: head.path), head: head, dialect: dialectLabel)
        }
        if case .staticFiles = match.route.target {
            return self.refuse(context: context, .upgradeOnStaticRoute(path: head.path), head: head, dialect: dialectLabel)
        }
        if let cap = match.route.maxConnectionsOnRoute, let cell = self.runtime.routeConnections[match.route.path] {
            if cell.load >= cap {
                return self.refuse(context: context, .full(limit: cap), head: head, dialect: dialectLabel)
            }
            cell.add(1)
            self.info.accounting.routeCell = cell
        }
        let origin = head.first("Origin") ?? head.first("Sec-WebSocket-Origin")
        guard OriginPolicy.admits(origin: origin, host: head.first("Host"), isTLS: self.info.isTLS, allowed: match.route.origins) else {
            return self.refuse(context: context, .originRefused(origin: origin ?? ""), head: head, dialect: dialectLabel)
        }
        switch kind {
        case .rfc6455:
            do {
                let request = try RFC6455Handshake.validate(head)
                var supported = match.route.subprotocols
                if case .upstream = match.route.target { supported.append("base64") }
                let subprotocol = RFC6455Handshake.selectSubprotocol(offered: request.offeredSubprotocols, supported: supported)
                let response = RFC6455Handshake.serverResponse(key: request.key, subprotocol: subprotocol)
                self.open(
                    context: context, head: head, match: match, dialect: .rfc6455(version: request.version),
                    response: response, subprotocol: subprotocol, rest: rest)
            } catch {
                self.refuse(context: context, .wire(error), head: head, dialect: dialectLabel)
            }
        case .hixie76:
            guard let origin else { return self.refuse(context: context, .missingOrigin, head: head, dialect: dialectLabel) }
            do {
                // Refuse bad keys from the head alone, before waiting for key3.
                _ = try Hixie76Handshake.keyNumber(head.first("Sec-WebSocket-Key1") ?? "")
                guard let key2 = head.first("Sec-WebSocket-Key2") else { throw WireError.missingHeader("Sec-WebSocket-Key2") }
                _ = try Hixie76Handshake.keyNumber(key2)
            } catch let error as WireError {
                return self.refuse(context: context, .wire(error), head: head, dialect: dialectLabel)
            } catch {
                return self.refuse(context: context, .wire(.malformedRequestLine), head: head, dialect: dialectLabel)
            }
            self.state = .awaitingKey3(head: head, match: match, origin: origin)
            self.completeHixie76(context: context, head: head, match: match, origin: origin, rest: rest)
        case .hixie75:
            let subprotocol = self.hixieSubprotocol(head.first("WebSocket-Protocol"), route: match.route)
            let response = Hixie75Handshake.serverResponse(
                origin: origin ?? "null", location: self.location(head), subprotocol: subprotocol)
            self.open(context: context, head: head, match: match, dialect: .hixie75, response: response, subprotocol: subprotocol, rest: rest)
        case .plainHTTP:
            break  // handled above
        }
    }

    private func completeHixie76(context: ChannelHandlerContext, head: HTTPRequestHead, match: RouteTable.Match, origin: String, rest: ByteBuffer) {
        var rest = rest
        guard rest.readableBytes >= 8 else {
            self.buffered = rest
            return
        }
        let key3 = rest.readBytes(length: 8)!  // 8 bytes are readable, checked above
        do {
            let token = try Hixie76Handshake.challengeResponse(
                key1: head.first("Sec-WebSocket-Key1") ?? "", key2: head.first("Sec-WebSocket-Key2") ?? "", key3: key3)
            let subprotocol = self.hixieSubprotocol(head.first("Sec-WebSocket-Protocol"), route: match.route)
            let response = Hixie76Handshake.serverResponse(
                origin: origin, location: self.location(head), subprotocol: subprotocol, token: token)
            self.open(context: context, head: head, match: match, dialect: .hixie76, response: response, subprotocol: subprotocol, rest: rest)
        } catch {
            self.refuse(context: context, .wire(error), head: head, dialect: "hixie76")
        }
    }

    private func hixieSubprotocol(_ offered: String?, route: RouteConfiguration) -> String? {
        guard let offered else { return nil }
        if route.subprotocols.contains(offered) { return offered }
        if case .upstream = route.target, offered == "base64" { return offered }
        return nil
    }

    private func location(_ head: HTTPRequestHead) -> String {
        (self.info.isTLS ? "wss://" : "ws://") + (head.first("Host") ?? "localhost") + head.target
    }

    // MARK: Opening the WebSocket

    private func open(
        context: ChannelHandlerContext, head: HTTPRequestHead, match: RouteTable.Match, dialect: WebSocketDialect,
        response: ByteBuffer, subprotocol: String?, rest: ByteBuffer
    ) {
        switch match.route.target {
        case .upstream(let host, let port):
            self.state = .connectingUpstream
            self.buffered = rest
            // The handshake is complete; the connect has its own deadline (504), so the
            // handshake timer must not drop the client first.
            self.timeout?.cancel()
            // Read nothing more until the bridge is in place: what the client sends early must
            // not pile up here (the bridge turns reading back on through its backpressure).
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            UpstreamConnector.connect(
                host: host, port: port, timeoutMs: match.route.connectTimeoutMs, eventLoop: context.eventLoop
            ).assumeIsolated().whenComplete { result in
                switch result {
                case .success(let upstream):
                    self.runtime.metrics.upstreamConnects.add(1)
                    let encoding = BridgeCodec.encoding(route: match.route.encoding, dialect: dialect, subprotocol: subprotocol)
                    let bridge = BridgeHandler(
                        upstream: upstream, encoding: encoding, dialect: dialect, metrics: self.runtime.metrics, logger: self.info.logger)
                    let rest = self.buffered ?? ByteBuffer()
                    self.buffered = nil
                    let installed = self.install(
                        context: context, head: head, match: match, dialect: dialect, response: response, session: bridge, rest: rest)
                    if installed {
                        context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
                    }
                    // The client went away while we connected (or we are shutting down): nothing
                    // will ever close this upstream otherwise.
                    if !installed { upstream.close(promise: nil) }
                case .failure(let error):
                    self.runtime.metrics.upstreamFailures.add(1)
                    let refusal: GatewayRefusal =
                        (error as? UpstreamConnector.Failure) == .timeout
                        ? .upstreamTimeout("\(host):\(port) after \(match.route.connectTimeoutMs) ms")
                        : .upstreamRefused("\(host):\(port): \(error)")
                    self.refuse(context: context, refusal, head: head, dialect: dialect.label)
                }
            }
        case .echo:
            let session = WebSocketSessionHandler(
                dialect: dialect, target: .echo, sendQueueBytes: match.route.limits.sendQueueBytes, rooms: self.runtime.rooms, metrics: self.runtime.metrics, logger: self.info.logger)
            self.install(context: context, head: head, match: match, dialect: dialect, response: response, session: session, rest: rest)
        case .room:
            let name = match.roomName ?? ""
            let target = SessionTarget.room(
                name: name, historyLimit: self.runtime.historyLimit(room: name, default: match.route.history),
                includeSender: match.route.includeSender, announce: match.route.announce)
            let session = WebSocketSessionHandler(
                dialect: dialect, target: target, sendQueueBytes: match.route.limits.sendQueueBytes, rooms: self.runtime.rooms, metrics: self.runtime.metrics, logger: self.info.logger)
            self.install(context: context, head: head, match: match, dialect: dialect, response: response, session: session, rest: rest)
        case .staticFiles:
            self.refuse(context: context, .upgradeOnStaticRoute(path: head.path), head: head, dialect: dialect.label)
        }
    }

    /// Writes the 101, installs the dialect's frame handler and the session after this handler,
    /// flushes, hands over any bytes that came after the handshake, and steps out of the pipeline.
    /// Returns whether the session handler is in place.
    @discardableResult
    private func install(
        context: ChannelHandlerContext, head: HTTPRequestHead, match: RouteTable.Match, dialect: WebSocketDialect,
        response: ByteBuffer, session: ChannelHandler, rest: ByteBuffer
    ) -> Bool {
        guard self.runtime.connections.add(context.channel) else {
            self.refuse(context: context, .shuttingDown, head: head, dialect: dialect.label)
            return false
        }
        self.timeout?.cancel()
        self.state = .upgraded
        let limits = match.route.limits
        let keepalive = Keepalive(pingIntervalSeconds: limits.pingIntervalSeconds, idleTimeoutSeconds: limits.idleTimeoutSeconds)
        let handlers: [ChannelHandler]
        switch dialect {
        case .rfc6455:
            let maxFrame = min(limits.maxMessageBytes, Int(UInt32.max))
            handlers = [
                ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrame)),
                RFC6455FrameHandler(maxMessageSize: limits.maxMessageBytes, keepalive: keepalive, metrics: self.runtime.metrics, logger: self.info.logger),
                session,
            ]
        case .hixie75, .hixie76:
            handlers = [
                HixieFrameHandler(
                    dialect: dialect == .hixie75 ? .hixie75 : .hixie76, maxMessageSize: limits.maxMessageBytes,
                    keepalive: keepalive, metrics: self.runtime.metrics, logger: self.info.logger),
                session,
            ]
        }
        let cells = self.runtime.metrics.cells(dialect: dialect.label, isTLS: self.info.isTLS)
        cells.open.add(1)
        cells.total.add(1)
        self.info.accounting.dialectCells = cells
        context.channel.setOption(
            ChannelOptions.writeBufferWaterMark,
            value: .init(
                low: WebSocketSessionHandler.channelShare(of: limits.sendQueueBytes) / 2,
                high: WebSocketSessionHandler.channelShare(of: limits.sendQueueBytes))
        ).whenFailure { _ in }
        self.logHandshake(head: head, dialect: dialect.label, status: 101, reason: nil)
        context.write(Self.wrapOutboundOut(response), promise: nil)
        do {
            try context.pipeline.syncOperations.addHandlers(handlers, position: .after(self))
        } catch {
            // Usually the client left during the handshake; anything else is our fault.
            if context.channel.isActive {
                self.info.logger.error("could not install WebSocket handlers", metadata: ["wsgate.peer": "\(self.info.peer)", "wsgate.error": "\(error)"])
            } else {
                self.info.logger.debug("client left during the handshake", metadata: ["wsgate.peer": "\(self.info.peer)", "wsgate.error": "\(error)"])
            }
            context.close(promise: nil)
            return false
        }
        context.flush()
        if rest.readableBytes > 0 {
            context.fireChannelRead(Self.wrapInboundOut(rest))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        return true
    }

    // MARK: Plain HTTP

    private func servePlainHTTP(context: ChannelHandlerContext, head: HTTPRequestHead, match: RouteTable.Match?) {
        guard let match else { return self.refuse(context: context, .noRoute(path: head.path), head: head, dialect: nil) }
        guard case .staticFiles(let root) = match.route.target else {
            return self.refuse(context: context, .upgradeRequired(path: head.path), head: head, dialect: nil)
        }
        guard head.method == "GET" || head.method == "HEAD" else {
            return self.refuse(context: context, .methodNotAllowed(method: head.method), head: head, dialect: nil)
        }
        let isHead = head.method == "HEAD"
        self.state = .responding
        self.timeout?.cancel()
        let remainder = match.remainder
        self.runtime.threadPool.runIfActive(eventLoop: context.eventLoop) { () -> Result<(ByteBuffer, String), GatewayRefusal> in
            switch StaticFilePath.resolve(root: root, remainder: remainder) {
            case .forbidden: return .failure(.forbiddenPath(path: head.path))
            case .notFound: return .failure(.fileNotFound(path: head.path))
            case .file(let path):
                // Files are read whole (on the thread pool): bounded, for pages and their assets.
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
                if let size, size > StaticFilePath.maxFileSize { return .failure(.fileTooLarge(path: head.path, limit: StaticFilePath.maxFileSize)) }
                guard let data = FileManager.default.contents(atPath: path) else { return .failure(.fileNotFound(path: head.path)) }
                return .success((ByteBuffer(bytes: data), StaticFilePath.contentType(for: path)))
            }
        }.assumeIsolated().whenComplete { result in
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
        self.state = .responding
        self.timeout?.cancel()
        self.runtime.metrics.countRefusal(String(refusal.status))
        self.logHandshake(head: head, dialect: dialect, status: refusal.status, reason: refusal.reason)
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
