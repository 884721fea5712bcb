import NIOConcurrencyHelpers
import NIOCore
import WSGateWire

/// Rooms that live in this process: a lock per room gives each message the next sequence number,
/// keeps the last `historyLimit` messages, and hands the message to the room under that lock, so
/// every member on every event loop sees one order.
struct InProcessBroker: RoomBroker {
    func ordering(forRoom name: String, historyLimit: Int) -> any RoomOrdering {
        InProcessRoomOrdering(historyLimit: historyLimit)
    }
}

/// One in-process room's sequence and history. Lock order: this lock, then the room's.
final class InProcessRoomOrdering: RoomOrdering {
    private struct State {
        var sequence: UInt64 = 0
        var history: CircularBuffer<RoomDelivery>
    }

    private let historyLimit: Int
    private let state: NIOLockedValueBox<State>

    init(historyLimit: Int) {
        self.historyLimit = historyLimit
        self.state = NIOLockedValueBox(State(history: CircularBuffer(initialCapacity: max(1, historyLimit))))
    }

    func join(_ member: RoomMember, room: Room) -> [RoomDelivery] {
        self.state.withLockedValue { state in
            room.addMember(member, after: state.sequence)
            return Array(state.history)
        }
    }

    func publish(_ message: GatewayMessage, from senderID: UInt64?, room: Room) {
        self.state.withLockedValue { state in
            state.sequence += 1
            let delivery = RoomDelivery(
                sequence: state.sequence, senderID: senderID, framed: FramedMessage(message, families: room.families))
            if self.historyLimit > 0, senderID != nil {
                if state.history.count == self.historyLimit { state.history.removeFirst() }
                state.history.append(delivery)
            }
            room.deliver(delivery)
        }
    }

    var messageCount: UInt64 { self.state.withLockedValue { $0.sequence } }

    var retainsHistory: Bool { self.state.withLockedValue { !$0.history.isEmpty } }
}
