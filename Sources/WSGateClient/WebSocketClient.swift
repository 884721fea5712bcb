import NIOCore
import NIOPosix
import WSGateTLS
import WSGateWire

/// A WebSocket client for RFC 6455 (and hybi-07/08), hixie-76 and hixie-75, over ws:// or wss://.
///
/// Callback-based, so that a load generator can drive thousands of connections on a few event loops:
/// `onMessage` runs on the channel's event loop for each text or binary message, `onClose` once when
/// the connection ends. RFC 6455 frames are masked with a fresh random key each (section 5.3), in the
/// shortest length form; server frames are decoded by NIO's `WebSocketFrameDecoder` and assembled by
/// `RFC6455MessageAssembler`; pings are answered. The handshake answer is validated by the dialect's
/// own rules (accept value, MD5 token, status line, Origin and Location), not by what wsgate sends.
///
/// Hixie has no binary frames: `send(.binary(...))` on a hixie connection sends base64 text.
///
/// permessage-deflate (RFC 7692, RFC 6455 only) is offered when `configuration.compression` is set;
/// `negotiatedCompression` says what the server accepted. Then compressed messages are inflated
/// (bounded by `maxMessageSize`) and messages of `compressionMinBytes` or more are sent compressed
/// when that makes them shorter; zlib state is allocated on the first compressed message each way.
public final class WebSocketClient: Sendable {
    /// The connection's channel (TLS, if any, sits below the frame handlers).
    public let channel: Channel
    /// The dialect spoken.
    public let dialect: ClientDialect
    /// The subprotocol the server chose, if any.
    public let negotiatedSubprotocol: String?
    /// The handshake answer's headers, in the order sent.
    public let responseHeaders: [(String, String)]
    /// The permessage-deflate parameters the server accepted (RFC 7692), or `nil` when none were
    /// offered (`WebSocketClientConfiguration.compression`) or the server declined.
    public let negotiatedCompression: PerMessageDeflateParameters?

    private init(channel: Channel, dialect: ClientDialect, handshake: ClientHandshakeResult) {
        self.channel = channel
        self.dialect = dialect
        self.negotiatedSubprotocol = handshake.subprotocol
        self.responseHeaders = handshake.headers
        self.negotiatedCompression = handshake.compression
    }

