import WSGateWire

/// One message of a room, in its place in the room's order, framed once per family and shared by
/// every member (the same bytes are written to every member of a family).
struct RoomDelivery: Sendable {
    /// The room's sequence number: the one order every member sees.
    let sequence: UInt64
    /// The member that sent it (nil for notices from the gateway).
    let senderID: UInt64?
    /// The message and its frames.
    let framed: FramedMessage
}
