import NIOCore
import NIOEmbedded
import Testing
import WSGateWire
@testable import WSGateCore

/// A member's writes, decoded back into text payloads (the room writes RFC 6455 frames).
private final class RecordingSink: RoomMemberSink {
    var frames: [ByteBuffer] = []
    var flushes = 0
    func roomWrite(_ frame: ByteBuffer) { self.frames.append(frame) }
    func roomFlush() { self.flushes += 1 }

    /// Every frame of every write (a write may carry several frames back to back).
    var texts: [String] {
        self.frames.flatMap { frame in
            var frame = frame
            var texts: [String] = []
            while frame.readableBytes > 0 {
                let first = frame.readInteger(as: UInt8.self)
                let length = Int(frame.readInteger(as: UInt8.self) ?? 0)
                precondition(first == 0x81 && length < 126, "short text frames only in these tests")
                texts.append(frame.readString(length: length) ?? "")
            }
            return texts
        }
    }
}

private final class Fixture {
    let metrics = GatewayMetrics()
    let registry: RoomRegistry
    let loops = [EmbeddedEventLoop(), EmbeddedEventLoop()]
    var sinks: [RecordingSink] = []  // members hold their sinks weakly
    private var nextID: UInt64 = 1_000_000

    /// `coalescingWindow` zero: every publish is delivered at the loop's next turn.
    init(coalescingWindow: TimeAmount = .zero) {
        self.registry = RoomRegistry(metrics: self.metrics, coalescingWindow: coalescingWindow)
    }

    func join(
        _ room: String, loop: Int, history: Int = 0, includeSender: Bool = true, announce: Bool = false, family: FrameFamily? = nil
    ) -> (member: RoomMember, sink: RecordingSink, room: Room) {
        let sink = RecordingSink()
        self.sinks.append(sink)
        self.nextID += 1
        let member = RoomMember(
            id: self.nextID, eventLoop: self.loops[loop], dialect: .rfc6455(version: 13), family: family, includeSender: includeSender,
            announces: announce, sink: sink)
        let joined = self.registry.join(member, room: room, historyLimit: history)
        return (member, sink, joined)
    }

    func runLoops() { for loop in self.loops { loop.run() } }

    /// `joined` publishes `text` to its room.
    func publish(_ text: String, by joined: (member: RoomMember, sink: RecordingSink, room: Room)) {
        joined.room.ordering.publish(.text(text), from: joined.member.id, room: joined.room)
    }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct RoomTests {
    @Test func everyMemberOnEveryLoopSeesEveryMessageOnceInTheSameOrder() {
        let fixture = Fixture()
        let a = fixture.join("r", loop: 0)
        let b = fixture.join("r", loop: 1)
        let c = fixture.join("r", loop: 0)
        var expected: [String] = []
        for i in 0..<30 {
            let sender = [a, b, c][i % 3]
            sender.room.ordering.publish(.text("m\(i)"), from: sender.member.id, room: sender.room)
            expected.append("m\(i)")
            if i % 7 == 0 { fixture.loops[i % 2].run() }  // drain one loop part way, the other later
        }
        fixture.runLoops()
        #expect(a.sink.texts == expected)
        #expect(b.sink.texts == expected)
        #expect(c.sink.texts == expected)
        #expect(a.room === b.room)
        #expect(fixture.metrics.roomMessages.load == 30)
        #expect(fixture.metrics.roomDeliveries.load == 90)
    }

    @Test func atHighRatesMessagesWithinTheWindowGoOutTogetherAndInOrder() {
        let fixture = Fixture(coalescingWindow: .milliseconds(4))
        let a = fixture.join("r", loop: 0)
        let loop = fixture.loops[0]
        a.room.ordering.publish(.text("m0"), from: nil, room: a.room)
        loop.run()
        #expect(a.sink.texts == ["m0"], "the first message after a quiet spell goes at once")
        #expect(a.sink.flushes == 1)
        a.room.ordering.publish(.text("m1"), from: nil, room: a.room)
        a.room.ordering.publish(.text("m2"), from: nil, room: a.room)
        loop.advanceTime(by: .milliseconds(3))
        #expect(a.sink.texts == ["m0"], "within the window after a delivery, messages wait")
        loop.advanceTime(by: .milliseconds(1))
        #expect(a.sink.texts == ["m0", "m1", "m2"], "then go out together, in order")
        #expect(a.sink.flushes == 2, "one flush for both")
        loop.advanceTime(by: .milliseconds(10))
        a.room.ordering.publish(.text("m3"), from: nil, room: a.room)
        loop.run()
        #expect(a.sink.texts == ["m0", "m1", "m2", "m3"], "after a quiet window, at once again")
    }

    @Test func theMessagesOfOneDrainGoOutAsOneSharedWriteAndOneFlush() {
        let fixture = Fixture()
        let a = fixture.join("r", loop: 0)
        let b = fixture.join("r", loop: 0)
        for i in 0..<10 { a.room.ordering.publish(.text("m\(i)"), from: nil, room: a.room) }
        fixture.runLoops()
        #expect(a.sink.frames.count == 1, "ten frames back to back in one buffer")
        #expect(a.sink.texts == (0..<10).map { "m\($0)" })
        #expect(a.sink.flushes == 1)
        #expect(b.sink.frames.first?.withUnsafeReadableBytes { $0.baseAddress } == a.sink.frames.first?.withUnsafeReadableBytes { $0.baseAddress },
                "the same buffer for both, not equal copies")
        #expect(fixture.metrics.roomDeliveries.load == 20)
    }

