import Foundation
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
    /// wss:// with `--tls-resume`: the sessions every connection offers and stores, and the counts.
    let sessionCache: TLSSessionCache?

    init(
        target: BenchTarget, caPath: String, subprotocols: [String] = [], headers: [(String, String)] = [],
        compression: PerMessageDeflateClientOffer? = nil, resumesTLSSessions: Bool = false
    ) throws {
        self.target = target
        self.subprotocols = subprotocols
        self.headers = headers
        self.compression = compression
        self.sessionCache = target.isTLS && resumesTLSSessions ? TLSSessionCache() : nil
        self.tls = target.isTLS
            ? try TLSContext.client(trustedCAPath: caPath, verifyPeer: true, alpn: ["http/1.1"], sessionCache: self.sessionCache)
            : nil
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

    /// With a session cache: one connection opened and closed, so that the cache holds a session when
    /// the measured connections start (they all offer it); returns the cache's counts after it.
    func primeSessionCache(dialect: ClientDialect, group: EventLoopGroup) throws -> TLSSessionCache.Statistics? {
        guard let cache = self.sessionCache else { return nil }
        let client = try self.connect(dialect: dialect, on: group.next(), onMessage: { _ in }).wait()
        // A TLS 1.3 server's tickets come before its handshake answer; wait a little in case they did not.
        for _ in 0..<100 where !cache.hasSession(forServerName: self.target.host) {
            Thread.sleep(forTimeInterval: 0.01)
        }
        try? client.close(code: 1000).wait()
        guard cache.hasSession(forServerName: self.target.host) else {
            throw BenchError("--tls-resume: the server sent no session to resume (no ticket after a full handshake)")
        }
        return cache.statistics
    }

    /// With a session cache: its TLS handshake counts since `start` (nil: since it was made) as report rows.
    func addTLSResumption(to report: inout BenchReport, since start: TLSSessionCache.Statistics? = nil) {
        guard let now = self.sessionCache?.statistics else { return }
        let handshakes = now.handshakes - (start?.handshakes ?? 0)
        let resumed = now.resumed - (start?.resumed ?? 0)
        report.add("TLS handshakes", "tls_handshakes", Double(handshakes), format: "%.0f")
        report.add("TLS handshakes resumed", "tls_resumed", Double(resumed), format: "%.0f")
        report.add("TLS handshakes resumed (%)", "tls_resumed_pct", handshakes > 0 ? 100 * Double(resumed) / Double(handshakes) : 0)
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
