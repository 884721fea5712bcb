import NIOCore
import NIOPosix

/// One TCP connection to a Redis server, with pipelined commands.
///
/// `connect` opens the connection and runs the handshake the options ask for (`HELLO 3`, `AUTH`,
/// `CLIENT SETNAME`, `SELECT`, pipelined in one round trip). Then `send` writes a command and its future
/// gets the reply, failing with a `RESPError` when Redis answers an error; commands sent without waiting
/// are pipelined, and their replies come back in order. Every method may be called from any thread; the
/// futures complete on the connection's event loop.
///
/// The connection does not reconnect: when it closes (`closeFuture`), its waiting commands fail with
/// `RedisClientError.connectionClosed` and a new connection is needed (`ReconnectBackoff` says when).
public final class RedisConnection: Sendable {
    /// How to connect, authenticate and bound the connection.
    public struct Options: Sendable {
        /// The user for `AUTH` (Redis 6 ACLs); `nil` with a password means the `default` user.
        public var username: String?
        /// The password for `AUTH`; `nil` for no authentication.
        public var password: String?
        /// The database to `SELECT`; `nil` keeps the server's default (0).
        public var database: Int?
        /// Whether to switch to RESP3 with `HELLO 3` (Redis 6 and later) before any other command.
        public var usesRESP3: Bool
        /// A name to give the connection (`CLIENT SETNAME`), seen in `CLIENT LIST`.
        public var clientName: String?
        /// How long a command may wait for its reply; `nil` for no limit. Blocking commands (`BLPOP`,
        /// `XREAD BLOCK`) need a connection with a limit above their own timeout, or none.
        public var commandTimeout: TimeAmount?
        /// How long the TCP connection and the handshake may take together.
        public var connectTimeout: TimeAmount
        /// The bounds of the reply parser.
        public var parser: RESPParser.Configuration
        /// Called on the event loop with each push message (RESP3 `>`) or RESP2 pub/sub array.
        public var onPush: (@Sendable (RESPValue) -> Void)?

        /// Options; by default RESP2, no authentication, database 0, 10 s timeouts.
        public init(
            username: String? = nil,
            password: String? = nil,
            database: Int? = nil,
            usesRESP3: Bool = false,
            clientName: String? = nil,
            commandTimeout: TimeAmount? = .seconds(10),
            connectTimeout: TimeAmount = .seconds(10),
            parser: RESPParser.Configuration = RESPParser.Configuration(),
            onPush: (@Sendable (RESPValue) -> Void)? = nil
        ) {
            self.username = username
            self.password = password
            self.database = database
            self.usesRESP3 = usesRESP3
            self.clientName = clientName
            self.commandTimeout = commandTimeout
            self.connectTimeout = connectTimeout
            self.parser = parser
            self.onPush = onPush
        }

        /// The default options with the user, password and database of `url`.
        public init(url: RedisURL) {
            self.init(username: url.username, password: url.password, database: url.database == 0 ? nil : url.database)
        }
    }

    /// The connection's channel.
    public let channel: Channel
    /// The server's answer to `HELLO 3` (a map: server, version, proto, id, mode, role, modules), if sent.
    public let helloReply: RESPValue?

    /// A connection over a channel whose pipeline ends with the handlers of `addHandlers(to:options:)`
    /// and whose handshake, if any, is done (for channels made by another bootstrap, e.g. with TLS).
    public init(channel: Channel, helloReply: RESPValue? = nil) {
        self.channel = channel
        self.helloReply = helloReply
    }

    /// The connection's event loop: where its futures complete.
    public var eventLoop: EventLoop { channel.eventLoop }

    /// Completes when the connection has closed.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// True while the TCP connection is open.
    public var isConnected: Bool { channel.isActive }

    // MARK: - Connecting

