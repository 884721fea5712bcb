import NIOCore
import WSGateRedis
import WSGateWire

/// One room message as Redis carries it: in the room's stream (fields `e`, `m`, `k`, `s`, `d`) and
/// on the room's channel (the same values, one per line, the data last, as the publish script
/// writes them).
struct ClusterMessage: Sendable {
    /// What the message is: text, binary, or a gateway's join/leave notice (text, never replayed).
    enum Kind: String, Sendable {
        case text = "t"
        case binary = "b"
        case notice = "n"
    }

    /// The room's epoch when Redis gave the message its place.
    var epoch: String
    /// Its place in the room's order.
    var offset: UInt64
    /// Unique in the cluster: the publishing gateway's id and its counter (`gw:17`).
    var messageID: String
    var kind: Kind
    /// `gateway:member` of the sender, empty for a notice.
    var sender: String
    var data: ByteBuffer

    /// The message for the room's members.
    var gatewayMessage: GatewayMessage {
        switch self.kind {
        case .binary: return .binary(self.data)
        case .text, .notice: return .text(self.data)
        }
    }

    /// The local member that sent it, if it came from this gateway (for `include_sender: false`).
    func localSender(gatewayID: String) -> UInt64? {
        guard self.kind != .notice, self.sender.hasPrefix(gatewayID), let colon = self.sender.lastIndex(of: ":"),
            self.sender[..<colon] == gatewayID
        else { return nil }
        return UInt64(self.sender[self.sender.index(after: colon)...])
    }

    /// The messages of one PUBLISH on a room channel, in offset order: `epoch\ncount\n`, then for each
    /// `offset\nid\nkind\nsender\nlength\n` and `length` bytes of data (see `ClusterScripts.publish`).
    static func batch(payload: ByteBuffer) -> [ClusterMessage]? {
        var buffer = payload
        guard let epoch = Self.line(&buffer), let count = Self.line(&buffer).flatMap({ Int($0) }), count >= 0 else { return nil }
        var messages: [ClusterMessage] = []
        messages.reserveCapacity(count)
        for _ in 0..<count {
            guard let offset = Self.line(&buffer).flatMap({ UInt64($0) }), let id = Self.line(&buffer),
                let kind = Self.line(&buffer).flatMap({ Kind(rawValue: $0) }), let sender = Self.line(&buffer),
                let length = Self.line(&buffer).flatMap({ Int($0) }), let data = buffer.readSlice(length: length)
            else { return nil }
            messages.append(ClusterMessage(epoch: epoch, offset: offset, messageID: id, kind: kind, sender: sender, data: data))
        }
        return messages
    }

    private static func line(_ buffer: inout ByteBuffer) -> String? {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")),
            let line = buffer.readString(length: newline - buffer.readerIndex)
        else { return nil }
        buffer.moveReaderIndex(forwardBy: 1)
        return line
    }

    /// A stream entry as XRANGE gives it: `[id, [field, value, ...]]`.
    init?(streamEntry: RESPValue) {
        guard let parts = streamEntry.array, parts.count == 2, let id = parts[0].string, let fields = parts[1].array else { return nil }
        guard let dash = id.firstIndex(of: "-"), let offset = UInt64(id[..<dash]) else { return nil }
        var values: [String: RESPValue] = [:]
        var index = 0
        while index + 1 < fields.count {
            if let name = fields[index].string { values[name] = fields[index + 1] }
            index += 2
        }
        guard let epoch = values["e"]?.string, let messageID = values["m"]?.string, let kindText = values["k"]?.string,
            let kind = Kind(rawValue: kindText), let data = values["d"]?.bytes
        else { return nil }
        self.init(epoch: epoch, offset: offset, messageID: messageID, kind: kind, sender: values["s"]?.string ?? "", data: data)
    }

    init(epoch: String, offset: UInt64, messageID: String, kind: Kind, sender: String, data: ByteBuffer) {
        self.epoch = epoch
        self.offset = offset
        self.messageID = messageID
        self.kind = kind
        self.sender = sender
        self.data = data
    }
}

/// The Redis names of one room: its state hash, its stream and its channel (`{room}` is a hash tag,
/// so that a Redis Cluster would keep a room's keys together).
struct ClusterRoomKeys: Sendable {
    let meta: String
    let stream: String
    let channel: String

    init(prefix: String, room: String) {
        self.meta = "\(prefix):{\(room)}:meta"
        self.stream = "\(prefix):{\(room)}:stream"
        self.channel = Self.channelPrefix(prefix) + room
    }

    /// What every room channel starts with; the room name follows.
    static func channelPrefix(_ prefix: String) -> String { "\(prefix):room:" }
}
