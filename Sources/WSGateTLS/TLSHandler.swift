import NIOCore

/// Terminates (server) or originates (client) TLS on a channel: ciphertext below, plaintext above.
///
/// The handshake starts as soon as the channel is active. Writes issued before it completes are held
/// and sent after. Small writes are gathered and encrypted together at the next flush (one TLS record
/// for many small messages instead of one each); larger ones are encrypted at once. Each `flush` sends
/// everything OpenSSL produced as one buffer. When the handshake completes, `TLSHandshakeCompletedEvent`
/// is fired inbound; when it fails, `TLSError.handshakeFailed` (with OpenSSL's reasons) is fired and the
/// channel closed. `close` sends close_notify first; a close_notify from the peer is answered and the
/// channel closed.
public final class TLSHandler: ChannelDuplexHandler, RemovableChannelHandler {
    /// Ciphertext from the network.
    public typealias InboundIn = ByteBuffer
    /// Plaintext for the next handler.
    public typealias InboundOut = ByteBuffer
    /// Plaintext to encrypt.
    public typealias OutboundIn = ByteBuffer
    /// Ciphertext for the network.
    public typealias OutboundOut = ByteBuffer

    /// Which side of the handshake this handler plays.
    public enum Role: Sendable, Equatable {
        /// Accepts connections; needs a server `TLSContext`.
        case server
        /// Connects; needs a client context. `serverName` is sent by SNI (unless it is an IP address) and,
        /// if the context verifies peers, must be in the server's certificate.
        case client(serverName: String?)
    }

    private enum State {
        /// Added, channel not active yet.
        case idle
        /// Handshake in progress; application writes are held.
        case handshaking
        /// Application data flows both ways.
        case active
        /// Our close_notify is queued or sent; the channel is about to close.
        case closing
        /// Closed, failed, or removed: nothing more goes through OpenSSL.
        case closed
    }

    private let tlsContext: TLSContext
    private let role: Role
    private var state: State = .idle
    private var connection: TLSConnection?
    /// Writes issued before the handshake completed, in order.
    private var heldWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var flushRequestedWhileHandshaking = false
    /// Promises of writes encrypted but not yet flushed; completed with the next ciphertext write.
    private var unflushedPromises: [EventLoopPromise<Void>] = []
    /// Small writes not encrypted yet (at most one record's worth), and their promises.
    private var gathered = GatheredWrites.none
    private var gatheredPromises: [EventLoopPromise<Void>] = []

    /// Writes smaller than this are gathered until the flush (or until a record is full).
    static let gatherLimit = 2 * 1024

    /// A handler for `role` using `context` (server or client, matching the role).
    public init(context: TLSContext, role: Role) {
        self.tlsContext = context
        self.role = role
    }

    /// The peer certificate's subject (`/O=…/CN=…`), once the handshake has completed. For tests and logs.
    var peerCertificateSubject: String? { self.connection?.peerCertificateSubject }

    // MARK: Handler lifecycle

    /// Prepares the OpenSSL connection and starts the handshake if the channel is already active.
    public func handlerAdded(context: ChannelHandlerContext) {
        do {
            self.connection = try TLSConnection(context: self.tlsContext, role: self.role)
        } catch {
            self.state = .closed
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        if context.channel.isActive {
            self.startHandshake(context: context)
        }
    }

    /// Fails whatever was never sent.
    public func handlerRemoved(context: ChannelHandlerContext) {
        self.state = .closed
        self.failPendingWrites(ChannelError.ioOnClosedChannel)
        self.connection = nil
    }

    // MARK: Inbound

    /// Starts the handshake, then passes the event on.
    public func channelActive(context: ChannelHandlerContext) {
        self.startHandshake(context: context)
        context.fireChannelActive()
    }

    /// A connection that ends mid-handshake is a failed handshake; otherwise the event passes on.
    public func channelInactive(context: ChannelHandlerContext) {
        let previous = self.state
        self.state = .closed
        self.failPendingWrites(ChannelError.ioOnClosedChannel)
        switch previous {
        case .handshaking:
            context.fireErrorCaught(TLSError.handshakeFailed(
                reasons: ["the connection closed before the TLS handshake completed"]))
        case .idle, .active, .closing, .closed:
            break
        }
        context.fireChannelInactive()
    }

    /// Feeds ciphertext to OpenSSL, advances the handshake, and fires every plaintext byte available.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let ciphertext = Self.unwrapInboundIn(data)
        switch self.state {
        case .idle:
            self.startHandshake(context: context)
            guard case .handshaking = self.state else { return }
        case .handshaking, .active, .closing:
            break
        case .closed:
            return
        }
        self.connection?.receiveFromNetwork(ciphertext)
        self.advance(context: context)
    }

