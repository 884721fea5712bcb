import NIOCore
import WSGateWire

/// Where a room's messages get their order and its history is kept: in this process
/// (`InProcessBroker`), or shared by every gateway on one Redis (the cluster).
///
/// `Room` keeps membership and fans out messages that are already in order; sessions publish
/// through the room's `RoomOrdering`, never into `Room` itself.
protocol RoomBroker: Sendable {
    /// The ordering of the room `name`, created when the room is.
    func ordering(forRoom name: String, historyLimit: Int) -> any RoomOrdering

    /// Whether a room handshake must wait for `prepare` before its 101 (the cluster: subscribed to
    /// the room and its top offset read).
    var needsPreparation: Bool { get }

    /// Readies room `name` for a member about to join; fails when it cannot (503).
    func prepare(room name: String, historyLimit: Int, on eventLoop: EventLoop) -> EventLoopFuture<Void>
}

extension RoomBroker {
    var needsPreparation: Bool { false }

    func prepare(room name: String, historyLimit: Int, on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        eventLoop.makeSucceededVoidFuture()
    }
}

/// One room's order and history, as its broker keeps them.
protocol RoomOrdering: AnyObject, Sendable {
    /// Adds `member` to `room` and returns the history to replay to it: the replay and what the
    /// room delivers to the member afterwards are contiguous (nothing missed, nothing twice).
    func join(_ member: RoomMember, room: Room) -> [RoomDelivery]

    /// Gives `message` its place in the room's order and hands it to `room` for fan-out, with
    /// every earlier message handed over first. `senderID` nil: a notice from the gateway, which
    /// is never kept in history.
    func publish(_ message: GatewayMessage, from senderID: UInt64?, room: Room)

    /// `member` left `room` (after `Room.leave`).
    func leave(_ member: RoomMember, room: Room)

    /// Messages published so far.
    var messageCount: UInt64 { get }

    /// Whether the room must be kept while it has no members (its history would be lost).
    var retainsHistory: Bool { get }
}

extension RoomOrdering {
    func leave(_ member: RoomMember, room: Room) {}
}
