import NIOCore
import WSGateTLS
import WSGateWire

/// Where and how a `WebSocketClient` connects.
public struct WebSocketClientConfiguration: Sendable {
    /// The host to connect to (a name or an IP address), also sent in `Host`.
    public var host: String
    /// The TCP port.
    public var port: Int
    /// The request target: path and optional query, e.g. `/chat?x=1`. Default: `/`.
    public var path: String
    /// The dialect to speak. Default: RFC 6455 version 13.
    public var dialect: ClientDialect
    /// The `Origin` header. `nil`: none for RFC 6455; for hixie (which requires one) the same origin
    /// as `Host`, `http://host:port` (`https://` over TLS).
    public var origin: String?
    /// Subprotocols offered, in order of preference. Hixie dialects offer only the first.
    public var subprotocols: [String]
    /// A client `TLSContext` (`TLSContext.client(...)`) for wss://; `nil` for ws://.
    public var tls: TLSContext?
    /// The name sent by SNI and checked against the certificate when `tls` verifies peers.
    /// `nil`: `host`.
    public var serverName: String?
    /// The largest message accepted from the server, in bytes. Default: 16 MiB.
    /// Over it: RFC 6455 closes with 1009; hixie drops the connection.
    public var maxMessageSize: Int
    /// A local address to bind before connecting (e.g. `127.0.0.2`, so that a load generator can open
    /// more connections than one source address has ephemeral ports). `nil`: chosen by the system.
    public var sourceAddress: String?
    /// Bound on TCP connect plus TLS and WebSocket handshakes. Default: 10 s.
    public var handshakeTimeout: TimeAmount
    /// How long `close()` waits for the server's answer before it drops the connection. Default: 5 s.
    public var closeTimeout: TimeAmount
    /// Extra request headers, written after the standard ones (tests, e.g. a hybi `Sec-WebSocket-Origin`).
    public var extraHeaders: [(String, String)]
    /// permessage-deflate (RFC 7692) to offer, RFC 6455 only. `nil` (the default): no offer, and a
    /// server that answers with an extension anyway fails the handshake. When set, the request
    /// carries `Sec-WebSocket-Extensions: <offer>`, the answer is checked against it, and when the
    /// server accepted, compressed messages are inflated and messages of `compressionMinBytes` or
    /// more are sent compressed (`WebSocketClient.negotiatedCompression` says what was agreed).
    public var compression: PerMessageDeflateClientOffer?
    /// The smallest message sent compressed when permessage-deflate is in use. Default: 64 bytes.
    /// A message that would not shrink is sent plain whatever its size.
    public var compressionMinBytes: Int
    /// Counts the bytes the connection reads and writes on the socket (below TLS), e.g. for a
    /// load generator's bytes-on-the-wire figures. One counter may be shared by many connections.
    public var wireCounter: WireByteCounter?

    /// A configuration for `ws://host:port/path` (or wss:// with `tls`).
    public init(
        host: String,
        port: Int,
        path: String = "/",
        dialect: ClientDialect = .rfc6455(version: 13),
        origin: String? = nil,
        subprotocols: [String] = [],
        tls: TLSContext? = nil,
        serverName: String? = nil,
        maxMessageSize: Int = 16 << 20,
        sourceAddress: String? = nil,
        handshakeTimeout: TimeAmount = .seconds(10),
        closeTimeout: TimeAmount = .seconds(5),
        extraHeaders: [(String, String)] = [],
        compression: PerMessageDeflateClientOffer? = nil,
        compressionMinBytes: Int = 64,
        wireCounter: WireByteCounter? = nil
    ) {
        self.host = host
        self.port = port
        self.path = path
        self.dialect = dialect
        self.origin = origin
        self.subprotocols = subprotocols
        self.tls = tls
        self.serverName = serverName
        self.maxMessageSize = maxMessageSize
        self.sourceAddress = sourceAddress
        self.handshakeTimeout = handshakeTimeout
        self.closeTimeout = closeTimeout
        self.extraHeaders = extraHeaders
        self.compression = compression
        self.compressionMinBytes = compressionMinBytes
        self.wireCounter = wireCounter
    }

    /// The `Host` header: `host:port` (IPv6 literals in brackets).
    var hostHeader: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "\(host):\(self.port)"
    }

    /// The origin actually sent: `origin`, or for hixie the same origin as `Host`.
    var effectiveOrigin: String? {
        if let origin = self.origin { return origin }
        guard self.dialect.isHixie else { return nil }
        return (self.tls == nil ? "http://" : "https://") + self.hostHeader
    }

    /// The `ws://` or `wss://` URL the hixie server must name in its Location header.
    var expectedLocation: String {
        (self.tls == nil ? "ws://" : "wss://") + self.hostHeader + self.path
    }
}
