import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
import WSGateRedis
@testable import WSGateCore

/// The publish script against a real redis-server: a retry after a lost reply publishes nothing twice.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ClusterScriptTests {
    @Test func aRetriedBatchPublishesOnlyWhatRedisHadNotPublished() async throws {
        let redis = try ClusterRedis()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let options = RedisConnection.Options(commandTimeout: .seconds(5), connectTimeout: .seconds(2))
        let commands = try await RedisConnection.connect(host: "127.0.0.1", port: redis.port, eventLoop: loop, options: options).get()
        let received = Mutex<[ByteBuffer]>([])
        let subscription = try await RedisSubscription.connect(host: "127.0.0.1", port: redis.port, eventLoop: loop, options: options) {
            message in received.withLock { $0.append(message.payload) }
        }.get()
        let keys = ClusterRoomKeys(prefix: "t", room: "r")
        try await subscription.subscribe([keys.channel]).get()
        func publish(_ counters: [Int]) async throws -> Int? {
            var args: [RESPArgument] = [RESPArgument(keys.channel), 100, "gw", "epoch1"]
            for counter in counters { args += [RESPArgument(counter), "t", "gw:1", RESPArgument("m\(counter)")] }
            return try await commands.evalSHA(script: ClusterScripts.publish, keys: [RESPArgument(keys.meta), RESPArgument(keys.stream)], args: args)
                .get().int
        }
        #expect(try await publish([1]) == 1)
        #expect(try await publish([1]) == 0, "the same message again: a duplicate")
        #expect(try await publish([1, 2, 3]) == 2, "a batch retried after a lost reply: only the rest")
        #expect(try await commands.send("XLEN", RESPArgument(keys.stream)).get().int == 3)
        let deadline = ContinuousClock.now + .seconds(5)
        while received.withLock({ $0.count }) < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let batches = received.withLock { $0 }.compactMap { ClusterMessage.batch(payload: $0) }
        #expect(batches.map { $0.map(\.offset) } == [[1], [2, 3]])
        #expect(batches.flatMap { $0 }.map { String(buffer: $0.data) } == ["m1", "m2", "m3"])
        #expect(batches.flatMap { $0 }.allSatisfy { $0.epoch == "epoch1" })
        try? await subscription.close().get()
        try? await commands.close().get()
    }
}
