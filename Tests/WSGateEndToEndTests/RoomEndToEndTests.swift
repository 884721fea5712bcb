import Foundation
import Testing

/// Issue #3: rooms end to end with python websockets (and raw sockets for the slow consumer).
@Suite(.serialized, .timeLimit(.minutes(1)))
final class RoomEndToEndTests {
    let harness: GatewayHarness
    var port: Int { self.harness.port }

    init() throws {
        self.harness = try GatewayHarness(
            yaml: GatewayHarness.yaml(routes: """
                  - path: /chat
                    room: lobby
                  - path: /history
                    room: hist
                    history: 3
                  - path: /quiet
                    room: quietroom
                    include_sender: false
                  - path: /announce
                    room: town
                    announce: true
                  - path: /rooms/*
                    room: "*"
                  - path: /order
                    room: order
                  - path: /slow
                    room: slowroom
                    send_queue_bytes: 65536
                  - path: /slow-sender
                    room: slowroom
                    include_sender: false
                    send_queue_bytes: 65536

                """))
    }

    deinit { self.harness.stop() }

    @Test func aMessageReachesAllTwentyMembersIncludingTheSender() throws {
        let lines = try rfcPython("""
            async def main():
                members = [await websockets.connect(URL + "/chat") for _ in range(20)]
                await members[7].send("hello room")
                got = await asyncio.gather(*[asyncio.wait_for(m.recv(), 5) for m in members])
                print(json.dumps(got))
                for m in members:
                    await m.close()
            asyncio.run(main())
            """, port: self.port)
        let got = try JSONDecoder().decode([String].self, from: Data((lines.last ?? "[]").utf8))
        #expect(got == Array(repeating: "hello room", count: 20))
    }

    @Test func aNewMemberGetsTheLastThreeMessagesThenLiveOnes() throws {
        let lines = try rfcPython("""
            async def main():
                a = await websockets.connect(URL + "/history")
                for i in range(1, 6):
                    await a.send("m%d" % i)
                for i in range(1, 6):
                    await asyncio.wait_for(a.recv(), 5)  # own copies: all five were published
                b = await websockets.connect(URL + "/history")
                got = [await asyncio.wait_for(b.recv(), 5) for _ in range(3)]
                await a.send("m6")
                got.append(await asyncio.wait_for(b.recv(), 5))
                print(json.dumps(got))
                await a.close(); await b.close()
            asyncio.run(main())
            """, port: self.port)
        #expect(lines.last == #"["m3", "m4", "m5", "m6"]"#)
    }

    @Test func withIncludeSenderFalseTheSenderDoesNotGetItsOwnMessage() throws {
        let lines = try rfcPython("""
            async def main():
                a = await websockets.connect(URL + "/quiet")
                b = await websockets.connect(URL + "/quiet")
                await a.send("from a")
                print("b got", await asyncio.wait_for(b.recv(), 5))
                await b.send("from b")
                # one shared order: had a received its own message, it would come before "from b"
                print("a got", await asyncio.wait_for(a.recv(), 5))
                try:
                    extra = await asyncio.wait_for(b.recv(), 0.3)
                    print("b also got", extra)
                except asyncio.TimeoutError:
                    pass
                await a.close(); await b.close()
            asyncio.run(main())
            """, port: self.port)
        #expect(lines == ["b got from a", "a got from b"])
    }

    @Test func announceSendsNoticesWhenMembersJoinAndLeave() throws {
        let lines = try rfcPython("""
            async def main():
                a = await websockets.connect(URL + "/announce")
                print(await asyncio.wait_for(a.recv(), 5))
                b = await websockets.connect(URL + "/announce")
                print(await asyncio.wait_for(a.recv(), 5))
                await b.close()
                print(await asyncio.wait_for(a.recv(), 5))
                await a.close()
            asyncio.run(main())
            """, port: self.port)
        #expect(lines == ["* an RFC 6455 member joined town (1 now)", "* an RFC 6455 member joined town (2 now)", "* an RFC 6455 member left town (1 now)"])
    }

    @Test func prefixRoomsAreIsolatedByName() throws {
        let lines = try rfcPython("""
            async def main():
                a1 = await websockets.connect(URL + "/rooms/a")
                a2 = await websockets.connect(URL + "/rooms/a")
                b1 = await websockets.connect(URL + "/rooms/b")
                await b1.send("B")
                print("b1", await asyncio.wait_for(b1.recv(), 5))
                await a1.send("A")
                print("a2", await asyncio.wait_for(a2.recv(), 5))
                print("a1", await asyncio.wait_for(a1.recv(), 5))
                leaked = []
                for ws, name in ((a1, "a1"), (a2, "a2"), (b1, "b1")):
                    try:
                        leaked.append(name + ":" + await asyncio.wait_for(ws.recv(), 0.3))
                    except asyncio.TimeoutError:
                        pass
                print("leaked", json.dumps(leaked))
                for ws in (a1, a2, b1):
                    await ws.close()
            asyncio.run(main())
            """, port: self.port)
        #expect(lines == ["b1 B", "a2 A", "a1 A", "leaked []"])
    }

