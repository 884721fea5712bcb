import NIOCore
import WSGateClient
import WSGateTLS
import WSGateWire

/// Opens benchmark connections through `WSGateClient`, in either dialect, over ws:// or wss://.
struct BenchConnector {
    let target: BenchTarget
    let tls: TLSContext?
    let subprotocols: [String]
    /// Extra request headers on every handshake (e.g. `Authorization: Bearer ...`).
    let headers: [(String, String)]
    /// permessage-deflate to offer on RFC 6455 connections (`--compression`); `nil`: none.
    let compression: PerMessageDeflateClientOffer?

    init(
        target: BenchTarget, caPath: String, subprotocols: [String] = [], headers: [(String, String)] = [],
        compression: PerMessageDeflateClientOffer? = nil
    ) throws {
        self.target = target
        self.subprotocols = subprotocols
        self.headers = headers
        self.compression = compression
        self.tls = target.isTLS ? try TLSContext.client(trustedCAPath: caPath, verifyPeer: true, alpn: ["http/1.1"]) : nil
    }

    func connect(
        dialect: ClientDialect, path: String? = nil, sourceAddress: String? = nil, counter: WireByteCounter? = nil,
        on eventLoop: EventLoop,
        onMessage: @escaping @Sendable (GatewayMessage) -> Void, onClose: @escaping @Sendable (WebSocketCloseCode?, String?) -> Void = { _, _ in }
    ) -> EventLoopFuture<WebSocketClient> {
        var configuration = WebSocketClientConfiguration(
            host: self.target.host, port: self.target.port, path: path ?? self.target.path, dialect: dialect)
        configuration.origin = "http://\(self.target.host):\(self.target.port)"
        configuration.tls = self.tls
        configuration.subprotocols = self.subprotocols
        configuration.sourceAddress = sourceAddress
        configuration.extraHeaders = self.headers
        configuration.maxMessageSize = 64 << 20
        configuration.wireCounter = counter
        if case .rfc6455 = dialect { configuration.compression = self.compression }
        return WebSocketClient.connect(configuration, on: eventLoop, onMessage: onMessage, onClose: onClose)
    }

    /// Connects `count` clients, at most `parallel` handshakes at a time.
    func connectMany(
        count: Int, parallel: Int = 64, group: EventLoopGroup,
        make: @escaping (Int, EventLoop) -> EventLoopFuture<WebSocketClient>
    ) throws -> [WebSocketClient] {
        var clients: [WebSocketClient] = []
        clients.reserveCapacity(count)
        var next = 0
        while next < count {
            let batch = min(parallel, count - next)
            let futures = (0..<batch).map { offset in make(next + offset, group.next()) }
            for future in futures { clients.append(try future.wait()) }
            next += batch
        }
        return clients
    }
}

extension ClientDialect {
    /// Parses `rfc6455`, `hixie76` or `hixie75`.
    init(benchName: String) throws {
        switch benchName {
        case "rfc6455": self = .rfc6455(version: 13)
        case "hixie76": self = .hixie76
        case "hixie75": self = .hixie75
        default: throw BenchError("unknown dialect \(benchName): rfc6455, hixie76 or hixie75")
        }
    }
}
