import NIOConcurrencyHelpers
import NIOCore

/// All rooms of the process, by name (room names are global: routes naming the same room share it).
///
/// A room exists while it has members or history. Lock order: registry, then room.
public final class RoomRegistry: @unchecked Sendable {
    private let lock = NIOLock()
    private var rooms: [String: Room] = [:]
    private let metrics: GatewayMetrics

    private let coalescingWindow: TimeAmount

    init(metrics: GatewayMetrics, coalescingWindow: TimeAmount = Room.defaultCoalescingWindow) {
        self.metrics = metrics
        self.coalescingWindow = coalescingWindow
    }

    /// Joins `member` to room `name`, creating it with `historyLimit` if it does not exist.
    func join(_ member: RoomMember, room name: String, historyLimit: Int) -> Room {
        let (room, replay): (Room, [RoomDelivery]) = self.lock.withLock {
            let room = self.rooms[name] ?? {
                let room = Room(name: name, historyLimit: historyLimit, metrics: self.metrics, coalescingWindow: self.coalescingWindow)
                self.rooms[name] = room
                return room
            }()
            return (room, room.addMember(member))
        }
        room.welcome(member, replay: replay)
        return room
    }

    /// Removes `member` from `room`, and forgets the room if it became empty with no history.
    func leave(_ member: RoomMember, room: Room) {
        self.lock.withLock {
            room.leave(member)
            if room.isDisposable, self.rooms[room.name] === room {
                self.rooms.removeValue(forKey: room.name)
            }
        }
    }

    /// A snapshot for `/rooms`: name, members, messages.
    public func snapshot() -> [(name: String, members: Int, messages: UInt64)] {
        let rooms = self.lock.withLock { Array(self.rooms.values) }
        return rooms.map { ($0.name, $0.count, $0.messageCount) }.sorted { $0.name < $1.name }
    }
}
