import NIOCore
import NIOWebSocket
import WSGateWire

/// The backend end of a WebSocket upstream, after the handshake: RFC 6455 as a client. Server
/// frames (cut by `RFC6455FrameReader`) become messages through `RFC6455MessageAssembler` and go
/// to the relay; the relay's messages leave as masked frames (compressed, when the backend accepted
/// permessage-deflate, through `ClientMessageCompression`);
/// pings are answered on this hop; the closing handshake runs through `ClosingHandshake`.
///
/// Lives in the backend's channel, on the client's event loop, so it and the relay touch each
/// other from one thread.
final class UpstreamFrameHandler: ChannelInboundHandler, RFC6455FrameReading {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var closing = ClosingHandshake(hasCloseFrame: true)
    private var reader: RFC6455FrameReader
    private var assembler: RFC6455MessageAssembler
    private var closeTimer: Scheduled<Void>?
    private let closeGracePeriod: TimeAmount
    private var context: ChannelHandlerContext?
    private var needsFlush = false
    /// Set by the relay; cleared when the relay is gone.
    weak var relay: WebSocketRelayHandler?
    private var maskingKeys = MaskingKeySource()
    private let compression: ClientMessageCompression?

    /// The zlib memory this hop holds now (0 until it first compresses or inflates).
    var zlibMemoryBytes: Int { self.compression?.zlibMemoryBytes ?? 0 }

    init(maxMessageSize: Int, compression: ClientMessageCompression? = nil, closeGracePeriod: TimeAmount = .seconds(5)) {
        let assembler = RFC6455MessageAssembler(maxMessageSize: maxMessageSize, requiresMasking: false, acceptsCompressed: compression != nil)
        self.assembler = assembler
        self.reader = RFC6455FrameReader(for: assembler)
        self.compression = compression
        self.closeGracePeriod = closeGracePeriod
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.closeTimer?.cancel()
        self.reader.discard()
        self.compression?.release()
        self.context = nil
    }

    /// What the backend sent right after its 101, already out of TLS (the handshake handler read
    /// it): read here directly, not fired from the head of the pipeline, where a `wss://`
    /// backend's `TLSHandler` would take it for ciphertext.
    func readLeftover(_ bytes: ByteBuffer) {
        guard let context = self.context, bytes.readableBytes > 0 else { return }
        self.readFrames(bytes, context: context)
        self.channelReadComplete(context: context)
    }