    @Test func aMemberThatMustSkipSomeOfADrainGetsTheRestOneByOne() {
        let fixture = Fixture()
        let quiet = fixture.join("r", loop: 0, includeSender: false)
        let all = fixture.join("r", loop: 0)
        fixture.publish("q", by: quiet)
        fixture.publish("x", by: all)
        let late = fixture.join("r", loop: 0)  // joins between the drain's messages
        fixture.publish("y", by: all)
        fixture.runLoops()
        #expect(quiet.sink.texts == ["x", "y"])
        #expect(all.sink.texts == ["q", "x", "y"])
        #expect(all.sink.frames.count == 1)
        #expect(late.sink.texts == ["y"])
        #expect(fixture.metrics.roomDeliveries.load == 6)
    }

    @Test func aMemberSeesOnlyMessagesSentAfterItJoined() {
        let fixture = Fixture()
        let a = fixture.join("r", loop: 0)
        a.room.ordering.publish(.text("before"), from: a.member.id, room: a.room)
        let b = fixture.join("r", loop: 0)  // joins while "before" is still pending on the loop
        a.room.ordering.publish(.text("after"), from: a.member.id, room: a.room)
        fixture.runLoops()
        #expect(a.sink.texts == ["before", "after"])
        #expect(b.sink.texts == ["after"])
    }

    @Test func withIncludeSenderFalseTheSenderDoesNotGetItsOwnMessages() {
        let fixture = Fixture()
        let quiet = fixture.join("r", loop: 0, includeSender: false)
        let other = fixture.join("r", loop: 1)
        fixture.publish("from quiet", by: quiet)
        fixture.publish("from other", by: other)
        fixture.runLoops()
        #expect(quiet.sink.texts == ["from other"])
        #expect(other.sink.texts == ["from quiet", "from other"])
    }

    @Test func aNewMemberGetsTheLastMessagesOfHistoryInOrder() {
        let fixture = Fixture()
        let a = fixture.join("h", loop: 0, history: 3)
        for i in 1...5 { a.room.ordering.publish(.text("m\(i)"), from: a.member.id, room: a.room) }
        fixture.runLoops()
        let b = fixture.join("h", loop: 1, history: 3)
        #expect(b.sink.texts == ["m3", "m4", "m5"])
        a.room.ordering.publish(.text("m6"), from: a.member.id, room: a.room)
        fixture.runLoops()
        #expect(b.sink.texts == ["m3", "m4", "m5", "m6"])
    }

    @Test func gatewayNoticesAreNotKeptInHistory() {
        let fixture = Fixture()
        let a = fixture.join("h", loop: 0, history: 5, announce: true)
        a.room.ordering.publish(.text("hello"), from: a.member.id, room: a.room)
        fixture.runLoops()
        let b = fixture.join("h", loop: 0, history: 5)
        #expect(b.sink.texts == ["hello"])
    }

