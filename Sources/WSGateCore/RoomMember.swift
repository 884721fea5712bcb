import NIOCore
import WSGateWire

/// Receives a room's deliveries on its own event loop.
protocol RoomMemberSink: AnyObject {
    /// Writes one encoded frame (no flush). Called on the member's event loop only.
    func roomWrite(_ frame: ByteBuffer)
    /// Flushes what `roomWrite` wrote. Called on the member's event loop only.
    func roomFlush()
}

/// A member of a room: who it is, where it lives, and how it wants messages.
final class RoomMember {
    /// Unique for the life of the process.
    let id: UInt64
    /// The event loop of the member's channel; deliveries happen there.
    let eventLoop: EventLoop
    /// Whether it needs hixie frames.
    let isHixie: Bool
    /// Whether it receives its own messages (its route's `include_sender`).
    let includeSender: Bool
    /// Whether it announces its joining and leaving (its route's `announce`).
    let announces: Bool
    /// Messages with a sequence up to this one were sent before it joined. Set under the room lock.
    var joinSequence: UInt64 = 0
    /// The handler that writes; cleared when the member leaves.
    weak var sink: RoomMemberSink?

    init(id: UInt64, eventLoop: EventLoop, isHixie: Bool, includeSender: Bool, announces: Bool, sink: RoomMemberSink) {
        self.id = id
        self.eventLoop = eventLoop
        self.isHixie = isHixie
        self.includeSender = includeSender
        self.announces = announces
        self.sink = sink
    }
}

// The member's mutable state is only touched under the room lock or on its own event loop.
extension RoomMember: @unchecked Sendable {}