    @Test func aPrefixRoomNeedsExactlyOneNameSegment() throws {
        for path in ["/rooms", "/rooms/", "/rooms/a/b"] {
            let socket = try RFCSocket(port: self.port)
            socket.send(rfcUpgradeRequest(path: path, port: self.port))
            #expect(socket.readResponseHead()?.status == 404, "\(path)")
        }
    }

    @Test func fourConcurrentSendersReachFiveReceiversExactlyOnceInOneOrder() throws {
        let lines = try rfcPython("""
            SENDERS, EACH, RECEIVERS = 4, 200, 5
            async def receive(ws):
                got = []
                while len(got) < SENDERS * EACH:
                    got.append(await asyncio.wait_for(ws.recv(), 10))
                return got
            async def send(ws, s):
                for i in range(EACH):
                    await ws.send("s%d-%d" % (s, i))
            async def drain(ws):
                try:
                    while True:
                        await ws.recv()
                except websockets.ConnectionClosed:
                    pass
            async def main():
                receivers = [await websockets.connect(URL + "/order") for _ in range(RECEIVERS)]
                senders = [await websockets.connect(URL + "/order") for _ in range(SENDERS)]
                drains = [asyncio.ensure_future(drain(s)) for s in senders]
                results = asyncio.gather(*[receive(r) for r in receivers])
                await asyncio.gather(*[send(w, i) for i, w in enumerate(senders)])
                for got in await results:
                    print(",".join(got))
                for ws in senders + receivers:
                    await ws.close()
                await asyncio.gather(*drains)
            asyncio.run(main())
            """, port: self.port, timeout: 40)
        try #require(lines.count == 5, "expected five receivers' lists")
        let lists = lines.map { $0.split(separator: ",").map(String.init) }
        let expected = Set((0..<4).flatMap { s in (0..<200).map { "s\(s)-\($0)" } })
        for (index, list) in lists.enumerated() {
            #expect(list.count == 800, "receiver \(index) got \(list.count)")
            #expect(Set(list).count == list.count, "receiver \(index) got duplicates")
            #expect(Set(list) == expected, "receiver \(index) missed messages")
            for s in 0..<4 {  // each sender's own order is kept
                let mine = list.filter { $0.hasPrefix("s\(s)-") }
                #expect(mine == (0..<200).map { "s\(s)-\($0)" }, "receiver \(index), sender \(s)")
            }
        }
        for list in lists.dropFirst() { #expect(list == lists[0], "receivers disagree on the order") }
    }

    @Test func aMemberThatNeverReadsIsClosedWith1008WhileOthersKeepReceiving() throws {
        let before = self.harness.gateway.metrics.slowConsumerCloses.load
        // The slow member: a raw socket with a small receive window that reads nothing after its 101.
        let slow = try rfcOpenWebSocket(port: self.port, path: "/slow", receiveBuffer: 4096)
        let result = ThreadResult()
        let port = self.port
        let thread = Thread {
            result.lines = (try? rfcPython("""
                COUNT, SIZE, WINDOW = 320, 16384, 3   # 5 MiB; the sender stays at most WINDOW messages ahead
                async def main():
                    normal = await websockets.connect(URL + "/slow", max_size=None)
                    sender = await websockets.connect(URL + "/slow-sender", max_size=None)
                    received = 0
                    progressed = asyncio.Event()
                    async def receive():
                        nonlocal received
                        while received < COUNT:
                            m = await asyncio.wait_for(normal.recv(), 10)
                            assert len(m) == SIZE and m[:4] == received.to_bytes(4, "big"), "out of order at %d" % received
                            received += 1
                            progressed.set()
                    r = asyncio.ensure_future(receive())
                    for i in range(COUNT):
                        while i - received >= WINDOW:
                            progressed.clear()
                            await asyncio.wait_for(progressed.wait(), 10)
                        await sender.send(i.to_bytes(4, "big") + bytes(SIZE - 4))
                    await r
                    print("normal got", received)
                    await normal.close(); await sender.close()
                asyncio.run(main())
                """, port: port, timeout: 40)) ?? []
            result.done.signal()
        }
        thread.start()
        // Once the gateway gave up on the slow member, read what it had queued: the stream must end with close 1008.
        #expect(rfcWait(timeout: 30) { self.harness.gateway.metrics.slowConsumerCloses.load > before })
        #expect(slow.readToEnd(timeout: 15), "the slow member's connection was not closed")
        let frames = rfcParseFrames(slow.takePending()).frames
        #expect(frames.last?.opcode == 0x8)
        #expect(frames.last?.closeCode == 1008)
        #expect(frames.dropLast().allSatisfy { $0.opcode == 0x2 && $0.payload.count == 16384 })
        #expect(result.done.wait(timeout: .now() + 45) == .success)
        #expect(result.lines == ["normal got 320"])
        #expect(self.harness.gateway.metrics.slowConsumerCloses.load >= 1)
        #expect(self.harness.gateway.metrics.slowConsumerCloses.load == before + 1, "only the slow member is a slow consumer")
    }
}

/// Output of a python run on another thread.
final class ThreadResult: @unchecked Sendable {
    var lines: [String] = []
    let done = DispatchSemaphore(value: 0)
}
