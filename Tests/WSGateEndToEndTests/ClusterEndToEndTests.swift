import Foundation
import NIOCore
import Testing
import WSGateClient
import WSGateRedis
import WSGateWire

/// Issue 16: rooms across gateways on one real `redis-server` (each test starts its own on a free
/// loopback port, in a temporary folder, and stops it). Every member must see every message once, in
/// one order, or be closed with a code that says why.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ClusterEndToEndTests {
    typealias Support = ClusterTestSupport

    @Test func threeGatewaysMembersOfEveryDialectSeeOneOrder() async throws {
        let redis = try ClusterRedis()
        let gateways = try (0..<3).map { _ in try Support.gateway(redisPort: redis.port) }
        defer { for gateway in gateways { gateway.stop() } }
        let dialects: [ClientDialect] = [.rfc6455, .hixie76, .hixie75, .rfc6455(version: 8), .hixie76, .rfc6455]
        var members: [AsyncWebSocketClient] = []
        for (index, dialect) in dialects.enumerated() {
            members.append(try await Support.member(port: gateways[index % 3].port, dialect: dialect))
        }
        var expected = Set<String>()
        for round in 0..<15 {
            for (index, member) in members.enumerated() {
                let text = "m\(index)-\(round)"
                member.send(text)
                expected.insert(text)
            }
        }
        let seen = await Support.collectAll(members, count: expected.count)
        Support.expectOneOrder(seen, expected: expected)
        // Each gateway counts the whole cluster's members in /rooms.
        let counted = Support.eventually { Support.clusterMembers(adminPort: gateways[0].adminPort ?? 0, room: "lobby") == 6 }
        #expect(counted, "/rooms shows the six members of the cluster")
        for member in members { try? await member.close() }
    }

    @Test func redisKilledAndRestartedWithoutPersistenceClosesMembers1012() async throws {
        let redis = try ClusterRedis()
        let gateways = try (0..<2).map { _ in try Support.gateway(redisPort: redis.port) }
        defer { for gateway in gateways { gateway.stop() } }
        let members = [
            try await Support.member(port: gateways[0].port, dialect: .rfc6455),
            try await Support.member(port: gateways[1].port, dialect: .hixie76),
            try await Support.member(port: gateways[1].port, dialect: .rfc6455),
        ]
        var expected = Set<String>()
        for index in 0..<10 {
            members[index % 3].send("before-\(index)")
            expected.insert("before-\(index)")
        }
        Support.expectOneOrder(await Support.collectAll(members, count: 10), expected: expected)
        redis.kill()
        #expect(Support.eventually { gateways.allSatisfy { Support.health($0) == "ok\ncluster: down\n" } })
        try redis.start()  // empty: the rooms' state is gone
        // Nothing silent: every member is told that its room's state was lost.
        let seen = await Support.collectAll(members, count: 1000, quiet: .seconds(15))
        for (index, member) in seen.enumerated() {
            #expect(member.messages.isEmpty, "member \(index) got \(member.messages)")
            #expect(member.closed != nil, "member \(index) is closed")
            if index != 1 {
                #expect(member.closed?.code == .serviceRestart, "member \(index): \(String(describing: member.closed))")
                #expect(member.closed?.reason == "room state lost")
            }
        }
        // The room works again for new members.
        #expect(Support.eventually { gateways.allSatisfy { Support.health($0) == "ok\ncluster: up\n" } })
        let again = [
            try await Support.member(port: gateways[0].port, dialect: .hixie75),
            try await Support.member(port: gateways[1].port, dialect: .rfc6455),
        ]
        again[0].send("after")
        Support.expectOneOrder(await Support.collectAll(again, count: 1), expected: ["after"])
    }

    @Test func redisKilledAndRestartedWithAOFRepairsGapsAndClosesNobody() async throws {
        let redis = try ClusterRedis(appendOnly: true)
        let gateways = try (0..<2).map { _ in try Support.gateway(redisPort: redis.port) }
        defer { for gateway in gateways { gateway.stop() } }
        let members = [
            try await Support.member(port: gateways[0].port, dialect: .rfc6455),
            try await Support.member(port: gateways[1].port, dialect: .hixie76),
            try await Support.member(port: gateways[1].port, dialect: .rfc6455),
            try await Support.member(port: gateways[0].port, dialect: .hixie75),
        ]
        let total = 60
        async let seen = Support.collectAll(members, count: total, quiet: .seconds(20))
        var expected = Set<String>()
        for index in 0..<total {
            if index == 20 { redis.kill() }
            if index == 40 { try redis.start() }
            let text = "n\(index)"
            members[index % 2 == 0 ? 0 : 2].send(text)
            expected.insert(text)
            try await Task.sleep(for: .milliseconds(20))
        }
        Support.expectOneOrder(await seen, expected: expected)
        for member in members { try? await member.close() }
    }

    @Test func aRedisBackWithOlderDataUnderTheSameEpochRotatesItAndClosesMembers1012() async throws {
        let redis = try ClusterRedis()
        let gateways = try (0..<2).map { _ in try Support.gateway(redisPort: redis.port) }
        defer { for gateway in gateways { gateway.stop() } }
        let members = [
            try await Support.member(port: gateways[0].port, dialect: .rfc6455),
            try await Support.member(port: gateways[1].port, dialect: .rfc6455),
        ]
        members[0].send("one")
        Support.expectOneOrder(await Support.collectAll(members, count: 1), expected: ["one"])
        try redis.command("SAVE")  // a snapshot with the room at offset 1
        for index in 0..<5 { members[index % 2].send("later-\(index)") }
        _ = await Support.collectAll(members, count: 5)
        redis.kill()
        try redis.start()  // back from the snapshot: offset 1 under the same epoch, offsets 2-6 gone
        let seen = await Support.collectAll(members, count: 1000, quiet: .seconds(15))
        for (index, member) in seen.enumerated() {
            #expect(member.messages.isEmpty, "member \(index) got \(member.messages)")
            #expect(member.closed?.code == .serviceRestart, "member \(index): \(String(describing: member.closed))")
            #expect(member.closed?.reason == "room state lost")
        }
        let metrics = try opsHTTPGet(port: gateways[0].adminPort ?? 0, path: "/metrics").body
            + (try opsHTTPGet(port: gateways[1].adminPort ?? 0, path: "/metrics").body)
        #expect(metrics.contains("wsgate_cluster_epoch_rotations_total 1"), "one gateway rotated the epoch")
        let fresh = [
            try await Support.member(port: gateways[1].port, dialect: .hixie76),
            try await Support.member(port: gateways[0].port, dialect: .rfc6455),
        ]
        fresh[1].send("fresh")
        Support.expectOneOrder(await Support.collectAll(fresh, count: 1), expected: ["fresh"])
    }

    @Test func rediss_TLSWithAuthAndSelectOnTheGatewaysOpenSSLClient() async throws {
        let redis = try ClusterRedis(tls: true, arguments: ["--requirepass", "s3cret"])
        let url = "rediss://:s3cret@localhost:\(redis.port)/3"
        let gateways = try (0..<2).map { _ in
            try Support.gateway(redisPort: redis.port, url: url, extra: "  tls_ca: certs-dev/ca.crt")
        }
        defer { for gateway in gateways { gateway.stop() } }
        let members = [
            try await Support.member(port: gateways[0].port, dialect: .rfc6455),
            try await Support.member(port: gateways[1].port, dialect: .hixie76),
        ]
        for index in 0..<10 { members[index % 2].send("tls-\(index)") }
        Support.expectOneOrder(await Support.collectAll(members, count: 10), expected: Set((0..<10).map { "tls-\($0)" }))
        // A gateway that does not trust the server's CA never comes up.
        let untrusting = try GatewayHarness(yaml: Support.yaml(redisPort: redis.port, url: url))
        defer { untrusting.stop() }
        try await Task.sleep(for: .milliseconds(500))
        #expect(Support.health(untrusting) == "ok\ncluster: down\n")
        for member in members { try? await member.close() }
    }

    @Test func aJoinerOnAnotherGatewayGetsTheHistoryFromTheStreamThenLiveMessages() async throws {
        let redis = try ClusterRedis()
        let gateways = try (0..<2).map { _ in try Support.gateway(redisPort: redis.port, history: 3) }
        defer { for gateway in gateways { gateway.stop() } }
        let sender = try await Support.member(port: gateways[0].port, dialect: .rfc6455)
        for index in 1...5 { sender.send("h\(index)") }
        _ = await Support.collect(sender, count: 5)
        // The second gateway has never seen the room: its history comes from the stream.
        let joiners = [
            try await Support.member(port: gateways[1].port, dialect: .hixie76),
            try await Support.member(port: gateways[1].port, dialect: .rfc6455),
            try await Support.member(port: gateways[0].port, dialect: .hixie75),
        ]
        sender.send("h6")
        let seen = await Support.collectAll(joiners, count: 4)
        for member in seen { #expect(member.messages == ["h3", "h4", "h5", "h6"], "\(member.messages)") }
        try? await sender.close()
    }

    @Test func aGapTrimmedFromTheStreamClosesTheMembersItCannotReach1012() async throws {
        let redis = try ClusterRedis()
        let gateways = try (0..<2).map { _ in try Support.gateway(redisPort: redis.port, streamLength: 5) }
        defer { for gateway in gateways { gateway.stop() } }
        let members = [
            try await Support.member(port: gateways[0].port, dialect: .rfc6455),
            try await Support.member(port: gateways[1].port, dialect: .rfc6455),
        ]
        members[0].send("shared")
        Support.expectOneOrder(await Support.collectAll(members, count: 1), expected: ["shared"])
        // One gateway loses Redis and cannot come back (no free client slot) while the other
        // publishes far more than the stream keeps.
        let admin = try redis.adminConnection()
        let clients = ((try await admin.send("CLIENT", "LIST").get()).string ?? "").split(separator: "\n").map { line in
            Dictionary(line.split(separator: " ").compactMap { field -> (String, String)? in
                let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
                return parts.count == 2 ? (parts[0], parts[1]) : nil
            }, uniquingKeysWith: { first, _ in first })
        }
        let victim = try #require(clients.compactMap { $0["name"] }.first { $0.hasPrefix("wsgate:") }?.split(separator: ":")[1])
        let victimIDs = clients.filter { $0["name"]?.hasPrefix("wsgate:\(victim):") == true }.compactMap { $0["id"] }
        #expect(victimIDs.count == 2, "a gateway has two connections: \(clients)")
        _ = try await admin.send("CONFIG", "SET", "maxclients", RESPArgument(max(1, clients.count - 2))).get()
        for id in victimIDs { _ = try await admin.send("CLIENT", "KILL", "ID", RESPArgument(id)).get() }
        var cut: Int? = nil
        _ = Support.eventually {
            cut = gateways.firstIndex { Support.health($0) == "ok\ncluster: down\n" }
            return cut != nil
        }
        let lost = try #require(cut, "one gateway is cut off")
        let kept = 1 - lost
        var expected: Set<String> = ["shared"]
        for index in 0..<300 {
            members[kept].send("burst-\(index)")
            expected.insert("burst-\(index)")
        }
        let keptSeen = await Support.collect(members[kept], count: 300)
        #expect(keptSeen.messages.count == 300 && keptSeen.closed == nil, "the connected gateway's member gets everything")
        _ = try await admin.send("CONFIG", "SET", "maxclients", 10000).get()
        // The cut-off gateway comes back, finds offsets it cannot read any more: never a silent gap.
        let lostSeen = await Support.collect(members[lost], count: 1000, quiet: .seconds(15))
        #expect(lostSeen.closed?.code == .serviceRestart, "\(String(describing: lostSeen.closed))")
        #expect(lostSeen.closed?.reason == "room state lost")
        #expect(lostSeen.messages.isEmpty, "nothing after the gap: \(lostSeen.messages.prefix(3))")
        try? await members[kept].close()
        try? await admin.close().get()
    }

    @Test func aHungRedisIsDetectedByTheCommandTimeoutsAndNothingIsLostWhenItGoesOn() async throws {
        let redis = try ClusterRedis()
        let gateways = try (0..<2).map { _ in try Support.gateway(redisPort: redis.port) }
        defer {
            redis.resume()
            for gateway in gateways { gateway.stop() }
        }
        let members = [
            try await Support.member(port: gateways[0].port, dialect: .rfc6455),
            try await Support.member(port: gateways[1].port, dialect: .hixie76),
        ]
        members[0].send("before")
        Support.expectOneOrder(await Support.collectAll(members, count: 1), expected: ["before"])
        redis.pause()
        // The heartbeat's PING gets no answer within the command timeout: the cluster is down.
        #expect(Support.eventually(timeout: .seconds(15)) { gateways.allSatisfy { Support.health($0) == "ok\ncluster: down\n" } })
        for index in 0..<3 { members[index % 2].send("during-\(index)") }
        try await Task.sleep(for: .milliseconds(200))
        redis.resume()
        let seen = await Support.collectAll(members, count: 3, quiet: .seconds(20))
        Support.expectOneOrder(seen, expected: ["during-0", "during-1", "during-2"])
        for member in members { try? await member.close() }
    }

    @Test func aGatewaySubscribesToARoomWhileItHasMembersThere() async throws {
        let redis = try ClusterRedis()
        let gateway = try Support.gateway(redisPort: redis.port)
        defer { gateway.stop() }
        func subscribers() throws -> Int? {
            try redis.command("PUBSUB", "NUMSUB", "test:room:lobby").array?.last?.int
        }
        #expect(try subscribers() == 0)
        let member = try await Support.member(port: gateway.port, dialect: .rfc6455)
        #expect(try subscribers() == 1, "subscribed before the 101")
        try await member.close()
        // Forgotten a while after its last member left (not at once: a member may come back).
        #expect(try Support.eventually(timeout: .seconds(20)) { try subscribers() == 0 })
        let again = try await Support.member(port: gateway.port, dialect: .hixie75)
        #expect(try subscribers() == 1)
        try? await again.close()
    }

    @Test func aHixie76Key3ArrivingAfterTheHeadStillOpensAClusterRoom() throws {
        let redis = try ClusterRedis()
        let gateway = try Support.gateway(redisPort: redis.port)
        defer { gateway.stop() }
        let request = LegacyTestSupport.hixie76Request(port: gateway.port, path: "/chat")
        let reply = try rawExchange(port: gateway.port, [request.head, request.key3], pauseBetweenChunks: 0.3, timeout: 2)
        let (head, rest) = LegacyTestSupport.splitResponse(reply)
        #expect(head.hasPrefix("HTTP/1.1 101 WebSocket Protocol Handshake"), "\(head)")
        #expect(Array(rest.prefix(16)) == request.token)
    }

    @Test func joinAndLeaveNoticesTakeTheSameOrderButAreNeverReplayed() async throws {
        let redis = try ClusterRedis()
        let gateways = try (0..<2).map { _ in try Support.gateway(redisPort: redis.port) }
        defer { for gateway in gateways { gateway.stop() } }
        let first = try await Support.member(port: gateways[0].port, dialect: .rfc6455, path: "/town")
        #expect(try await first.nextText() == "* an RFC 6455 member joined town (1 now)")
        let second = try await Support.member(port: gateways[1].port, dialect: .hixie76, path: "/town")
        // The other gateway's notice comes through Redis, in its place in the one order: first sees
        // it, then its own message after it; second sees both in the same order.
        #expect(try await first.nextText() == "* a hixie-76 member joined town (1 now)", "the other gateway's notice")
        first.send("hello")
        #expect(try await first.nextText() == "hello")
        let seen = await Support.collect(second, count: 2)
        #expect(seen.messages == ["* a hixie-76 member joined town (1 now)", "hello"], "the same order on the other gateway")
        try await second.close()
        #expect(try await first.nextText() == "* a hixie-76 member left town (0 now)")
        // History replays messages, never notices.
        let third = try await Support.member(port: gateways[1].port, dialect: .rfc6455, path: "/town")
        let replay = await Support.collect(third, count: 2)
        #expect(replay.messages == ["hello", "* an RFC 6455 member joined town (1 now)"], "\(replay.messages)")
        try? await first.close()
        try? await third.close()
    }

    @Test func redisDownAtGatewayStartRefusesRoomsWith503UntilItIsUp() async throws {
        let redis = try ClusterRedis(start: false)
        let gateway = try GatewayHarness(yaml: Support.yaml(redisPort: redis.port))  // Redis is not there
        defer { gateway.stop() }
        #expect(Support.health(gateway) == "ok\ncluster: down\n")
        #expect(await Support.refusedStatus(port: gateway.port) == 503)
        // Other routes do not depend on Redis.
        let echo = try await Support.member(port: gateway.port, dialect: .rfc6455, path: "/echo")
        echo.send("ping")
        #expect(try await echo.nextText() == "ping")
        try await echo.close()
        try redis.start()
        #expect(Support.eventually { Support.health(gateway) == "ok\ncluster: up\n" })
        let metrics = try opsHTTPGet(port: gateway.adminPort ?? 0, path: "/metrics").body
        #expect(metrics.contains("wsgate_cluster_up 1"))
        let members = [
            try await Support.member(port: gateway.port, dialect: .rfc6455),
            try await Support.member(port: gateway.port, dialect: .hixie76),
        ]
        members[1].send("hello")
        Support.expectOneOrder(await Support.collectAll(members, count: 1), expected: ["hello"])
    }

    @Test func publishesDuringAnOutageAreDeliveredAfterItOnceEach() async throws {
        let redis = try ClusterRedis(appendOnly: true)
        let gateways = try (0..<2).map { _ in try Support.gateway(redisPort: redis.port) }
        let small = try Support.gateway(redisPort: redis.port, outageQueue: 3)
        defer { for gateway in gateways + [small] { gateway.stop() } }
        let members = [
            try await Support.member(port: gateways[0].port, dialect: .rfc6455),
            try await Support.member(port: gateways[1].port, dialect: .hixie76),
            try await Support.member(port: gateways[1].port, dialect: .hixie75),
        ]
        let sender = try await Support.member(port: small.port, dialect: .rfc6455)
        members[0].send("first")
        _ = await Support.collectAll(members + [sender], count: 1)
        redis.kill()
        #expect(Support.eventually { (gateways + [small]).allSatisfy { Support.health($0) == "ok\ncluster: down\n" } })
        // New room members are refused while Redis is away; existing ones keep sending.
        #expect(await Support.refusedStatus(port: gateways[0].port) == 503)
        var expected = Set<String>()
        for index in 0..<5 {
            members[index % 2 == 0 ? 0 : 1].send("queued-\(index)")
            expected.insert("queued-\(index)")
        }
        // Past the bound of its outage queue, a sender is closed with 1013.
        for index in 0..<4 { sender.send("overflow-\(index)") }
        let closed = await Support.collect(sender, count: 1000)
        #expect(closed.closed?.code == .tryAgainLater, "\(String(describing: closed.closed))")
        try redis.start()
        let seen = await Support.collectAll(members, count: 1000, quiet: .seconds(8))
        for (index, member) in seen.enumerated() {
            #expect(member.closed == nil, "member \(index) was closed")
            // Each gateway publishes its queue in order (the two senders' queues interleave as Redis takes them).
            #expect(member.messages.filter { ["queued-0", "queued-2", "queued-4"].contains($0) } == ["queued-0", "queued-2", "queued-4"])
            #expect(member.messages.filter { ["queued-1", "queued-3"].contains($0) } == ["queued-1", "queued-3"])
            #expect(expected.isSubset(of: Set(member.messages)), "member \(index): \(member.messages)")
            #expect(Set(member.messages).count == member.messages.count, "member \(index) saw a duplicate")
        }
        #expect(seen.allSatisfy { $0.messages == seen[0].messages }, "one order")
        for member in members { try? await member.close() }
    }

    @Test func aGatewayKilledTakesOnlyItsOwnMembers() async throws {
        let redis = try ClusterRedis()
        let local = try Support.gateway(redisPort: redis.port)
        defer { local.stop() }
        let directory = try opsTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try Self.freePort()
        let adminPort = try Self.freePort()
        let yaml = Support.yaml(redisPort: redis.port)
            .replacingOccurrences(of: "  - bind: 127.0.0.1:0\n", with: "  - bind: 127.0.0.1:\(port)\n")
            .replacingOccurrences(of: "  bind: 127.0.0.1:0\n", with: "  bind: 127.0.0.1:\(adminPort)\n")
        let path = directory + "/cluster.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let child = try OpsGatewayProcess(configPath: path, waitForPorts: [port, adminPort])
        defer { child.kill() }
        #expect(Support.eventually { (try? opsHTTPGet(port: adminPort, path: "/healthz").body) == "ok\ncluster: up\n" })
        let ours = [
            try await Support.member(port: local.port, dialect: .rfc6455),
            try await Support.member(port: local.port, dialect: .hixie75),
        ]
        let theirs = [
            try await Support.member(port: port, dialect: .rfc6455),
            try await Support.member(port: port, dialect: .hixie76),
        ]
        theirs[0].send("hello from the other gateway")
        Support.expectOneOrder(await Support.collectAll(ours + theirs, count: 1), expected: ["hello from the other gateway"])
        #expect(Support.eventually { Support.clusterMembers(adminPort: local.adminPort ?? 0, room: "lobby") == 4 })
        child.kill()
        // The other gateway's members are counted out; ours carry on, unaffected.
        #expect(Support.eventually(timeout: .seconds(15)) { Support.clusterMembers(adminPort: local.adminPort ?? 0, room: "lobby") == 2 })
        var expected = Set<String>()
        for index in 0..<10 {
            ours[index % 2].send("after-\(index)")
            expected.insert("after-\(index)")
        }
        Support.expectOneOrder(await Support.collectAll(ours, count: 10), expected: expected)
        for member in ours { try? await member.close() }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