    @Test func announcingMembersPublishJoinAndLeaveNotices() {
        let fixture = Fixture()
        let watcher = fixture.join("lobby", loop: 0)
        let guest = fixture.join("lobby", loop: 1, announce: true)
        fixture.runLoops()
        fixture.registry.leave(guest.member, room: guest.room)
        fixture.runLoops()
        #expect(watcher.sink.texts == ["* an RFC 6455 member joined lobby (2 now)", "* an RFC 6455 member left lobby (1 now)"])
    }

    @Test func aMemberThatLeftReceivesNothingMore() {
        let fixture = Fixture()
        let a = fixture.join("r", loop: 0)
        let b = fixture.join("r", loop: 0)
        a.room.ordering.publish(.text("one"), from: nil, room: a.room)
        fixture.registry.leave(b.member, room: b.room)
        a.room.ordering.publish(.text("two"), from: nil, room: a.room)
        fixture.runLoops()
        #expect(a.sink.texts == ["one", "two"])
        #expect(b.sink.texts.isEmpty)
        #expect(a.room.count == 1)
        #expect(fixture.metrics.roomMembers.load == 1)
    }

    @Test func roomsWithDifferentNamesAreIsolated() {
        let fixture = Fixture()
        let a = fixture.join("a", loop: 0)
        let b = fixture.join("b", loop: 0)
        a.room.ordering.publish(.text("for a"), from: a.member.id, room: a.room)
        b.room.ordering.publish(.text("for b"), from: b.member.id, room: b.room)
        fixture.runLoops()
        #expect(a.sink.texts == ["for a"])
        #expect(b.sink.texts == ["for b"])
        #expect(fixture.registry.snapshot().map(\.name) == ["a", "b"])
    }

    @Test func anEmptyRoomWithoutHistoryIsForgotten() {
        let fixture = Fixture()
        let a = fixture.join("gone", loop: 0)
        fixture.registry.leave(a.member, room: a.room)
        #expect(fixture.registry.snapshot().isEmpty)
        let h = fixture.join("kept", loop: 0, history: 2)
        h.room.ordering.publish(.text("x"), from: h.member.id, room: h.room)
        fixture.registry.leave(h.member, room: h.room)
        fixture.runLoops()
        #expect(fixture.registry.snapshot().map(\.name) == ["kept"])
    }

    /// permessage-deflate in a room: one deflate per message per window size, whatever the number
    /// of members, and every member of a family gets the very same bytes.
    @Test func twoHundredCompressingMembersCostOneDeflatePerMessage() throws {
        let fixture = Fixture()
        let deflate12 = FrameFamily.rfc6455Deflate(windowBits: 12, minBytes: 64)
        var members: [(member: RoomMember, sink: RecordingSink, room: Room)] = []
        for i in 0..<200 { members.append(fixture.join("big", loop: i % 2, family: deflate12)) }
        let plain = fixture.join("big", loop: 0)
        let room = members[0].room
        let message = String(repeating: "{\"from\":\"ann\",\"text\":\"good morning everyone\"}", count: 10)
        for i in 0..<10 {
            room.ordering.publish(.text("\(i) " + message), from: nil, room: room)
            fixture.runLoops()  // one message per drain: one frame per write
        }
        #expect(fixture.metrics.roomCompressions.load == 10, "one deflate per message for 200 members")
        for (_, sink, _) in members {
            #expect(sink.frames.count == 10)
            #expect(sink.frames.first.flatMap { $0.getInteger(at: $0.readerIndex, as: UInt8.self) } == 0xC1, "FIN, RSV1, text")
        }
        // The same bytes, not equal copies: one buffer shared by all 200.
        let first = members[0].sink.frames[3]
        for (_, sink, _) in members.dropFirst() {
            #expect(sink.frames[3].withUnsafeReadableBytes { $0.baseAddress } == first.withUnsafeReadableBytes { $0.baseAddress })
        }
        var payload = first
        payload.moveReaderIndex(forwardBy: 1)
        let length = payload.readInteger(as: UInt8.self) ?? 0
        if length == 126 { payload.moveReaderIndex(forwardBy: 2) }
        let inflated = try Inflater(windowBits: 12, noContextTakeover: true).decompress(payload, maxOutputBytes: 1 << 20)
        #expect(String(buffer: inflated) == "3 " + message)
        #expect(plain.sink.frames.count == 10)
        #expect(plain.sink.frames.allSatisfy { $0.getInteger(at: $0.readerIndex, as: UInt8.self) == 0x81 }, "a member without compression gets plain frames")
    }
}
