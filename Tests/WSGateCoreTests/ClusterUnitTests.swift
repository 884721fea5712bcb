import NIOCore
import Testing
import WSGateRedis
@testable import WSGateCore

/// The cluster's pure parts: the outage queue and the wire form of a room message.
struct ClusterUnitTests {
    private func item(_ counter: UInt64) -> ClusterOutbox.Item {
        .init(counter: counter, kind: .text, senderID: 7, data: ByteBuffer(string: "m\(counter)"))
    }

    @Test func theOutboxKeepsPublishOrderAcrossALostConnection() {
        var outbox = ClusterOutbox(limit: 3)
        let added = (1...4).map { outbox.append(self.item(UInt64($0)), isConnected: false) }
        #expect(added == [true, true, true, false], "past the outage bound: the sender is closed 1013")
        let first = outbox.takeBatch(max: 2).map(\.counter)
        #expect(first == [1, 2])
        outbox.acknowledgeFirst()
        // The connection is lost with message 2 in flight: it goes first again.
        outbox.requeueInFlight()
        let again = outbox.takeBatch(max: 10).map(\.counter)
        #expect(again == [2, 3])
        #expect(outbox.count == 2)
        let burst = outbox.append(self.item(4), isConnected: true)
        #expect(burst, "connected: a burst waits for its round trip")
    }

    @Test func aChannelMessageAndAStreamEntryDecodeToTheSameMessage() throws {
        var payload = ByteBuffer(string: "e1\n2\n42\ngw:9\nb\ngw:5\n3\n")
        payload.writeBytes([0, 10, 255])
        payload.writeString("43\ngw:10\nn\n\n0\n")
        let batch = try #require(ClusterMessage.batch(payload: payload))
        #expect(batch.count == 2)
        let message = batch[0]
        #expect(message.epoch == "e1" && message.offset == 42 && message.messageID == "gw:9" && message.kind == .binary)
        #expect(message.data == ByteBuffer(bytes: [0, 10, 255]), "data may hold newlines and any byte")
        #expect(message.localSender(gatewayID: "gw") == 5)
        #expect(message.localSender(gatewayID: "other") == nil)
        #expect(batch[1].offset == 43 && batch[1].kind == .notice && batch[1].data.readableBytes == 0 && batch[1].epoch == "e1")
        let entry = RESPValue.array([
            .bulkString(ByteBuffer(string: "42-0")),
            .array(["e", "e1", "m", "gw:9", "k", "b", "s", "gw:5"].map { RESPValue.bulkString(ByteBuffer(string: $0)) }
                + [.bulkString(ByteBuffer(string: "d")), .bulkString(ByteBuffer(bytes: [0, 10, 255]))]),
        ])
        let stored = try #require(ClusterMessage(streamEntry: entry))
        #expect(stored.offset == 42 && stored.messageID == "gw:9" && stored.data == message.data && stored.sender == "gw:5")
        #expect(ClusterMessage.batch(payload: ByteBuffer(string: "no header")) == nil)
        #expect(ClusterMessage.batch(payload: ByteBuffer(string: "e\n1\n5\nid\nt\n\n9\nshort")) == nil, "data shorter than its length")
    }
}
