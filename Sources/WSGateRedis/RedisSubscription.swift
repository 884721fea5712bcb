import NIOCore

/// A connection dedicated to pub/sub: `SUBSCRIBE`, `PSUBSCRIBE` and their `UNSUBSCRIBE`s, and a
/// callback for each message published.
///
/// On a RESP2 connection (the default) Redis accepts only subscription commands and `PING` once a
/// subscription is active, hence a connection of its own; with `usesRESP3` the underlying `connection`
/// can also serve other commands. Messages arrive on the event loop, in the order Redis sends them.
/// Subscriptions end with the connection: after a reconnection, subscribe again.
public final class RedisSubscription: Sendable {
    /// The underlying connection.
    public let connection: RedisConnection

    private init(connection: RedisConnection) {
        self.connection = connection
    }

    /// Connects for pub/sub; `onMessage` is called on the event loop for each message (an `onPush` of
    /// `options` still gets every push, confirmations included).
    public static func connect(
        host: String,
        port: Int = RedisURL.defaultPort,
        eventLoop: EventLoop,
        options: RedisConnection.Options = RedisConnection.Options(),
        onMessage: @escaping @Sendable (RedisPubSubMessage) -> Void
    ) -> EventLoopFuture<RedisSubscription> {
        var options = options
        let onPush = options.onPush
        options.onPush = { value in
            onPush?(value)
            if let message = RedisPubSubMessage(value) { onMessage(message) }
        }
        return RedisConnection.connect(host: host, port: port, eventLoop: eventLoop, options: options).map {
            RedisSubscription(connection: $0)
        }
    }

    /// Subscribes to `channels`; succeeds once Redis has confirmed them all.
    public func subscribe(_ channels: [String]) -> EventLoopFuture<Void> {
        command("SUBSCRIBE", channels)
    }

    /// Subscribes to the channels matching the glob-style `patterns`; succeeds once Redis confirmed them all.
    public func psubscribe(_ patterns: [String]) -> EventLoopFuture<Void> {
        command("PSUBSCRIBE", patterns)
    }

    /// Unsubscribes from `channels` (from every channel if empty); succeeds with the first confirmation
    /// for an empty list, with the last otherwise.
    public func unsubscribe(_ channels: [String] = []) -> EventLoopFuture<Void> {
        command("UNSUBSCRIBE", channels)
    }

    /// Unsubscribes from `patterns` (from every pattern if empty).
    public func punsubscribe(_ patterns: [String] = []) -> EventLoopFuture<Void> {
        command("PUNSUBSCRIBE", patterns)
    }

    /// Closes the connection, which ends its subscriptions.
    public func close() -> EventLoopFuture<Void> {
        connection.close()
    }

    private func command(_ name: RESPArgument, _ names: [String]) -> EventLoopFuture<Void> {
        connection.send([name] + names.map { RESPArgument($0) }).map { _ in }
    }
}
