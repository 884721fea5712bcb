import NIOCore
import NIOPosix
import WSGateWire

/// The admin listener (docs/SPEC.md "Observability"): `GET /healthz`, `GET /metrics` (Prometheus text
/// exposition format 0.0.4) and `GET /rooms` (JSON). One request per connection.
enum AdminServer {
    static func bind(host: String, port: Int, group: EventLoopGroup, gateway: Gateway) throws -> Channel {
        try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [weak gateway] channel in
                guard let gateway else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(gateway: gateway))
                }
            }
            .bind(host: host, port: port)
            .wait()
    }

    /// The body of `/metrics`: the gateway's Prometheus registry.
    static func prometheusText(_ gateway: Gateway) -> String {
        gateway.metrics.prometheusText(rooms: gateway.rooms.snapshot().count)
    }

    /// The body of `/rooms`.
    static func roomsJSON(_ gateway: Gateway) -> String {
        let local = gateway.rooms.snapshot()
        guard let cluster = gateway.rooms.clusterMembers else {
            let items = local.map { room in
                "{\"room\":\(Self.jsonString(room.name)),\"members\":\(room.members),\"messages\":\(room.messages)}"
            }
            return "[" + items.joined(separator: ",") + "]\n"
        }
        // Cluster: members here and in the whole cluster (as the last heartbeat counted them).
        var rooms: [String: (members: Int, messages: UInt64)] = [:]
        for room in local { rooms[room.name] = (room.members, room.messages) }
        for name in cluster.keys where rooms[name] == nil { rooms[name] = (0, 0) }
        let items = rooms.keys.sorted().map { name in
            let room = rooms[name]!
            let total = max(cluster[name] ?? 0, room.members)
            return "{\"room\":\(Self.jsonString(name)),\"members\":\(room.members),\"cluster_members\":\(total),\"messages\":\(room.messages)}"
        }
        return "[" + items.joined(separator: ",") + "]\n"
    }

    /// The body of `/healthz`: `ok`, and the cluster's state on a second line.
    static func healthText(_ gateway: Gateway) -> String {
        guard let isUp = gateway.rooms.clusterIsUp else { return "ok\n" }
        return "ok\ncluster: \(isUp ? "up" : "down")\n"
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// Answers one admin request.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private weak var gateway: Gateway?
    private var parser = HTTPHeadParser()
    private var buffered = ByteBuffer()
    private var isDone = false

    init(gateway: Gateway) {
        self.gateway = gateway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.isDone else { return }
        var incoming = Self.unwrapInboundIn(data)
        self.buffered.writeBuffer(&incoming)
        let response: ByteBuffer
        do {
            guard let head = try self.parser.next(from: &self.buffered) else { return }
            response = self.respond(to: head)
        } catch {
            response = GatewayRefusal.wire(error).response()
        }
        self.isDone = true
        context.writeAndFlush(Self.wrapOutboundOut(response)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func respond(to head: HTTPRequestHead) -> ByteBuffer {
        guard let gateway = self.gateway else { return HTTPResponse.text(status: 503, body: "stopping\n") }
        guard head.method == "GET" || head.method == "HEAD" else {
            return GatewayRefusal.methodNotAllowed(method: head.method).response()
        }
        let (contentType, body): (String, String)
        switch head.path {
        case "/healthz": (contentType, body) = ("text/plain; charset=utf-8", AdminServer.healthText(gateway))
        case "/metrics": (contentType, body) = ("text/plain; version=0.0.4; charset=utf-8", AdminServer.prometheusText(gateway))
        case "/rooms": (contentType, body) = ("application/json", AdminServer.roomsJSON(gateway))
        default: return GatewayRefusal.noRoute(path: head.path).response()
        }
        let bytes = ByteBuffer(string: body)
        var out = HTTPResponse.head(status: 200, contentType: contentType, contentLength: bytes.readableBytes)
        if head.method == "GET" { out.writeImmutableBuffer(bytes) }
        return out
    }
}

@available(*, unavailable)
extension AdminHandler: Sendable {}
