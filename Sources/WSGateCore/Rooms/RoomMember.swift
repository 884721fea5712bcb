import NIOCore
import WSGateWire

/// Receives a room's deliveries on its own event loop.
protocol RoomMemberSink: AnyObject {
    /// Writes bytes framed for the member's family (no flush). On the member's event loop only.
    func roomWrite(_ frame: ByteBuffer)
    /// Flushes what `roomWrite` wrote. On the member's event loop only.
    func roomFlush()
    /// The room's broker closes the member (cluster: 1012 room state lost, 1013 queue full): it
    /// leaves the room and is closed in its dialect. On the member's event loop only.
    func roomClose(code: WebSocketCloseCode, reason: String)
}

extension RoomMemberSink {
    func roomClose(code: WebSocketCloseCode, reason: String) {}
}

/// A member of a room: who it is, where it lives, and how it wants messages.
final class RoomMember {
    /// Unique for the life of the process.
    let id: UInt64
    /// The event loop of the member's channel; deliveries happen there.
    let eventLoop: EventLoop
    /// The frames it is written in.
    let family: FrameFamily
    /// Its dialect, for notices.
    let dialect: WebSocketDialect
    /// Whether it receives its own messages (its route's `include_sender`).
    let includeSender: Bool
    /// Whether it announces its joining and leaving (its route's `announce`).
    let announces: Bool
    /// Messages with a sequence up to this one were sent before it joined. Set under the room lock.
    var joinSequence: UInt64 = 0
    /// The handler that writes; cleared when the member leaves.
    weak var sink: RoomMemberSink?

    /// How notices name it: `a hixie-76 member`, `a hixie-75 member`, `an RFC 6455 member`.
    var noticeName: String {
        switch self.dialect {
        case .hixie75: return "a hixie-75 member"
        case .hixie76: return "a hixie-76 member"
        case .rfc6455: return "an RFC 6455 member"
        }
    }

    /// `family`: the frames it takes; by default its dialect's, uncompressed.
    init(
        id: UInt64, eventLoop: EventLoop, dialect: WebSocketDialect, family: FrameFamily? = nil, includeSender: Bool, announces: Bool,
        sink: RoomMemberSink
    ) {
        self.id = id
        self.eventLoop = eventLoop
        self.dialect = dialect
        self.family = family ?? FrameFamily(dialect)
        self.includeSender = includeSender
        self.announces = announces
        self.sink = sink
    }
}

// The member's mutable state is only touched under the room lock or on its own event loop.
extension RoomMember: @unchecked Sendable {}

/// Process-wide unique member identifiers.
enum MemberIDs {
    private static let counter = MetricCell()

    static func next() -> UInt64 {
        UInt64(counter.increment())
    }
}
