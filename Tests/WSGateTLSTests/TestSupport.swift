import NIOCore
import NIOEmbedded
import Testing
@testable import WSGateTLS

/// The `certs-dev/` files, found from this source file's path.
enum TestCertificates {
    static let directory: String = {
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)  // TestSupport.swift, WSGateTLSTests, Tests
        return components.joined(separator: "/") + "/certs-dev"
    }()

    static func path(_ name: String) -> String { "\(directory)/\(name)" }

    static func serverContext(sni: Bool = true) throws -> TLSContext {
        try TLSContext(
            certificatePath: path("server.crt"), keyPath: path("server.key"),
            sni: sni ? [.init(name: "other.test", certificatePath: path("other.crt"), keyPath: path("other.key"))] : [])
    }

    static func clientContext(verify: Bool = true, alpn: [String] = ["http/1.1"]) throws -> TLSContext {
        try TLSContext.client(trustedCAPath: verify ? path("ca.crt") : nil, verifyPeer: verify, alpn: alpn)
    }
}

/// The last handler of a test pipeline: keeps everything that reaches it.
final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    var received = ByteBuffer()
    var handshakes: [TLSHandshakeCompletedEvent] = []
    var errors: [Error] = []
    var isInactive = false

    var receivedString: String { String(buffer: self.received) }
    var tlsErrors: [TLSError] { self.errors.compactMap { $0 as? TLSError } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        self.received.writeBuffer(&buffer)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSHandshakeCompletedEvent { self.handshakes.append(event) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.errors.append(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isInactive = true
    }
}

/// A client `TLSHandler` on one `EmbeddedChannel` against a server `TLSHandler` on another;
/// `interact()` carries each one's ciphertext to the other until both are quiet.
final class BackToBackPair {
    let client = EmbeddedChannel()
    let server = EmbeddedChannel()
    let clientHandler: TLSHandler
    let serverHandler: TLSHandler
    let clientRecorder = RecordingHandler()
    let serverRecorder = RecordingHandler()
    /// How many ciphertext buffers the client and the server sent.
    var clientOutboundBuffers = 0
    var serverOutboundBuffers = 0

    init(client clientContext: TLSContext, server serverContext: TLSContext, serverName: String? = "localhost") throws {
        self.clientHandler = TLSHandler(context: clientContext, role: .client(serverName: serverName))
        self.serverHandler = TLSHandler(context: serverContext, role: .server)
        try self.client.pipeline.syncOperations.addHandlers([self.clientHandler, self.clientRecorder])
        try self.server.pipeline.syncOperations.addHandlers([self.serverHandler, self.serverRecorder])
    }

    /// Connects both channels (the client sends its ClientHello).
    func activate() throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 4433)
        try self.server.connect(to: address).wait()
        try self.client.connect(to: address).wait()
    }

    /// Shuttles ciphertext both ways until neither side has anything to send. `chunkSize` splits each
    /// buffer into pieces of that many bytes (1: byte by byte).
    func interact(chunkSize: Int? = nil, maximumRounds: Int = 10_000) throws {
        for _ in 0..<maximumRounds {
            let fromClient = try Self.move(from: self.client, to: self.server, chunkSize: chunkSize)
            let fromServer = try Self.move(from: self.server, to: self.client, chunkSize: chunkSize)
            self.clientOutboundBuffers += fromClient
            self.serverOutboundBuffers += fromServer
            if fromClient == 0 && fromServer == 0 { return }
        }
        Issue.record("the pair was still talking after \(maximumRounds) rounds")
    }

    func handshake(chunkSize: Int? = nil) throws {
        try self.activate()
        try self.interact(chunkSize: chunkSize)
    }

    /// Closes what is still open; a test's last step.
    func tearDown() {
        _ = try? self.client.finish()
        _ = try? self.server.finish()
    }

    private static func move(from source: EmbeddedChannel, to target: EmbeddedChannel, chunkSize: Int?) throws -> Int {
        var count = 0
        while var buffer = try source.readOutbound(as: ByteBuffer.self) {
            count += 1
            guard target.isActive else { continue }
            if let chunkSize {
                while buffer.readableBytes > 0, let piece = buffer.readSlice(length: min(chunkSize, buffer.readableBytes)) {
                    try target.writeInbound(piece)
                }
            } else {
                try target.writeInbound(buffer)
            }
        }
        return count
    }
}
