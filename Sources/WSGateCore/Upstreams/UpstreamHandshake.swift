import NIOCore
import WSGateAuth
import WSGateWire

/// The gateway's opening handshake with an RFC 6455 backend (docs/SPEC.md "Upstreams, all forms"):
/// the request bytes, and the judgement of the answer. Pure; `UpstreamHandshakeHandler` does the I/O.
///
/// The request carries the backend's `Host`, the client's `Origin`, `Cookie` and `Authorization`,
/// the forwarding headers (`X-Forwarded-For`/`-Proto`/`-Host`, `Forwarded`) and the client's
/// subprotocol offer (filtered by the route's `subprotocols` when it has any). permessage-deflate
/// is offered on its own terms when the route has compression on (hop by hop: the client's own
/// offer is never passed through), with both windows at most the route's `compression_window_bits`.
struct UpstreamHandshake {
    /// The backend's host (IPv6 without brackets), port and request target.
    var host: String
    var port: Int
    var path: String
    /// `Sec-WebSocket-Key`.
    var key: String
    /// The subprotocols offered to the backend, in the client's order.
    var subprotocols: [String]
    /// Headers copied from the client and the forwarding headers, in the order sent.
    var headers: [(name: String, value: String)]
    /// The port `Host` leaves out: 80 (`ws://`) or 443 (`wss://`).
    var defaultPort = 80
    /// permessage-deflate as offered to the backend (nil: no extension offered).
    var compressionOffer: PerMessageDeflateClientOffer?

    /// What the backend's answer means.
    enum Outcome: Equatable {
        /// A valid 101; the backend's subprotocol, if it chose one, and permessage-deflate's
        /// parameters, if it accepted the offer.
        case accepted(subprotocol: String?, compression: PerMessageDeflateParameters?)
        /// Anything but 101: passed to the client as a 502 naming it.
        case refused(status: Int, statusLine: String)
        /// A 101 that breaks RFC 6455 section 4.1 (a 502 as well).
        case invalid(String)
    }

    /// The handshake for a client's request `head` on a route whose backend is `host:port` `path`.
    ///
    /// - Parameters:
    ///   - offered: the subprotocols the client offered.
    ///   - allowed: the route's `subprotocols` (empty: every offer goes to the backend).
    ///   - client: the client's real address (no port).
    ///   - isTLS: whether the client's connection is TLS (`X-Forwarded-Proto`).
    init(
        host: String, port: Int, path: String, head: HTTPRequestHead, offered: [String], allowed: [String], client: String, isTLS: Bool,
        key: String = Base64.encode((0..<16).map { _ in UInt8.random(in: .min ... .max) })
    ) {
        self.host = host
        self.port = port
        self.path = path
        self.key = key
        self.subprotocols = allowed.isEmpty ? offered : offered.filter { allowed.contains($0) }
        var headers: [(name: String, value: String)] = []
        // RFC 6455 versions 7 and 8 name it Sec-WebSocket-Origin; the backend speaks 13.
        if let origin = head.first("Origin") ?? head.first("Sec-WebSocket-Origin") { headers.append(("Origin", origin)) }
        for name in ["Cookie", "Authorization"] {
            for field in head.headers where field.name.lowercased() == name.lowercased() { headers.append((name, field.value)) }
        }
        let forwarded = ForwardedHeaders.make(client: client, proto: isTLS ? "https" : "http", host: head.first("Host") ?? "", existingXFF: [])
        headers.append(contentsOf: forwarded.fields)
        self.headers = headers
    }

    /// The `Host` header: the backend's host, bracketed if IPv6, with the port unless it is the default.
    var hostHeader: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return self.port == self.defaultPort ? host : "\(host):\(self.port)"
    }

    /// The request, ready to write.
    var bytes: ByteBuffer {
        var head = "GET \(self.path) HTTP/1.1\r\nHost: \(self.hostHeader)\r\n"
        head += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(self.key)\r\nSec-WebSocket-Version: 13\r\n"
        if !self.subprotocols.isEmpty { head += "Sec-WebSocket-Protocol: \(self.subprotocols.joined(separator: ", "))\r\n" }
        if let offer = self.compressionOffer { head += "Sec-WebSocket-Extensions: \(offer.headerValue)\r\n" }
        for (name, value) in self.headers { head += "\(name): \(Self.clean(value))\r\n" }
        head += "\r\n"
        return ByteBuffer(string: head)
    }

    /// RFC 6455 section 4.1: what the client must check in the server's answer.
    func judge(_ response: ClientHandshakeResponse) -> Outcome {
        guard response.status == 101 else { return .refused(status: response.status, statusLine: response.statusLine) }
        guard response.tokens("Upgrade").contains("websocket") else { return .invalid("Upgrade is not websocket") }
        guard response.tokens("Connection").contains("upgrade") else { return .invalid("Connection lacks Upgrade") }
        let expected = RFC6455Handshake.acceptValue(forKey: self.key)
        guard let accept = response.first("Sec-WebSocket-Accept") else { return .invalid("no Sec-WebSocket-Accept") }
        guard accept == expected else { return .invalid("Sec-WebSocket-Accept is \(accept), expected \(expected)") }
        var compression: PerMessageDeflateParameters?
        if let extensions = response.list("Sec-WebSocket-Extensions") {
            guard let offer = self.compressionOffer else { return .invalid("extension \(extensions) was not offered") }
            do {
                compression = try PerMessageDeflateNegotiation.acceptResponse(extensions, offered: offer)
            } catch {
                return .invalid("Sec-WebSocket-Extensions \(extensions): \(error)")
            }
        }
        guard let subprotocol = response.first("Sec-WebSocket-Protocol"), !subprotocol.isEmpty else {
            return .accepted(subprotocol: nil, compression: compression)
        }
        guard self.subprotocols.contains(subprotocol) else { return .invalid("subprotocol \(subprotocol) was not offered") }
        return .accepted(subprotocol: subprotocol, compression: compression)
    }

    /// A header value without CR, LF or NUL (the parser already refused them; this is a second lock).
    private static func clean(_ value: String) -> String {
        String(value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" && $0 != "\0" }.map(Character.init))
    }
}
