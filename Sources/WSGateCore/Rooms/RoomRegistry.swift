import NIOConcurrencyHelpers
import NIOCore
import WSGateWire

/// All rooms of the process, by name (room names are global: routes naming the same room share
/// it), each with the ordering its broker gives it.
///
/// A room exists while it has members or history. Lock order: registry, then the room's
/// ordering, then the room.
public final class RoomRegistry: @unchecked Sendable {  // `rooms` is guarded by `lock`
    private let lock = NIOLock()
    private var rooms: [String: Room] = [:]
    private let broker: any RoomBroker
    private let metrics: GatewayMetrics
    private let coalescingWindow: TimeAmount

    init(metrics: GatewayMetrics, broker: any RoomBroker = InProcessBroker(), coalescingWindow: TimeAmount = Room.defaultCoalescingWindow) {
        self.metrics = metrics
        self.broker = broker
        self.coalescingWindow = coalescingWindow
    }

    /// Joins `member` to room `name`, creating it with `historyLimit` if it does not exist, and
    /// writes it the history (on the member's event loop, which the caller is on).
    func join(_ member: RoomMember, room name: String, historyLimit: Int) -> Room {
        let (room, replay): (Room, [RoomDelivery]) = self.lock.withLock {
            let room = self.rooms[name] ?? {
                let room = Room(
                    name: name, ordering: self.broker.ordering(forRoom: name, historyLimit: historyLimit),
                    metrics: self.metrics, coalescingWindow: self.coalescingWindow)
                self.rooms[name] = room
                return room
            }()
            return (room, room.ordering.join(member, room: room))
        }
        room.welcome(member, replay: replay)
        return room
    }

    /// Whether room handshakes wait for `prepare` (cluster rooms).
    var needsPreparation: Bool { self.broker.needsPreparation }

    /// Readies room `name` for a member about to join (cluster: subscribed, top offset read).
    func prepare(room name: String, historyLimit: Int, on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        self.broker.prepare(room: name, historyLimit: historyLimit, on: eventLoop)
    }

    /// The cluster's broker, when rooms are shared through Redis.
    var cluster: RedisBroker? { self.broker as? RedisBroker }

    /// Whether Redis is reachable (nil without a cluster).
    public var clusterIsUp: Bool? { self.cluster.map(\.isAvailable) }

    /// Members per room in the whole cluster (nil without a cluster).
    public var clusterMembers: [String: Int]? { self.cluster?.clusterMembers }

    /// Publishes a member's message to its room, through the room's broker.
    func publish(_ message: GatewayMessage, from member: RoomMember, in room: Room) {
        room.ordering.publish(message, from: member.id, room: room)
    }

    /// Removes `member` from `room`, and forgets the room if it became empty with no history.
    func leave(_ member: RoomMember, room: Room) {
        self.lock.withLock {
            room.leave(member)
            room.ordering.leave(member, room: room)
            if room.isDisposable, self.rooms[room.name] === room {
                self.rooms.removeValue(forKey: room.name)
            }
        }
    }

    /// A snapshot for `/rooms`: name, members, messages.
    public func snapshot() -> [(name: String, members: Int, messages: UInt64)] {
        let rooms = self.lock.withLock { Array(self.rooms.values) }
        return rooms.map { ($0.name, $0.count, $0.ordering.messageCount) }.sorted { $0.name < $1.name }
    }
}