    /// Connects to `host:port` and runs the handshake of `options`.
    ///
    /// Fails with the connect error, `RedisClientError.connectTimedOut`, or the `RESPError` of a refused
    /// handshake command (`WRONGPASS`, `NOAUTH`, an invalid database); the channel is then closed.
    public static func connect(
        host: String,
        port: Int = RedisURL.defaultPort,
        eventLoop: EventLoop,
        options: Options = Options()
    ) -> EventLoopFuture<RedisConnection> {
        let result = eventLoop.makePromise(of: RedisConnection.self)
        let limit = options.connectTimeout
        let deadline = eventLoop.scheduleTask(in: limit) {
            result.fail(RedisClientError.connectTimedOut(limit))
        }
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(limit)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try addHandlers(to: channel, options: options) }
            }
            .connect(host: host, port: port)
        connected.flatMap { channel in
            handshake(on: channel, options: options).map { RedisConnection(channel: channel, helloReply: $0) }
        }.cascade(to: result)
        result.futureResult.whenComplete { outcome in
            deadline.cancel()
            if case .failure = outcome { connected.whenSuccess { $0.close(promise: nil) } }
        }
        return result.futureResult
    }

    /// Connects to the server of `url` with its user, password and database (they replace those of
    /// `options`). A `rediss://` URL fails with `RedisClientError.tlsUnsupported`.
    public static func connect(to url: RedisURL, eventLoop: EventLoop, options: Options = Options()) -> EventLoopFuture<RedisConnection> {
        guard !url.usesTLS else { return eventLoop.makeFailedFuture(RedisClientError.tlsUnsupported) }
        var options = options
        options.username = url.username
        options.password = url.password
        options.database = url.database == 0 ? nil : url.database
        return connect(host: url.host, port: url.port, eventLoop: eventLoop, options: options)
    }

    /// Adds the RESP decoder and the command handler to `channel`'s pipeline (call on its event loop,
    /// e.g. in a channel initializer).
    public static func addHandlers(to channel: Channel, options: Options) throws {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(ByteToMessageHandler(RESPValueDecoder(configuration: options.parser)))
        try sync.addHandler(
            RedisCommandHandler(
                configuration: .init(commandTimeout: options.commandTimeout, isRESP3: options.usesRESP3, onPush: options.onPush)
            )
        )
    }

    /// `HELLO 3` (with `AUTH` and `SETNAME`), or `AUTH` and `CLIENT SETNAME`; then `SELECT`: one pipeline.
    /// Succeeds with the `HELLO` reply, if sent.
    static func handshake(on channel: Channel, options: Options) -> EventLoopFuture<RESPValue?> {
        var commands: [[RESPArgument]] = []
        if options.usesRESP3 {
            var hello: [RESPArgument] = ["HELLO", 3]
            if let password = options.password { hello += ["AUTH", RESPArgument(options.username ?? "default"), RESPArgument(password)] }
            if let name = options.clientName { hello += ["SETNAME", RESPArgument(name)] }
            commands.append(hello)
        } else {
            if let password = options.password {
                commands.append(options.username.map { ["AUTH", RESPArgument($0), RESPArgument(password)] } ?? ["AUTH", RESPArgument(password)])
            }
            if let name = options.clientName { commands.append(["CLIENT", "SETNAME", RESPArgument(name)]) }
        }
        if let database = options.database { commands.append(["SELECT", RESPArgument(database)]) }
        guard !commands.isEmpty else { return channel.eventLoop.makeSucceededFuture(nil) }
        return RedisConnection(channel: channel).pipeline(commands).flatMapThrowing { replies in
            if let error = replies.lazy.compactMap(\.error).first { throw error }
            return options.usesRESP3 ? replies[0] : nil
        }
    }

    // MARK: - Commands

    /// Sends `command` (its name first) and gets its reply; fails with the `RESPError` of an error reply,
    /// or a `RedisClientError` if the connection closes or the reply does not come in time.
    public func send(_ command: [RESPArgument]) -> EventLoopFuture<RESPValue> {
        enqueue([command])[0].flatMapThrowing { reply in
            if let error = reply.error { throw error }
            return reply
        }
    }

    /// `send` with the arguments listed: `connection.send("SET", "key", 1)`.
    public func send(_ command: RESPArgument...) -> EventLoopFuture<RESPValue> {
        send(command)
    }

    /// Sends `commands` in one write and gets their replies, in order. Error replies are values of the
    /// array (`.simpleError`, `.bulkError`: see `RESPValue.error`), so that one failed command does not
    /// hide the others' replies; the future fails only if the connection does.
    public func pipeline(_ commands: [[RESPArgument]]) -> EventLoopFuture<[RESPValue]> {
        guard !commands.isEmpty else { return eventLoop.makeSucceededFuture([]) }
        return EventLoopFuture.whenAllSucceed(enqueue(commands), on: eventLoop)
    }

    /// Runs a cached Lua script by its SHA-1 (`EVALSHA`), and by its source (`EVAL`, which caches it
    /// again) when the server answers `NOSCRIPT`: its script cache is empty after a restart or a
    /// `SCRIPT FLUSH`, or on a replica that was never sent the script.
    public func evalSHA(script: RedisScript, keys: [RESPArgument] = [], args: [RESPArgument] = []) -> EventLoopFuture<RESPValue> {
        let tail = [RESPArgument(keys.count)] + keys + args
        return send(["EVALSHA", RESPArgument(script.sha1)] + tail).flatMapError { error in
            guard let redisError = error as? RESPError, redisError.code == .noScript else {
                return self.eventLoop.makeFailedFuture(error)
            }
            return self.send(["EVAL", RESPArgument(script.source)] + tail)
        }
    }

    /// `evalSHA` of a script given by its source (its SHA-1 is computed on each call: keep a
    /// `RedisScript` for a script run often).
    public func evalSHA(script: String, keys: [RESPArgument] = [], args: [RESPArgument] = []) -> EventLoopFuture<RESPValue> {
        evalSHA(script: RedisScript(script), keys: keys, args: args)
    }

    /// Closes the connection; waiting commands fail with `RedisClientError.connectionClosed`. Succeeds
    /// also when it was closed already.
    public func close() -> EventLoopFuture<Void> {
        channel.close().flatMapError { error in
            if let channelError = error as? ChannelError, channelError == .alreadyClosed {
                return self.eventLoop.makeSucceededFuture(())
            }
            return self.eventLoop.makeFailedFuture(error)
        }
    }

    /// Writes `commands` as one request; the futures of their raw replies (error replies included).
    private func enqueue(_ commands: [[RESPArgument]]) -> [EventLoopFuture<RESPValue>] {
        let promises = commands.map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        let written = channel.eventLoop.makePromise(of: Void.self)
        // A write that never reaches the handler (closed channel) must still fail the replies; a second
        // completion of a promise the handler already failed is ignored.
        written.futureResult.whenFailure { error in
            let failure = (error as? ChannelError) == .ioOnClosedChannel ? RedisClientError.connectionClosed : error
            for promise in promises { promise.fail(failure) }
        }
        channel.writeAndFlush(RedisRequest(commands: commands, promises: promises), promise: written)
        return promises.map(\.futureResult)
    }
}