    // MARK: From the backend

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.readFrames(Self.unwrapInboundIn(data), context: context)
    }

    var isClosed: Bool { self.closing.state == .closed }
    func appendRead(_ bytes: ByteBuffer) { self.reader.append(bytes) }
    func nextFrame() throws(NIOWebSocketError) -> RFC6455Frame? { try self.reader.next() }
    func discardRead() { self.reader.discard() }

    func framingFailed(_ close: WebSocketClose, context: ChannelHandlerContext) {
        self.fail(close, context: context)
    }

    func received(_ frame: RFC6455Frame, context: ChannelHandlerContext) {
        guard self.closing.delivers else {
            // Only the answer to our close matters now.
            if self.closing.state == .closeSent, frame.opcode == 0x8 {
                self.perform(self.closing.peerClosed(WebSocketClose(code: nil, reason: nil)), context: context)
            }
            return
        }
        if frame.maskKey != nil {
            return self.fail(WebSocketClose(code: .protocolError, reason: "server frames must not be masked"), context: context)
        }
        switch self.assembler.receive(frame) {
        case .needMore, .pong:
            break
        case .message(let message):
            self.relay?.backendMessage(message)
        case .ping(let payload):
            let pong = RFC6455FrameEncoder.frame(opcode: .pong, payload: payload, maskingKey: self.maskingKeys.next(), allocator: context.channel.allocator)
            context.write(Self.wrapOutboundOut(pong), promise: nil)
            self.needsFlush = true
        case .peerClosed(let close):
            // The backend's code and reason go to the client as they are.
            self.relay?.backendClosed(close)
            self.perform(self.closing.peerClosed(close), context: context)
        case .fail(let close):
            self.fail(close, context: context)
        case .compressedMessage(let isText, let payload):
            // Produced only when the backend accepted permessage-deflate (otherwise the assembler refuses RSV1).
            guard let compression = self.compression else {
                return self.fail(WebSocketClose(code: .protocolError, reason: "compressed message"), context: context)
            }
            switch compression.inflate(payload, isText: isText, maxMessageSize: self.assembler.maxMessageSize, allocator: context.channel.allocator) {
            case .message(let message): self.relay?.backendMessage(message)
            case .fail(let close): self.fail(close, context: context)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flushIfNeeded()
        self.relay?.backendReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.relay?.backendWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.closeTimer?.cancel()
        if self.closing.connectionLost() != nil {
            self.relay?.backendClosed(WebSocketClose(code: .internalError, reason: "upstream connection lost"))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? NIOWebSocketError {
            return self.fail(WebSocketClose(code: WebSocketCloseCode(error), reason: "\(error)"), context: context)
        }
        context.close(promise: nil)
    }

    /// The backend broke a rule: our close to it, and the client is closed with 1011.
    private func fail(_ close: WebSocketClose, context: ChannelHandlerContext) {
        if self.closing.state == .open {
            self.relay?.backendClosed(WebSocketClose(code: .internalError, reason: "upstream: \(close.reason ?? "protocol error")"))
        }
        self.perform(self.closing.protocolFailed(close), context: context)
    }

    // MARK: From the relay

    /// A client's message, as one masked frame.
    func send(_ message: GatewayMessage) {
        guard let context = self.context, self.closing.canSend else { return }
        let opcode: RFC6455FrameEncoder.Opcode = message.isText ? .text : .binary
        let key = self.maskingKeys.next()
        let allocator = context.channel.allocator
        let frame = self.compression?.compressedFrame(opcode: opcode, payload: message.payload, maskingKey: key, allocator: allocator)
            ?? RFC6455FrameEncoder.frame(opcode: opcode, payload: message.payload, maskingKey: key, allocator: allocator)
        context.write(Self.wrapOutboundOut(frame), promise: nil)
        self.needsFlush = true
    }

    func flushIfNeeded() {
        guard self.needsFlush, let context = self.context else { return }
        self.needsFlush = false
        context.flush()
    }

    /// The client's end, passed on: its code and reason (none: a close frame without a code).
    func close(_ close: WebSocketClose) {
        guard let context = self.context else { return }
        self.flushIfNeeded()
        self.perform(self.closing.closeRequested(close), context: context)
    }

    /// Does what the closing handshake decided (the end was already reported to the relay).
    private func perform(_ action: ClosingHandshake.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .sendClose(let close, let thenDisconnect, _):
            let frame = RFC6455FrameEncoder.closeFrame(close, maskingKey: self.maskingKeys.next(), allocator: context.channel.allocator)
            let written = context.writeAndFlush(Self.wrapOutboundOut(frame))
            if thenDisconnect {
                written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            } else {
                self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.closeGracePeriod) {
                    self.perform(self.closing.graceExpired(), context: context)
                }
            }
        case .disconnect:
            self.closeTimer?.cancel()
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension UpstreamFrameHandler: Sendable {}

/// Masking keys from OpenSSL's CSPRNG (RFC 6455 section 5.3: a strong source), drawn 32 at a time
/// instead of one `getrandom` system call per frame (that was 1% of a proxied 64-byte message's CPU).
struct MaskingKeySource {
    private var keys = [UInt32](repeating: 0, count: 32)
    private var used = 32

    mutating func next() -> (UInt8, UInt8, UInt8, UInt8) {
        if self.used == self.keys.count {
            if !self.keys.withUnsafeMutableBytes({ StrongRandom.fill($0) }) {
                var generator = SystemRandomNumberGenerator()
                for index in self.keys.indices { self.keys[index] = generator.next() }
            }
            self.used = 0
        }
        let bits = self.keys[self.used]
        self.used += 1
        return (UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24))
    }
}