    /// Passes the event on; while handshaking, asks for more bytes even if auto-read is off.
    public func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        if case .handshaking = self.state {
            context.read()
        }
    }

    // MARK: Outbound

    /// Encrypts `data` (or holds it until the handshake completes).
    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let plaintext = Self.unwrapOutboundIn(data)
        switch self.state {
        case .idle, .handshaking:
            self.heldWrites.append((plaintext, promise))
        case .active:
            self.enqueue(plaintext, promise: promise, context: context)
        case .closing, .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    /// Sends everything OpenSSL produced since the last flush, as one buffer.
    public func flush(context: ChannelHandlerContext) {
        switch self.state {
        case .idle, .handshaking:
            self.flushRequestedWhileHandshaking = true
        case .active, .closing:
            self.encryptGathered(context: context)
            self.sendCiphertext(context: context)
        case .closed:
            context.flush()
        }
    }

    /// Sends close_notify (after anything already written), then closes.
    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch (self.state, mode) {
        case (_, .input):
            context.close(mode: mode, promise: promise)
        case (.active, _):
            self.state = .closing
            self.sendCloseNotifyThenClose(context: context, mode: mode, promise: promise)
        case (.closing, _):
            context.channel.closeFuture.cascade(to: promise)
        case (.idle, _), (.handshaking, _), (.closed, _):
            self.state = .closed
            self.failPendingWrites(ChannelError.ioOnClosedChannel)
            context.close(mode: mode, promise: promise)
        }
    }

    // MARK: Private

    private func startHandshake(context: ChannelHandlerContext) {
        guard case .idle = self.state, self.connection != nil else { return }
        self.state = .handshaking
        self.advance(context: context)
    }

    /// Runs the handshake (if still in it), then reads all plaintext, then sends what OpenSSL produced.
    private func advance(context: ChannelHandlerContext) {
        guard let connection = self.connection else { return }
        if case .handshaking = self.state {
            switch connection.doHandshake() {
            case .incomplete:
                self.sendCiphertext(context: context)
                return
            case .failed(let error):
                self.handshakeFailed(error, context: context)
                return
            case .complete:
                self.handshakeCompleted(connection: connection, context: context)
            }
        }
        readLoop: while connection.hasUnreadInput {
            switch self.state {
            case .active, .closing: break
            case .idle, .handshaking, .closed: break readLoop
            }
            switch connection.readPlaintext(allocator: context.channel.allocator) {
            case .incomplete:
                break readLoop
            case .complete(.plaintext(let plaintext)):
                context.fireChannelRead(Self.wrapInboundOut(plaintext))
            case .complete(.closeNotify):
                if case .active = self.state {
                    self.state = .closing
                    self.sendCloseNotifyThenClose(context: context, mode: .all, promise: nil)
                }
                return
            case .failed(let error):
                self.state = .closed
                self.sendCiphertext(context: context)  // an alert, if OpenSSL made one
                context.fireErrorCaught(error)
                context.close(promise: nil)
                return
            }
        }
        if connection.hasCiphertextToSend {
            self.sendCiphertext(context: context)
        }
    }

    private func handshakeCompleted(connection: TLSConnection, context: ChannelHandlerContext) {
        self.state = .active
        context.fireUserInboundEventTriggered(TLSHandshakeCompletedEvent(
            negotiatedALPN: connection.negotiatedALPN, serverName: connection.serverName,
            protocolVersion: connection.protocolVersion, sessionResumed: connection.sessionResumed))
        let held = self.heldWrites
        self.heldWrites = []
        for (plaintext, promise) in held {
            guard case .active = self.state else {
                promise?.fail(ChannelError.ioOnClosedChannel)
                continue
            }
            self.enqueue(plaintext, promise: promise, context: context)
        }
        if self.flushRequestedWhileHandshaking {
            self.flushRequestedWhileHandshaking = false
            self.encryptGathered(context: context)
            self.sendCiphertext(context: context)
        }
    }

    private func handshakeFailed(_ error: TLSError, context: ChannelHandlerContext) {
        self.state = .closed
        self.failPendingWrites(ChannelError.ioOnClosedChannel)
        let alertSent = self.sendCiphertextThen(context: context)  // the alert telling the peer why
        context.fireErrorCaught(error)
        alertSent.assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// Gathers a small write, or encrypts a larger one at once (after what was gathered, to keep the order).
    private func enqueue(_ plaintext: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        guard plaintext.readableBytes < Self.gatherLimit else {
            self.encryptGathered(context: context)
            self.encrypt(plaintext, promise: promise, context: context)
            return
        }
        if self.gathered.byteCount + plaintext.readableBytes > TLSConnection.recordPlaintextLimit {
            self.encryptGathered(context: context)
        }
        self.gathered.append(plaintext, allocator: context.channel.allocator)
        if let promise { self.gatheredPromises.append(promise) }
    }

    /// Encrypts the gathered writes as one record; their promises then wait for the ciphertext write.
    private func encryptGathered(context: ChannelHandlerContext) {
        guard let gathered = self.gathered.take() else { return }
        let promises = self.gatheredPromises
        self.gatheredPromises = []
        self.unflushedPromises.append(contentsOf: promises)
        self.encrypt(gathered, promise: nil, context: context)
    }

    private func encrypt(_ plaintext: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        guard plaintext.readableBytes > 0 else {
            if let promise { self.unflushedPromises.append(promise) }
            return
        }
        switch self.connection?.writePlaintext(plaintext) ?? .failed(.protocolFailure(reasons: ["no connection"])) {
        case .complete:
            if let promise { self.unflushedPromises.append(promise) }
        case .incomplete:
            fatalError("Internal inconsistency: writePlaintext never returns .incomplete")
        case .failed(let error):
            promise?.fail(error)
            self.state = .closed
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }

    private func sendCloseNotifyThenClose(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        self.encryptGathered(context: context)  // what was written before the close goes before close_notify
        _ = self.connection?.shutdown()  // a failure here only costs the close_notify
        self.sendCiphertextThen(context: context).assumeIsolated().whenComplete { _ in
            context.close(mode: mode, promise: promise)
        }
    }

    /// Writes and flushes all ciphertext OpenSSL produced, completing the unflushed writes' promises with it.
    /// No promise is made when nobody waits (the common case: one small message after another).
    private func sendCiphertext(context: ChannelHandlerContext) {
        let promises = self.unflushedPromises
        guard let ciphertext = self.connection?.takeCiphertext() else {
            if !promises.isEmpty {
                self.unflushedPromises = []
                promises.forEach { $0.succeed(()) }
            }
            return
        }
        switch promises.count {
        case 0:
            context.writeAndFlush(Self.wrapOutboundOut(ciphertext), promise: nil)
        case 1:
            self.unflushedPromises = []
            context.writeAndFlush(Self.wrapOutboundOut(ciphertext), promise: promises[0])
        default:
            self.unflushedPromises = []
            let written = context.eventLoop.makePromise(of: Void.self)
            for promise in promises {
                written.futureResult.cascade(to: promise)
            }
            context.writeAndFlush(Self.wrapOutboundOut(ciphertext), promise: written)
        }
    }

    /// `sendCiphertext`, and a future for when that ciphertext (an alert, close_notify) has been written.
    private func sendCiphertextThen(context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        let written = context.eventLoop.makePromise(of: Void.self)
        self.unflushedPromises.append(written)
        self.sendCiphertext(context: context)
        return written.futureResult
    }

    private func failPendingWrites(_ error: Error) {
        let held = self.heldWrites
        let unflushed = self.unflushedPromises + self.gatheredPromises
        self.heldWrites = []
        self.unflushedPromises = []
        self.gathered = .none
        self.gatheredPromises = []
        held.forEach { $0.1?.fail(error) }
        unflushed.forEach { $0.fail(error) }
    }
}

@available(*, unavailable)
extension TLSHandler: Sendable {}
