import NIOCore
import NIOPosix
import WSGateRedis
import XCTest

/// Against a real `redis-server`, one per test. Every wait is bounded by the connections' timeouts.
final class RedisServerTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!
    private var server: RedisServerProcess?

    override func setUp() {
        super.setUp()
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    override func tearDown() {
        server?.stop()
        server = nil
        try? group.syncShutdownGracefully()
        group = nil
        super.tearDown()
    }

    private func startServer(_ arguments: [String] = []) throws -> RedisServerProcess {
        let started = try RedisServerProcess.start(arguments: arguments, group: group)
        server = started
        return started
    }

    private func connect(
        _ server: RedisServerProcess, options: RedisConnection.Options = .init(commandTimeout: .seconds(5), connectTimeout: .seconds(5))
    ) throws -> RedisConnection {
        try RedisConnection.connect(host: "127.0.0.1", port: server.port, eventLoop: group.next(), options: options).wait()
    }

    private func assertRedisError<T: Sendable>(
        _ future: EventLoopFuture<T>, _ code: RESPError.Code, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try future.wait(), file: file, line: line) { error in
            XCTAssertEqual((error as? RESPError)?.code, code, "\(error)", file: file, line: line)
        }
    }

    func testPingSetGet() throws {
        let redis = try connect(try startServer())
        XCTAssertEqual(try redis.send("PING").wait(), .simpleString("PONG"))
        XCTAssertEqual(try redis.send("SET", "greeting", "hello").wait(), .simpleString("OK"))
        XCTAssertEqual(try redis.send("GET", "greeting").wait().string, "hello")
        XCTAssertEqual(try redis.send("GET", "missing").wait(), .bulkString(nil))
        let binary = RESPArgument([0x00, 0xFF, 0x0D, 0x0A])
        XCTAssertEqual(try redis.send(["SET", "bin", binary]).wait(), .simpleString("OK"))
        XCTAssertEqual(try redis.send("GET", "bin").wait().bytes, ByteBuffer(bytes: [0x00, 0xFF, 0x0D, 0x0A]))
        XCTAssertEqual(try redis.send("INCRBY", "n", 41).wait(), .integer(41))
        assertRedisError(redis.send("LPUSH", "greeting", "x"), .wrongType)
        assertRedisError(redis.send("NOSUCHCOMMAND"), .err)
        XCTAssertEqual(try redis.send("ECHO", "still fine").wait().string, "still fine", "an error reply keeps the connection")
        try redis.close().wait()
        try redis.close().wait()
    }

    func testPipeliningAThousandIncrsInOrder() throws {
        let redis = try connect(try startServer())
        let replies = try redis.pipeline(Array(repeating: ["INCR", "counter"], count: 1000)).wait()
        XCTAssertEqual(replies, (1...1000).map { RESPValue.integer(Int64($0)) })
        // Commands sent one by one without waiting are pipelined too.
        let futures = (0..<1000).map { _ in redis.send("INCR", "counter") }
        let values = try EventLoopFuture.whenAllSucceed(futures, on: redis.eventLoop).wait()
        XCTAssertEqual(values.map(\.int), (1001...2000).map { Optional($0) })
        // An error in a pipeline is one reply among the others.
        let mixed = try redis.pipeline([["SET", "s", "x"], ["INCR", "s"], ["GET", "s"]]).wait()
        XCTAssertEqual(mixed[0], .simpleString("OK"))
        XCTAssertEqual(mixed[1].error?.code, .err)
        XCTAssertEqual(mixed[2].string, "x")
    }

    func testAuthWithRequirePass() throws {
        let server = try startServer(["--requirepass", "s3cret"])
        let anonymous = try connect(server)
        assertRedisError(anonymous.send("GET", "k"), .noAuth)

        var wrong = RedisConnection.Options(password: "nope", commandTimeout: .seconds(5), connectTimeout: .seconds(5))
        assertRedisError(RedisConnection.connect(host: "127.0.0.1", port: server.port, eventLoop: group.next(), options: wrong), .wrongPass)

        let authenticated = try connect(server, options: .init(password: "s3cret", commandTimeout: .seconds(5)))
        XCTAssertEqual(try authenticated.send("PING").wait(), .simpleString("PONG"))

        // A Redis 6 ACL user, by name and password, and from a URL.
        XCTAssertEqual(try authenticated.send("ACL", "SETUSER", "alice", "on", ">pa:ss@", "~*", "+@all").wait(), .simpleString("OK"))
        wrong.username = "alice"
        assertRedisError(RedisConnection.connect(host: "127.0.0.1", port: server.port, eventLoop: group.next(), options: wrong), .wrongPass)
        let alice = try connect(server, options: .init(username: "alice", password: "pa:ss@", commandTimeout: .seconds(5)))
        XCTAssertEqual(try alice.send("ACL", "WHOAMI").wait().string, "alice")
        let url = try RedisURL("redis://alice:pa%3Ass%40@127.0.0.1:\(server.port)/0")
        let fromURL = try RedisConnection.connect(to: url, eventLoop: group.next()).wait()
        XCTAssertEqual(try fromURL.send("ACL", "WHOAMI").wait().string, "alice")
    }

    func testSelectDatabase() throws {
        let server = try startServer()
        let third = try connect(server, options: .init(database: 3, commandTimeout: .seconds(5)))
        XCTAssertEqual(try third.send("SET", "where", "db3").wait(), .simpleString("OK"))
        let zero = try connect(server)
        XCTAssertEqual(try zero.send("GET", "where").wait(), .bulkString(nil))
        let thirdAgain = try RedisConnection.connect(to: try RedisURL("redis://127.0.0.1:\(server.port)/3"), eventLoop: group.next()).wait()
        XCTAssertEqual(try thirdAgain.send("GET", "where").wait().string, "db3")
        // An invalid database fails the connection.
        let invalid = RedisConnection.connect(
            host: "127.0.0.1", port: server.port, eventLoop: group.next(), options: .init(database: 99_999, commandTimeout: .seconds(5))
        )
        assertRedisError(invalid, .err)
    }

    func testEvalSHAFallsBackToEvalAfterScriptFlush() throws {
        let redis = try connect(try startServer())
        let script = RedisScript("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}")
        // Our SHA-1 is the server's.
        XCTAssertEqual(try redis.send("SCRIPT", "LOAD", RESPArgument(script.source)).wait().string, script.sha1)
        XCTAssertEqual(
            try redis.evalSHA(script: script, keys: ["n"], args: ["a"]).wait(),
            .array([RESPVectors.bulk("n"), RESPVectors.bulk("a"), .integer(1)])
        )
        XCTAssertEqual(try redis.send("SCRIPT", "FLUSH").wait(), .simpleString("OK"))
        XCTAssertEqual(try redis.send("SCRIPT", "EXISTS", RESPArgument(script.sha1)).wait(), .array([.integer(0)]))
        XCTAssertEqual(try redis.send("CONFIG", "RESETSTAT").wait(), .simpleString("OK"))

        XCTAssertEqual(
            try redis.evalSHA(script: script, keys: ["n"], args: ["b"]).wait(),
            .array([RESPVectors.bulk("n"), RESPVectors.bulk("b"), .integer(2)])
        )
        let stats = try redis.send("INFO", "commandstats").wait().string ?? ""
        XCTAssertTrue(stats.contains("cmdstat_eval:calls=1,"), "EVAL ran once after NOSCRIPT: \(stats)")
        // A script error is the caller's, with no second try.
        assertRedisError(redis.evalSHA(script: "return redis.call('NOSUCHCOMMAND')"), .err)
    }

    func testSubscriptionReceivesPublishedMessages() throws {
        let server = try startServer()
        let messages = Collector<RedisPubSubMessage>()
        let subscription = try RedisSubscription.connect(
            host: "127.0.0.1", port: server.port, eventLoop: group.next(), options: .init(commandTimeout: .seconds(5)),
            onMessage: { messages.append($0) }
        ).wait()
        try subscription.subscribe(["news", "sport"]).wait()
        try subscription.psubscribe(["n*"]).wait()
        let publisher = try connect(server)
        XCTAssertEqual(try publisher.send("PUBLISH", "news", "hello").wait(), .integer(2), "channel and pattern")
        XCTAssertEqual(try publisher.send("PUBLISH", "sport", "goal").wait(), .integer(1))
        let received = messages.wait(for: 3)
        XCTAssertEqual(received.count, 3)
        XCTAssertEqual(Set(received), [
            RedisPubSubMessage(channel: "news", payload: ByteBuffer(string: "hello")),
            RedisPubSubMessage(channel: "news", pattern: "n*", payload: ByteBuffer(string: "hello")),
            RedisPubSubMessage(channel: "sport", payload: ByteBuffer(string: "goal")),
        ])
        XCTAssertEqual(received.last?.text, "goal", "messages arrive in order")

        // PING still works in RESP2 subscription mode; unsubscribing stops the messages.
        XCTAssertEqual(try subscription.connection.send("PING").wait().array?.first?.string, "pong")
        try subscription.unsubscribe().wait()
        try subscription.punsubscribe().wait()
        XCTAssertEqual(try publisher.send("PUBLISH", "news", "late").wait(), .integer(0))
        XCTAssertEqual(try subscription.connection.send("PING").wait(), .simpleString("PONG"), "out of subscription mode")
        XCTAssertEqual(messages.all.count, 3)
        try subscription.close().wait()
    }

    func testRESP3ViaHello3() throws {
        let server = try startServer()
        let pushes = Collector<RESPValue>()
        let redis = try connect(
            server, options: .init(usesRESP3: true, clientName: "wsgate-test", commandTimeout: .seconds(5), onPush: { pushes.append($0) })
        )
        let hello = try XCTUnwrap(redis.helloReply?.map)
        XCTAssertEqual(hello.first { $0.key.string == "proto" }?.value, .integer(3))
        XCTAssertEqual(try redis.send("CLIENT", "GETNAME").wait().string, "wsgate-test")
        XCTAssertEqual(try redis.send("GET", "missing").wait(), .null)
        _ = try redis.send("HSET", "h", "f", "v").wait()
        XCTAssertEqual(try redis.send("HGETALL", "h").wait(), .map([RESPPair(key: RESPVectors.bulk("f"), value: RESPVectors.bulk("v"))]))
        _ = try redis.send("SADD", "s", "m").wait()
        XCTAssertEqual(try redis.send("SMEMBERS", "s").wait(), .set([RESPVectors.bulk("m")]))
        _ = try redis.send("ZADD", "z", "1.5", "m").wait()
        XCTAssertEqual(try redis.send("ZSCORE", "z", "m").wait(), .double(1.5))

        // Client-side caching: an invalidation arrives as a push, between replies.
        XCTAssertEqual(try redis.send("CLIENT", "TRACKING", "on").wait(), .simpleString("OK"))
        _ = try redis.send("GET", "tracked").wait()
        let other = try connect(server)
        _ = try other.send("SET", "tracked", "changed").wait()
        let invalidation = pushes.wait(for: 1)
        XCTAssertEqual(invalidation.first?.array?.first?.string, "invalidate")
        XCTAssertEqual(try redis.send("PING").wait(), .simpleString("PONG"))

        // RESP3 pub/sub on a connection that also serves commands.
        let messages = Collector<RedisPubSubMessage>()
        let subscription = try RedisSubscription.connect(
            host: "127.0.0.1", port: server.port, eventLoop: group.next(), options: .init(usesRESP3: true, commandTimeout: .seconds(5)),
            onMessage: { messages.append($0) }
        ).wait()
        try subscription.subscribe(["room"]).wait()
        XCTAssertEqual(try subscription.connection.send("GET", "tracked").wait().string, "changed")
        _ = try other.send("PUBLISH", "room", "hi").wait()
        XCTAssertEqual(messages.wait(for: 1), [RedisPubSubMessage(channel: "room", payload: ByteBuffer(string: "hi"))])
    }

    func testPendingCommandsFailWhenTheServerIsKilled() throws {
        let server = try startServer()
        let redis = try connect(server, options: .init(commandTimeout: nil, connectTimeout: .seconds(5)))
        XCTAssertEqual(try redis.send("PING").wait(), .simpleString("PONG"))
        let blocked = redis.send("BLPOP", "empty-list", 0)
        let queued = [redis.send("PING"), redis.send("GET", "k")]
        // BLPOP is blocking on the server once another connection sees a blocked client.
        let observer = try connect(server)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, !(try observer.send("INFO", "clients").wait().string ?? "").contains("blocked_clients:1") {
            Thread.sleep(forTimeInterval: 0.01)
        }
        server.kill()
        for future in [blocked] + queued {
            XCTAssertThrowsError(try future.wait()) { error in
                XCTAssert(error as? RedisClientError == .connectionClosed || error is IOError, "\(error)")
            }
        }
        try redis.closeFuture.wait()
        XCTAssertFalse(redis.isConnected)
        XCTAssertThrowsError(try redis.send("PING").wait()) { XCTAssertEqual($0 as? RedisClientError, .connectionClosed) }
    }

    func testCommandTimeoutOnARealServer() throws {
        let redis = try connect(try startServer(), options: .init(commandTimeout: .milliseconds(200)))
        XCTAssertThrowsError(try redis.send("BLPOP", "empty-list", 0).wait()) {
            XCTAssertEqual($0 as? RedisClientError, .commandTimedOut(.milliseconds(200)))
        }
        try redis.closeFuture.wait()
    }

    func testConnectionRefused() throws {
        let server = try startServer()
        let port = server.port
        server.stop()
        XCTAssertThrowsError(
            try RedisConnection.connect(host: "127.0.0.1", port: port, eventLoop: group.next(), options: .init(connectTimeout: .seconds(2))).wait()
        )
        XCTAssertThrowsError(try RedisConnection.connect(to: try RedisURL("rediss://127.0.0.1"), eventLoop: group.next()).wait()) {
            XCTAssertEqual($0 as? RedisClientError, .tlsUnsupported)
        }
    }
}
