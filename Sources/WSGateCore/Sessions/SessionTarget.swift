/// What a WebSocket connection is for, once open: a room or an echo (bridges have their own handler).
enum SessionTarget {
    /// Every message straight back to its sender.
    case echo
    /// Membership of a room.
    case room(name: String, historyLimit: Int, includeSender: Bool, announce: Bool)
}
