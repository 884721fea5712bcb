import NIOCore

/// What `RedisCommandHandler` writes: one command or a pipeline, and a promise for each reply.
///
/// The promises succeed with the server's reply, error replies included (as `.simpleError` or
/// `.bulkError` values); they fail only when no reply can come (`RedisClientError`, `RESPProtocolError`,
/// an I/O error). All the commands of one request are written in one buffer.
public struct RedisRequest: Sendable {
    /// The commands, in the order they are sent, each one its name first.
    public var commands: [[RESPArgument]]
    /// One promise per command, in the same order.
    public var promises: [EventLoopPromise<RESPValue>]

    /// One command and the promise of its reply.
    public init(command: [RESPArgument], promise: EventLoopPromise<RESPValue>) {
        self.commands = [command]
        self.promises = [promise]
    }

    /// A pipeline: `promises[i]` gets the reply of `commands[i]`.
    public init(commands: [[RESPArgument]], promises: [EventLoopPromise<RESPValue>]) {
        precondition(commands.count == promises.count, "one promise per command")
        self.commands = commands
        self.promises = promises
    }
}
