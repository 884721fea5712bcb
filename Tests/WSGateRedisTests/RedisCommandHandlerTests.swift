import NIOCore
import NIOEmbedded
import WSGateRedis
import XCTest

/// The decoder and the command handler on an `EmbeddedChannel`: the test plays the server.
final class RedisCommandHandlerTests: XCTestCase {
    /// Pushes seen by the handler (the embedded loop runs on the test's thread).
    private final class PushLog: @unchecked Sendable {
        // Only touched on the EmbeddedEventLoop, which is the test's own thread.
        var values: [RESPValue] = []
    }

    private var channel: EmbeddedChannel!
    private var pushes: PushLog!

    private func makeChannel(timeout: TimeAmount? = nil, isRESP3: Bool = false) throws {
        let log = PushLog()
        pushes = log
        channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPValueDecoder()))
        try channel.pipeline.syncOperations.addHandler(
            RedisCommandHandler(configuration: .init(commandTimeout: timeout, isRESP3: isRESP3, onPush: { log.values.append($0) }))
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
    }

    override func tearDown() {
        _ = try? channel?.finish()
        channel = nil
        super.tearDown()
    }

    /// Writes a command; returns a recorder of its reply.
    private func send(_ command: [RESPArgument]) throws -> FutureRecorder<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        try channel.writeOutbound(RedisRequest(command: command, promise: promise))
        return FutureRecorder(promise.futureResult)
    }

    private func serverSends(_ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    private func written() throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += buffer.text }
        return text
    }

    func testPipelinedRepliesCompleteInOrder() throws {
        try makeChannel()
        let first = try send(["SET", "a", "1"])
        let second = try send(["INCR", "a"])
        let third = try send(["GET", "a"])
        XCTAssertEqual(
            try written(),
            "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
        )
        XCTAssertNil(first.result)
        try serverSends("+OK\r\n:2\r\n$1")
        XCTAssertEqual(first.value, .simpleString("OK"))
        XCTAssertEqual(second.value, .integer(2))
        XCTAssertNil(third.result, "its reply is not all there")
        try serverSends("\r\n2\r\n")
        XCTAssertEqual(third.value, RESPVectors.bulk("2"))
    }

    func testOneRequestWithManyCommandsIsOneWrite() throws {
        try makeChannel()
        let promises = (0..<3).map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        try channel.writeOutbound(RedisRequest(commands: [["PING"], ["PING"], ["ECHO", "x"]], promises: promises))
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self)?.text, "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n")
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self))
        let recorders = promises.map { FutureRecorder($0.futureResult) }
        try serverSends("+PONG\r\n-ERR no\r\n$1\r\nx\r\n")
        XCTAssertEqual(recorders.map(\.value), [.simpleString("PONG"), .simpleError("ERR no"), RESPVectors.bulk("x")])
    }

    func testErrorRepliesSucceedAsValues() throws {
        try makeChannel()
        let reply = try send(["EVALSHA", "abc", 0])
        try serverSends("-NOSCRIPT No matching script.\r\n")
        XCTAssertEqual(reply.value?.error?.code, .noScript)
    }

    func testRESP3PushesGoToTheCallback() throws {
        try makeChannel()
        let get = try send(["GET", "k"])
        try serverSends(">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n")
        XCTAssertNil(get.result, "a push answers no command")
        try serverSends(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n$1\r\nv\r\n")
        XCTAssertEqual(get.value, RESPVectors.bulk("v"))
        XCTAssertEqual(pushes.values.count, 2)
        XCTAssertEqual(RedisPubSubMessage(pushes.values[0]), RedisPubSubMessage(channel: "news", payload: ByteBuffer(string: "hi")))
        XCTAssertEqual(pushes.values[1].array?.first?.string, "invalidate")
    }

    func testRESP2SubscriptionMode() throws {
        try makeChannel()
        let subscribe = try send(["SUBSCRIBE", "a", "b"])
        try serverSends("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n")
        XCTAssertNil(subscribe.result, "one confirmation per channel")
        try serverSends("*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n")
        XCTAssertEqual(subscribe.value?.array?.last, .integer(2))
        try serverSends("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n*4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$1\r\na\r\n$1\r\nx\r\n")
        let ping = try send(["PING"])
        try serverSends("*2\r\n$4\r\npong\r\n$0\r\n\r\n")
        XCTAssertEqual(ping.value, .array([RESPVectors.bulk("pong"), RESPVectors.bulk("")]), "PING's reply is no pub/sub array")
        XCTAssertEqual(pushes.values.count, 4)
        XCTAssertEqual(RedisPubSubMessage(pushes.values[2])?.text, "hello")
        XCTAssertEqual(RedisPubSubMessage(pushes.values[3]), RedisPubSubMessage(channel: "a", pattern: "a*", payload: ByteBuffer(string: "x")))

        // Unsubscribing from everything: the first confirmation completes it, the others are pushes.
        let unsubscribe = try send(["UNSUBSCRIBE"])
        try serverSends("*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n")
        XCTAssertNotNil(unsubscribe.value)
        try serverSends("*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n")
        XCTAssertEqual(pushes.values.count, 6)

        // Out of subscription mode, an array that starts with "message" is an ordinary reply.
        let range = try send(["LRANGE", "list", 0, -1])
        try serverSends("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nb\r\n")
        XCTAssertEqual(range.value?.array?.count, 3)
        XCTAssertEqual(pushes.values.count, 6)
    }

    /// A reply shaped like a pub/sub message, to a command sent before SUBSCRIBE, is that command's reply.
    func testReplyBeforeSubscribeIsNotTakenForAMessage() throws {
        try makeChannel()
        let range = try send(["LRANGE", "list", 0, -1])
        let subscribe = try send(["SUBSCRIBE", "a"])
        try serverSends("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nb\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n")
        XCTAssertEqual(range.value?.array?.count, 3)
        XCTAssertEqual(subscribe.value?.array?.last, .integer(1))
        XCTAssertEqual(pushes.values.count, 1, "the confirmation")
    }

    func testRESP3SubscriptionConfirmationsArePushes() throws {
        try makeChannel(isRESP3: true)
        let subscribe = try send(["SUBSCRIBE", "news"])
        let get = try send(["GET", "k"])
        try serverSends(">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")
        XCTAssertNotNil(subscribe.value)
        XCTAssertNil(get.result)
        // In RESP3 any reply may come during a subscription, arrays that look like messages included.
        try serverSends("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nb\r\n")
        XCTAssertEqual(get.value?.array?.count, 3)
        XCTAssertEqual(pushes.values.count, 1)
    }

    func testSubscribeErrorCompletesTheCommand() throws {
        try makeChannel()
        let subscribe = try send(["SUBSCRIBE"])
        try serverSends("-ERR wrong number of arguments for 'subscribe' command\r\n")
        XCTAssertEqual(subscribe.value?.error?.code, .err)
        let ping = try send(["PING"])
        try serverSends("+PONG\r\n")
        XCTAssertEqual(ping.value, .simpleString("PONG"))
    }

    func testCloseFailsPendingCommands() throws {
        try makeChannel()
        let first = try send(["BLPOP", "list", 0])
        let second = try send(["PING"])
        try channel.close().wait()
        XCTAssertEqual(first.error as? RedisClientError, .connectionClosed)
        XCTAssertEqual(second.error as? RedisClientError, .connectionClosed)
    }

    func testWriteAfterCloseFailsAtOnce() throws {
        try makeChannel()
        channel.pipeline.fireChannelInactive()
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        let reply = FutureRecorder(promise.futureResult)
        let written = FutureRecorder(channel.writeAndFlush(RedisRequest(command: ["PING"], promise: promise)))
        XCTAssertEqual(reply.error as? RedisClientError, .connectionClosed)
        XCTAssertEqual(written.error as? RedisClientError, .connectionClosed)
    }

    /// `RedisConnection` on a closed channel: the write never reaches the handler, the command still fails.
    func testConnectionOnClosedChannelFailsCommands() throws {
        try makeChannel()
        let connection = RedisConnection(channel: channel)
        try channel.close().wait()
        let reply = FutureRecorder(connection.send("PING"))
        XCTAssertEqual(reply.error as? RedisClientError, .connectionClosed)
    }

    /// `evalSHA` sends EVALSHA, and EVAL with the source when the server answers NOSCRIPT.
    func testEvalSHAFallsBackToEvalOnNoScript() throws {
        try makeChannel()
        let connection = RedisConnection(channel: channel)
        let script = RedisScript("return 1")
        let result = FutureRecorder(connection.evalSHA(script: script, keys: ["k"], args: ["a"]))
        XCTAssertEqual(try written(), "*5\r\n$7\r\nEVALSHA\r\n$40\r\n\(script.sha1)\r\n$1\r\n1\r\n$1\r\nk\r\n$1\r\na\r\n")
        try serverSends("-NOSCRIPT No matching script. Please use EVAL.\r\n")
        XCTAssertNil(result.result)
        XCTAssertEqual(try written(), "*5\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n1\r\n$1\r\nk\r\n$1\r\na\r\n")
        try serverSends(":1\r\n")
        XCTAssertEqual(result.value, .integer(1))

        // Another error is the caller's.
        let failed = FutureRecorder(connection.evalSHA(script: script))
        _ = try written()
        try serverSends("-BUSY Redis is busy running a script.\r\n")
        XCTAssertEqual((failed.error as? RESPError)?.code, .busy)
        XCTAssertEqual(try written(), "", "no EVAL")
    }

    func testCommandTimeoutFailsTheCommandAndClosesTheConnection() throws {
        try makeChannel(timeout: .seconds(2))
        let first = try send(["GET", "a"])
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let second = try send(["GET", "b"])
        XCTAssertNil(first.result)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        XCTAssertEqual(first.error as? RedisClientError, .commandTimedOut(.seconds(2)))
        XCTAssertEqual(second.error as? RedisClientError, .connectionClosed, "its reply could not be matched any more")
        XCTAssertFalse(channel.isActive)
    }

    func testAnsweredCommandDoesNotTimeOut() throws {
        try makeChannel(timeout: .seconds(1))
        let ping = try send(["PING"])
        try serverSends("+PONG\r\n")
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        XCTAssertEqual(ping.value, .simpleString("PONG"))
        XCTAssertTrue(channel.isActive)
        let handler = try channel.pipeline.syncOperations.handler(type: RedisCommandHandler.self)
        XCTAssertEqual(handler.pendingCommandCount, 0)
    }

    func testProtocolErrorFailsPendingCommandsAndCloses() throws {
        try makeChannel()
        let get = try send(["GET", "a"])
        try? serverSends("?garbage\r\n")  // the handler takes the error; nothing reaches the tail
        XCTAssertEqual(get.error as? RESPProtocolError, .unknownType(UInt8(ascii: "?")))
        XCTAssertFalse(channel.isActive)
    }

    func testReplyWithoutCommandClosesTheConnection() throws {
        try makeChannel()
        try serverSends("+OK\r\n")
        XCTAssertFalse(channel.isActive)
    }

    func testDecoderByteByByte() throws {
        let decoder = EmbeddedChannel(handler: ByteToMessageHandler(RESPValueDecoder()))
        let all = RESPVectors.all
        for byte in all.map(\.0).joined().utf8 { try decoder.writeInbound(ByteBuffer(bytes: [byte])) }
        var values: [RESPValue] = []
        while let value = try decoder.readInbound(as: RESPValue.self) { values.append(value) }
        XCTAssertEqual(values, all.map(\.1))
        _ = try decoder.finish()
    }
}
