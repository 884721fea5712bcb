import WSGateWire

/// What a WebSocket connection is for, once open: a room or an echo (bridges have their own handler).
///
/// One word wide: a room's settings are a reference, so that an echo session pays nothing for them.
enum SessionTarget {
    /// Every message straight back to its sender.
    case echo
    /// Membership of a room.
    case room(RoomSettings)

    /// Membership of room `name`.
    static func room(name: String, historyLimit: Int, includeSender: Bool, announce: Bool, family: FrameFamily? = nil) -> SessionTarget {
        .room(RoomSettings(name: name, historyLimit: historyLimit, includeSender: includeSender, announce: announce, family: family))
    }
}

/// How a member is in its room: the room's name and history, its route's `include_sender` and
/// `announce`. Immutable.
final class RoomSettings: Sendable {
    let name: String
    let historyLimit: Int
    let includeSender: Bool
    let announce: Bool
    /// The frames its deliveries come in (compressed when the connection negotiated it); nil:
    /// its dialect's.
    let family: FrameFamily?

    init(name: String, historyLimit: Int, includeSender: Bool, announce: Bool, family: FrameFamily?) {
        self.family = family
        self.name = name
        self.historyLimit = historyLimit
        self.includeSender = includeSender
        self.announce = announce
    }
}
