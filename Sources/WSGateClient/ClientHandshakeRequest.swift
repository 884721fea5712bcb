import NIOCore
import WSGateWire

/// One opening handshake of a client: the request bytes, and what the answer must hold.
///
/// RFC 6455 section 4.1 (client requirements 1–6 on the answer), draft-hixie-76 section 4.1
/// (status line, Upgrade/Connection, Sec-WebSocket-Origin/-Location/-Protocol, the MD5 token) and
/// draft-hixie-75 section 3.1. The checks do not mirror the gateway: each is the draft's own rule.
struct ClientHandshakeRequest {
    let configuration: WebSocketClientConfiguration
    /// The bytes to send (head, and for hixie-76 key3).
    let bytes: ByteBuffer
    /// RFC 6455: the `Sec-WebSocket-Key` sent.
    private let key: String?
    /// hixie-76: the 16 bytes the server must answer with.
    private let expectedToken: [UInt8]?

    init(configuration: WebSocketClientConfiguration) {
        self.configuration = configuration
        let origin = configuration.effectiveOrigin
        switch configuration.dialect {
        case .rfc6455(let version):
            let key = Base64.encode((0..<16).map { _ in UInt8.random(in: .min ... .max) })
            var head = "GET \(configuration.path) HTTP/1.1\r\nHost: \(configuration.hostHeader)\r\n"
            head += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\n"
            head += "Sec-WebSocket-Version: \(version)\r\n"
            if let origin { head += (version < 13 ? "Sec-WebSocket-Origin: " : "Origin: ") + origin + "\r\n" }
            if !configuration.subprotocols.isEmpty {
                head += "Sec-WebSocket-Protocol: \(configuration.subprotocols.joined(separator: ", "))\r\n"
            }
            if let offer = configuration.compression {
                head += "Sec-WebSocket-Extensions: \(PerMessageDeflateNegotiation.clientOffer(offer))\r\n"
            }
            for (name, value) in configuration.extraHeaders { head += "\(name): \(value)\r\n" }
            head += "\r\n"
            self.bytes = ByteBuffer(string: head)
            self.key = key
            self.expectedToken = nil
        case .hixie76:
            var (request, token) = Hixie76Handshake.clientRequest(
                host: configuration.hostHeader, path: configuration.path, origin: origin ?? "null",
                subprotocol: configuration.subprotocols.first)
            if !configuration.extraHeaders.isEmpty {
                request = Self.inserting(configuration.extraHeaders, into: request)
            }
            self.bytes = request
            self.key = nil
            self.expectedToken = token
        case .hixie75:
            var request = Hixie75Handshake.clientRequest(
                host: configuration.hostHeader, path: configuration.path, origin: origin ?? "null",
                subprotocol: configuration.subprotocols.first)
            if !configuration.extraHeaders.isEmpty {
                request = Self.inserting(configuration.extraHeaders, into: request)
            }
            self.bytes = request
            self.key = nil
            self.expectedToken = nil
        }
    }

    /// The bytes after the head of a 101 that belong to the handshake.
    var tokenLength: Int { self.expectedToken == nil ? 0 : 16 }

    /// What a valid 101 answer agreed on.
    struct Agreement {
        var subprotocol: String?
        var compression: PerMessageDeflateParameters?
    }

    /// Checks a 101 answer; returns the negotiated subprotocol and compression.
    func validate(_ response: ClientHandshakeResponse) throws(WebSocketClientError) -> Agreement {
        guard response.status == 101 else {
            throw .handshakeRefused(status: response.status, statusLine: response.statusLine, body: response.body)
        }
        switch self.configuration.dialect {
        case .rfc6455:
            // RFC 6455 section 4.1, "the client MUST validate the server's response".
            guard response.tokens("Upgrade").contains("websocket") else { throw .invalidHandshakeResponse("Upgrade is not websocket") }
            guard response.tokens("Connection").contains("upgrade") else { throw .invalidHandshakeResponse("Connection lacks Upgrade") }
            let expected = RFC6455Handshake.acceptValue(forKey: self.key ?? "")
            guard let accept = response.first("Sec-WebSocket-Accept") else {
                throw .invalidHandshakeResponse("no Sec-WebSocket-Accept")
            }
            guard accept == expected else {
                throw .invalidHandshakeResponse("Sec-WebSocket-Accept is \(accept), expected \(expected)")
            }
            let compression = try self.validateExtensions(response)
            guard let subprotocol = response.first("Sec-WebSocket-Protocol") else {
                return Agreement(subprotocol: nil, compression: compression)
            }
            guard self.configuration.subprotocols.contains(subprotocol) else {
                throw .invalidHandshakeResponse("subprotocol \(subprotocol) was not offered")
            }
            return Agreement(subprotocol: subprotocol, compression: compression)
        case .hixie76:
            return Agreement(subprotocol: try self.validateHixie(
                response, statusLine: "HTTP/1.1 101 WebSocket Protocol Handshake", prefix: "Sec-WebSocket-"))
        case .hixie75:
            return Agreement(subprotocol: try self.validateHixie(
                response, statusLine: "HTTP/1.1 101 Web Socket Protocol Handshake", prefix: "WebSocket-"))
        }
    }

