import NIOCore

/// The server side of the RFC 6455 opening handshake (section 4.2), for versions 13, 8 and 7.
///
/// Validates the request (section 4.2.1), computes `Sec-WebSocket-Accept` (section 4.2.2) and picks
/// a subprotocol. Does not check `Host` or `Origin`: routing and the Origin policy belong to the core.
public enum RFC6455Handshake {
    /// The GUID of RFC 6455 section 1.3.
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    /// The versions we accept, preferred first, as sent in a 426's `Sec-WebSocket-Version`.
    public static let supportedVersions: [UInt8] = [13, 8, 7]

    /// A validated client request.
    public struct Request: Sendable, Equatable {
        /// The `Sec-WebSocket-Key` value.
        public var key: String
        /// The `Sec-WebSocket-Version` (13, 8 or 7).
        public var version: UInt8
        /// The offered subprotocols, in the client's order.
        public var offeredSubprotocols: [String]
        /// Whether the client offered `permessage-deflate`.
        public var offersPermessageDeflate: Bool
    }

    /// `base64(SHA-1(key ‖ GUID))`.
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(Digest.sha1(Array((key + Self.guid).utf8)))
    }

    /// Checks the request against section 4.2.1.
    public static func validate(_ head: HTTPRequestHead) throws(WireError) -> Request {
        guard head.method == "GET" else { throw .invalidHeader(name: "method", reason: "an upgrade must be a GET") }
        guard head.minorVersion >= 1 else { throw .invalidHeader(name: "version", reason: "an upgrade needs HTTP/1.1") }
        guard let versionText = head.first("Sec-WebSocket-Version") else {
            throw .unsupportedVersion("none")
        }
        guard let version = UInt8(versionText), Self.supportedVersions.contains(version) else {
            throw .unsupportedVersion(versionText)
        }
        guard head.first("Upgrade") != nil else { throw .missingHeader("Upgrade") }
        guard head.contains("Upgrade", token: "websocket") else {
            throw .invalidHeader(name: "Upgrade", reason: "must name websocket")
        }
        guard head.first("Connection") != nil else { throw .missingHeader("Connection") }
        guard head.contains("Connection", token: "upgrade") else {
            throw .invalidHeader(name: "Connection", reason: "must include Upgrade")
        }
        guard let key = head.first("Sec-WebSocket-Key") else { throw .missingHeader("Sec-WebSocket-Key") }
        guard let decoded = Base64.decode(key), decoded.count == 16 else {
            throw .invalidHeader(name: "Sec-WebSocket-Key", reason: "must be 16 bytes in base64")
        }
        let extensions = head.tokens("Sec-WebSocket-Extensions")
        let deflate = extensions.contains { $0.split(separator: ";").first?.trimmingASCIIWhitespace() == "permessage-deflate" }
        return Request(
            key: key,
            version: version,
            offeredSubprotocols: head.tokens("Sec-WebSocket-Protocol"),
            offersPermessageDeflate: deflate
        )
    }

    /// The first subprotocol the client offered that the server lists (section 4.2.2, item 5.4).
    public static func selectSubprotocol(offered: [String], supported: [String]) -> String? {
        offered.first { supported.contains($0) }
    }

    /// The `101 Switching Protocols` head. Extensions are left out: an offer is declined by omission.
    public static func serverResponse(key: String, subprotocol: String?, extensions: String? = nil) -> ByteBuffer {
        var head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        head += "Sec-WebSocket-Accept: \(Self.acceptValue(forKey: key))\r\n"
        if let subprotocol { head += "Sec-WebSocket-Protocol: \(subprotocol)\r\n" }
        if let extensions { head += "Sec-WebSocket-Extensions: \(extensions)\r\n" }
        head += "\r\n"
        return ByteBuffer(string: head)
    }
}
