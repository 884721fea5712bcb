import NIOCore

/// A message published to a channel this connection subscribed to (`message`), to a channel matching
/// a pattern it subscribed to (`pmessage`), or to a shard channel (`smessage`).
public struct RedisPubSubMessage: Sendable, Hashable {
    /// The channel the message was published to.
    public var channel: String
    /// The pattern that matched the channel, for a `PSUBSCRIBE` subscription.
    public var pattern: String?
    /// The published bytes.
    public var payload: ByteBuffer
    /// True for a shard channel message (`SSUBSCRIBE`).
    public var isSharded: Bool

    /// A message from its parts.
    public init(channel: String, pattern: String? = nil, payload: ByteBuffer, isSharded: Bool = false) {
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
        self.isSharded = isSharded
    }

    /// The message of a RESP3 push or RESP2 pub/sub array; `nil` for subscription confirmations and
    /// other values.
    public init?(_ value: RESPValue) {
        guard let elements = value.array, let kind = elements.first?.string?.lowercased() else { return nil }
        switch kind {
        case "message" where elements.count == 3, "smessage" where elements.count == 3:
            guard let channel = elements[1].string, let payload = elements[2].bytes else { return nil }
            self.init(channel: channel, payload: payload, isSharded: kind == "smessage")
        case "pmessage" where elements.count == 4:
            guard let pattern = elements[1].string, let channel = elements[2].string, let payload = elements[3].bytes else {
                return nil
            }
            self.init(channel: channel, pattern: pattern, payload: payload)
        default:
            return nil
        }
    }

    /// The payload as text (UTF-8, invalid bytes replaced).
    public var text: String { String(buffer: payload) }
}
