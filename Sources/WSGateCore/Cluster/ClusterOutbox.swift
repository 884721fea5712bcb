import NIOCore

/// A room's messages on their way to Redis: `waiting` (not sent yet: while Redis is unreachable,
/// this is the outage queue) and `inFlight` (sent, reply not in). Both are FIFOs in publish order.
///
/// A message leaves only when Redis has answered its publish. When the connection is lost, the
/// messages in flight go back to the front of `waiting` and are sent again on reconnect: the
/// publish script drops those that Redis had already published (their counter is not above the
/// gateway's last one there), so each is published at most once, and in order.
struct ClusterOutbox {
    /// One message to publish.
    struct Item {
        /// This gateway's publish counter: increasing in publish order (the idempotency key).
        var counter: UInt64
        var kind: ClusterMessage.Kind
        /// The member that sent it (nil for a notice).
        var senderID: UInt64?
        var data: ByteBuffer
    }

    /// The most messages held (waiting and in flight together) while Redis is unreachable:
    /// `cluster.outage_queue`.
    let limit: Int

    /// The bound while Redis is connected: messages only wait for their round trip then, so a burst
    /// faster than Redis takes it is held (16 times the outage bound, at least 16,384) rather than
    /// closing its sender; past it the sender is closed with 1013 all the same.
    var connectedLimit: Int { max(self.limit * 16, 16_384) }
    private(set) var waiting = CircularBuffer<Item>()
    private(set) var inFlight = CircularBuffer<Item>()

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { self.waiting.count + self.inFlight.count }
    var isEmpty: Bool { self.waiting.isEmpty && self.inFlight.isEmpty }

    /// Adds a message; false when the queue is full (the sender is then closed with 1013).
    mutating func append(_ item: Item, isConnected: Bool) -> Bool {
        guard self.count < (isConnected ? self.connectedLimit : self.limit) else { return false }
        self.waiting.append(item)
        return true
    }

    /// Moves up to `max` waiting messages in flight and returns them, to be sent in this order.
    mutating func takeBatch(max: Int) -> [Item] {
        var batch: [Item] = []
        batch.reserveCapacity(min(max, self.waiting.count))
        while batch.count < max, let item = self.waiting.popFirst() {
            batch.append(item)
            self.inFlight.append(item)
        }
        return batch
    }

    /// Redis answered the oldest message in flight.
    mutating func acknowledgeFirst() {
        _ = self.inFlight.popFirst()
    }

    /// The connection was lost (or a batch must be sent again): what was in flight waits again, first.
    mutating func requeueInFlight() {
        while let item = self.inFlight.popLast() {
            self.waiting.prepend(item)
        }
    }
}