    /// Connects, runs the TLS (if configured) and WebSocket handshakes, and returns the open client.
    ///
    /// The future fails with `WebSocketClientError` (refused, invalid answer, timeout), a `TLSError`,
    /// or the connect error. All of it is bounded by `configuration.handshakeTimeout`.
    /// - Parameters:
    ///   - onMessage: called on the channel's event loop for each text or binary message.
    ///   - onClose: called once, on the event loop, when the connection ends: the RFC 6455 close code and
    ///     reason (the server's, or ours when we failed the connection); `nil` for hixie and plain TCP closes.
    public static func connect(
        _ configuration: WebSocketClientConfiguration,
        on eventLoop: EventLoop,
        onMessage: @escaping @Sendable (GatewayMessage) -> Void,
        onClose: @escaping @Sendable (WebSocketCloseCode?, String?) -> Void = { _, _ in }
    ) -> EventLoopFuture<WebSocketClient> {
        let handshake = eventLoop.makePromise(of: ClientHandshakeResult.self)
        let timeout = eventLoop.scheduleTask(in: configuration.handshakeTimeout) {
            handshake.fail(WebSocketClientError.handshakeTimedOut)
        }
        handshake.futureResult.whenComplete { _ in timeout.cancel() }
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.handshakeTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let counter = configuration.wireCounter { try sync.addHandler(WireByteCountingHandler(counter: counter)) }
                    if let tls = configuration.tls {
                        try sync.addHandler(TLSHandler(
                            context: tls, role: .client(serverName: configuration.serverName ?? configuration.host)))
                    }
                    let callbacks = ClientCallbacks(onMessage: onMessage, onClose: onClose)
                    try sync.addHandler(ClientHandshakeHandler(
                        request: ClientHandshakeRequest(configuration: configuration), promise: handshake,
                        callbacks: callbacks))
                }
            }
        if let source = configuration.sourceAddress {
            do {
                bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0))
            } catch {
                handshake.fail(error)
                return eventLoop.makeFailedFuture(error)
            }
        }
        return bootstrap.connect(host: configuration.host, port: configuration.port).flatMapError { error in
            handshake.fail(error)
            return eventLoop.makeFailedFuture(error)
        }.flatMap { channel in
            handshake.futureResult.map { result in
                WebSocketClient(channel: channel, dialect: configuration.dialect, handshake: result)
            }.flatMapError { error in
                channel.close(promise: nil)
                return eventLoop.makeFailedFuture(error)
            }
        }
    }

    /// Sends a message, from any thread: one frame (masked for RFC 6455; binary as base64 text for
    /// hixie). With `flush: false` the frame waits for the next flushed send (batching, for the bench).
    ///
    /// With permessage-deflate negotiated, the frame is made on the event loop (the compressor's
    /// window runs from message to message in sending order): compressed, with RSV1, when the
    /// message has at least `compressionMinBytes` and compressing shortens it; plain otherwise.
    public func send(_ message: GatewayMessage, flush: Bool = true) {
        if self.negotiatedCompression != nil {
            self.channel.triggerUserOutboundEvent(ClientSendRequest(message: message, flush: flush), promise: nil)
            return
        }
        let frame = Self.encode(message, dialect: self.dialect, allocator: self.channel.allocator)
        if flush {
            self.channel.writeAndFlush(frame, promise: nil)
        } else {
            self.channel.write(frame, promise: nil)
        }
    }

    /// Sends a message and reports when it was written (or why not).
    public func sendWithResult(_ message: GatewayMessage) -> EventLoopFuture<Void> {
        if self.negotiatedCompression != nil {
            return self.channel.triggerUserOutboundEvent(ClientSendRequest(message: message, flush: true))
        }
        return self.channel.writeAndFlush(Self.encode(message, dialect: self.dialect, allocator: self.channel.allocator))
    }

    /// Writes `bytes` as they are, bypassing all framing (tests: malformed or hand-made frames).
    /// Refused, like any send, once a close was sent.
    public func sendRaw(_ bytes: ByteBuffer) {
        self.channel.writeAndFlush(bytes, promise: nil)
    }

    /// Flushes frames sent with `flush: false`.
    public func flush() {
        self.channel.flush()
    }

    /// Starts the closing handshake and completes when the connection is closed.
    ///
    /// RFC 6455: a masked close frame with `code`, then the server's close frame (or `closeTimeout`).
    /// hixie-76: `0xFF 0x00`, then the server's `0xFF 0x00` (or `closeTimeout`). hixie-75: a TCP close.
    @discardableResult
    public func close(code: WebSocketCloseCode = .normalClosure, reason: String? = nil) -> EventLoopFuture<Void> {
        self.channel.triggerUserOutboundEvent(ClientCloseRequest(code: code, reason: reason), promise: nil)
        return self.channel.closeFuture
    }

    /// The frame for `message` in `dialect`; RFC 6455 frames masked with a fresh key.
    public static func encode(_ message: GatewayMessage, dialect: ClientDialect, allocator: ByteBufferAllocator) -> ByteBuffer {
        switch (dialect, message) {
        case (.rfc6455, .text(let bytes)):
            return RFC6455FrameEncoder.frame(opcode: .text, payload: bytes, maskingKey: makeMaskingKey(), allocator: allocator)
        case (.rfc6455, .binary(let bytes)):
            return RFC6455FrameEncoder.frame(opcode: .binary, payload: bytes, maskingKey: makeMaskingKey(), allocator: allocator)
        case (.hixie75, .text(let bytes)), (.hixie76, .text(let bytes)):
            return HixieFrameEncoder.textFrame(bytes.readableBytesView)
        case (.hixie75, .binary(let bytes)), (.hixie76, .binary(let bytes)):
            return HixieFrameEncoder.textFrame(Base64.encode(bytes))
        }
    }
}
