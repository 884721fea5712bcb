import NIOCore

/// Matches Redis replies to pipelined commands: a FIFO queue of promises, one per command written.
///
/// Sits after `ByteToMessageHandler(RESPValueDecoder())`. Writing a `RedisRequest` encodes its commands
/// into one buffer and queues their promises; each reply completes the oldest waiting promise. Replies
/// that answer no command go to `Configuration.onPush` instead: RESP3 push messages (`>`) and, on a
/// RESP2 connection in subscription mode (subscriptions confirmed, or a subscription command the oldest
/// waiting), the `message` / `pmessage` / `smessage` arrays and the (un)subscribe confirmations. A
/// `SUBSCRIBE a b` (and the other subscription commands) completes its promise with its last
/// confirmation (one per channel named; the first, for an `UNSUBSCRIBE` of all channels); every
/// confirmation also goes to `onPush`.
///
/// When the channel closes, every waiting promise fails with `RedisClientError.connectionClosed`; a
/// decoding error or an I/O error fails them with that error and closes the channel. A command without
/// a reply within `commandTimeout` fails with `RedisClientError.commandTimedOut` and closes the
/// connection, since the replies after it could no longer be matched. Writes after the close fail at once.
public final class RedisCommandHandler: ChannelDuplexHandler {
    /// Decoded values, from `RESPValueDecoder`.
    public typealias InboundIn = RESPValue
    /// Commands and their promises.
    public typealias OutboundIn = RedisRequest
    /// The encoded commands.
    public typealias OutboundOut = ByteBuffer

    /// The handler's timeout and where out-of-band messages go.
    public struct Configuration: Sendable {
        /// How long a command may wait for its reply; `nil` for no limit (blocking commands like `BLPOP`).
        public var commandTimeout: TimeAmount?
        /// Called on the event loop with each push message or pub/sub array (the whole value).
        public var onPush: (@Sendable (RESPValue) -> Void)?
        /// True when the connection speaks RESP3 from its first command on (`HELLO 3`): pub/sub messages
        /// are then only ever `>` pushes, and arrays are never taken for them. When false, the handler
        /// still switches to that once it sees a push.
        public var isRESP3: Bool

        /// A configuration; by default no timeout and pushes dropped.
        public init(commandTimeout: TimeAmount? = nil, isRESP3: Bool = false, onPush: (@Sendable (RESPValue) -> Void)? = nil) {
            self.commandTimeout = commandTimeout
            self.isRESP3 = isRESP3
            self.onPush = onPush
        }
    }

    private enum Expectation {
        /// One reply.
        case reply
        /// Subscription confirmations of this kind (`subscribe`, …), this many more.
        case confirmations(kind: String, remaining: Int)
    }

    private struct Pending {
        let id: UInt64
        let promise: EventLoopPromise<RESPValue>
        var expectation: Expectation
        let timeout: Scheduled<Void>?
    }

    private let configuration: Configuration
    private var pending = CircularBuffer<Pending>()
    private var nextID: UInt64 = 0
    private var context: ChannelHandlerContext?
    private var isClosed = false
    private var seenPush: Bool
    /// Channels and patterns subscribed, as the last confirmation counted them (RESP2 subscription mode).
    private var subscriptionCount = 0
    /// Shard channels subscribed (`SSUBSCRIBE`), counted apart by Redis.
    private var shardSubscriptionCount = 0