    /// RFC 6455 section 4.1 (client requirement 5, extensions not offered) and RFC 7692 section 7.1:
    /// no `Sec-WebSocket-Extensions` means no compression; one without an offer, or that breaks the
    /// offer's rules, fails the handshake. Several header lines are one list (RFC 7230 section 3.2.2).
    private func validateExtensions(_ response: ClientHandshakeResponse) throws(WebSocketClientError) -> PerMessageDeflateParameters? {
        guard let value = response.list("Sec-WebSocket-Extensions") else { return nil }
        guard let offer = self.configuration.compression else {
            throw .invalidHandshakeResponse("extension \(value) was not offered")
        }
        do {
            return try PerMessageDeflateNegotiation.acceptResponse(value, offered: offer)
        } catch {
            throw .compressionResponseRejected(header: value, reason: error)
        }
    }

    private func validateHixie(
        _ response: ClientHandshakeResponse, statusLine: String, prefix: String
    ) throws(WebSocketClientError) -> String? {
        guard response.statusLine == statusLine else {
            throw .invalidHandshakeResponse("status line '\(response.statusLine)', expected '\(statusLine)'")
        }
        // The drafts compare these two exactly (76: "Upgrade: WebSocket"); case-insensitively is kinder.
        guard response.first("Upgrade")?.lowercased() == "websocket" else { throw .invalidHandshakeResponse("Upgrade is not WebSocket") }
        guard response.first("Connection")?.lowercased() == "upgrade" else { throw .invalidHandshakeResponse("Connection is not Upgrade") }
        let origin = self.configuration.effectiveOrigin ?? "null"
        guard let sentOrigin = response.first(prefix + "Origin") else { throw .invalidHandshakeResponse("no \(prefix)Origin") }
        guard sentOrigin == origin else {
            throw .invalidHandshakeResponse("\(prefix)Origin is \(sentOrigin), expected \(origin)")
        }
        let location = self.configuration.expectedLocation
        guard let sentLocation = response.first(prefix + "Location") else { throw .invalidHandshakeResponse("no \(prefix)Location") }
        guard sentLocation == location else {
            throw .invalidHandshakeResponse("\(prefix)Location is \(sentLocation), expected \(location)")
        }
        if let expectedToken {
            guard response.token == expectedToken else { throw .invalidHandshakeResponse("wrong hixie-76 token") }
        }
        guard let subprotocol = response.first(prefix + "Protocol") else { return nil }
        guard subprotocol == self.configuration.subprotocols.first else {
            throw .invalidHandshakeResponse("subprotocol \(subprotocol) was not offered")
        }
        return subprotocol
    }

    /// `request` with `headers` inserted before the blank line (and before key3).
    private static func inserting(_ headers: [(String, String)], into request: ByteBuffer) -> ByteBuffer {
        let view = request.readableBytesView
        var blank = view.startIndex
        while blank + 3 < view.endIndex {
            if view[blank] == 13, view[blank + 1] == 10, view[blank + 2] == 13, view[blank + 3] == 10 { break }
            blank += 1
        }
        var out = ByteBuffer()
        out.writeBytes(view[view.startIndex..<(blank + 2)])
        for (name, value) in headers { out.writeString("\(name): \(value)\r\n") }
        out.writeBytes(view[(blank + 2)...])
        return out
    }
}
