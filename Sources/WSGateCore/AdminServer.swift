import NIOCore
import NIOPosix
import WSGateWire

/// The admin listener (SPEC "Observability"): `GET /healthz`, `GET /metrics` (Prometheus text
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

    /// The body of `/metrics`.
    static func prometheusText(_ gateway: Gateway) -> String {
        let m = gateway.metrics
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, Int)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(value)\n" }
        }
        var open: [(String, Int)] = []
        var total: [(String, Int)] = []
        for dialect in ["hixie75", "hixie76", "rfc6455"] {
            for tls in [false, true] {
                let cells = m.cells(dialect: dialect, isTLS: tls)
                let labels = "{dialect=\"\(dialect)\",tls=\"\(tls)\"}"
                open.append((labels, cells.open.load))
                total.append((labels, cells.total.load))
            }
        }
        metric("wsgate_connections_open", "gauge", "Open TCP connections on the public listeners.", [("", m.connectionsOpen.load)])
        metric("wsgate_connections_accepted_total", "counter", "TCP connections accepted.", [("", m.connectionsAccepted.load)])
        metric("wsgate_websockets_open", "gauge", "Open WebSocket connections.", open)
        metric("wsgate_websockets_total", "counter", "WebSocket connections opened.", total)
        metric(
            "wsgate_handshake_refusals_total", "counter", "Requests refused, by HTTP status.",
            m.refusalCounts.sorted { $0.key < $1.key }.map { ("{reason=\"\($0.key)\"}", $0.value) })
        metric("wsgate_messages_in_total", "counter", "Messages received from clients.", [("", m.messagesIn.load)])
        metric("wsgate_bytes_in_total", "counter", "Payload bytes received from clients.", [("", m.bytesIn.load)])
        metric("wsgate_messages_out_total", "counter", "Messages written to clients.", [("", m.messagesOut.load)])
        let rooms = gateway.rooms.snapshot()
        metric("wsgate_rooms", "gauge", "Rooms that exist.", [("", rooms.count)])
        metric("wsgate_room_members", "gauge", "Members of all rooms.", [("", m.roomMembers.load)])
        metric("wsgate_room_messages_total", "counter", "Messages published to rooms.", [("", m.roomMessages.load)])
        metric("wsgate_room_deliveries_total", "counter", "Room messages delivered to members.", [("", m.roomDeliveries.load)])
        metric("wsgate_slow_consumer_closes_total", "counter", "Members closed as slow consumers.", [("", m.slowConsumerCloses.load)])
        metric("wsgate_upstream_connects_total", "counter", "Upstream connections opened.", [("", m.upstreamConnects.load)])
        metric("wsgate_upstream_failures_total", "counter", "Upstream connections that failed.", [("", m.upstreamFailures.load)])
        return out
    }

    /// The body of `/rooms`.
    static func roomsJSON(_ gateway: Gateway) -> String {
        let items = gateway.rooms.snapshot().map { room in
            "{\"room\":\(Self.jsonString(room.name)),\"members\":\(room.members),\"messages\":\(room.messages)}"
        }
        return "[" + items.joined(separator: ",") + "]\n"
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
        case "/healthz": (contentType, body) = ("text/plain; charset=utf-8", "ok\n")
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