    /// A handler with the given timeout and push callback.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.seenPush = configuration.isRESP3
    }

    /// How many commands wait for their reply (read it on the event loop).
    public var pendingCommandCount: Int { pending.count }

    /// True while, by the server's confirmations, the connection has subscriptions, or while the oldest
    /// waiting command is a subscription command (its confirmations are next).
    public var isInSubscriptionMode: Bool {
        if subscriptionCount > 0 || shardSubscriptionCount > 0 { return true }
        if let head = pending.first, case .confirmations = head.expectation { return true }
        return false
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        close(failing: RedisClientError.connectionClosed)
        self.context = nil
    }

    public func channelInactive(context: ChannelHandlerContext) {
        close(failing: RedisClientError.connectionClosed)
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        close(failing: error)
        context.close(promise: nil)
    }

    // MARK: - Writes

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard !isClosed else {
            for replyPromise in request.promises { replyPromise.fail(RedisClientError.connectionClosed) }
            promise?.fail(RedisClientError.connectionClosed)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 0)
        RESPEncoder.encode(commands: request.commands, into: &buffer)
        for (command, replyPromise) in zip(request.commands, request.promises) {
            let id = nextID
            nextID &+= 1
            var timeout: Scheduled<Void>?
            if let limit = configuration.commandTimeout {
                timeout = context.eventLoop.assumeIsolated().scheduleTask(in: limit) { [weak self] in
                    self?.timedOut(id: id, after: limit)
                }
            }
            pending.append(Pending(id: id, promise: replyPromise, expectation: Self.expectation(of: command), timeout: timeout))
        }
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    private static let subscriptionCommands: Set<String> = [
        "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe",
    ]

    private static func expectation(of command: [RESPArgument]) -> Expectation {
        guard let name = command.first, (9...12).contains(name.byteCount) else { return .reply }
        let kind = name.string.lowercased()
        guard subscriptionCommands.contains(kind) else { return .reply }
        return .confirmations(kind: kind, remaining: max(1, command.count - 1))
    }

    // MARK: - Reads

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        switch value.withoutAttributes {
        case .push(let elements):
            seenPush = true
            outOfBand(value, elements: elements)
        case .array(let elements?) where !seenPush && isInSubscriptionMode && Self.pubSubKind(elements) != nil:
            outOfBand(value, elements: elements)
        default:
            reply(value, context: context)
        }
    }

    private static let pubSubKinds: Set<String> = subscriptionCommands.union(["message", "pmessage", "smessage"])

    /// The kind of a pub/sub array (`message`, `subscribe`, …), or `nil` if it is no pub/sub array.
    private static func pubSubKind(_ elements: [RESPValue]) -> String? {
        guard elements.count >= 3, let kind = elements[0].string?.lowercased(), pubSubKinds.contains(kind) else {
            return nil
        }
        return kind
    }

    private func reply(_ value: RESPValue, context: ChannelHandlerContext) {
        guard let head = pending.popFirst() else {
            // The replies can no longer be matched with commands.
            close(failing: RedisClientError.unexpectedReply(value))
            context.close(promise: nil)
            return
        }
        head.timeout?.cancel()
        head.promise.succeed(value)
    }

    /// A push or RESP2 pub/sub array: counts subscription confirmations, completes the subscription
    /// command they answer, and hands the value to `onPush`.
    private func outOfBand(_ value: RESPValue, elements: [RESPValue]) {
        configuration.onPush?(value)
        guard let kind = Self.pubSubKind(elements), Self.subscriptionCommands.contains(kind) else { return }
        if let count = elements[2].int {
            if kind == "ssubscribe" || kind == "sunsubscribe" { shardSubscriptionCount = count } else { subscriptionCount = count }
        }
        guard let head = pending.first, case .confirmations(kind, let remaining) = head.expectation else { return }
        if remaining > 1 {
            pending[pending.startIndex].expectation = .confirmations(kind: kind, remaining: remaining - 1)
            return
        }
        pending.removeFirst()
        head.timeout?.cancel()
        head.promise.succeed(value)
    }

    // MARK: - Failures

    private func timedOut(id: UInt64, after limit: TimeAmount) {
        guard let index = pending.firstIndex(where: { $0.id == id }) else { return }
        let entry = pending.remove(at: index)
        isClosed = true
        entry.promise.fail(RedisClientError.commandTimedOut(limit))
        close(failing: RedisClientError.connectionClosed)
        context?.close(promise: nil)
    }

    /// Refuses further writes and fails every waiting promise with `error`.
    private func close(failing error: Error) {
        isClosed = true
        while let entry = pending.popFirst() {
            entry.timeout?.cancel()
            entry.promise.fail(error)
        }
    }
}
