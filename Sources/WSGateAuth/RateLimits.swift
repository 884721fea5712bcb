/// A token bucket: `rate` tokens a second, holding at most `burst` (SPEC: `handshakes_per_ip_per_s`,
/// a bucket with burst of the same size). Pure: the caller passes the time (seconds on any
/// monotonic clock, e.g. `Double(NIODeadline.now().uptimeNanoseconds) / 1e9`).
public struct TokenBucket: Hashable, Sendable {
    /// The answer to one `take`.
    public enum Decision: Hashable, Sendable {
        case allowed
        /// Refused; a token is back after this many whole seconds (at least 1), for `Retry-After`.
        case refused(retryAfterSeconds: Int)
    }

    public let rate: Double
    public let burst: Double
    private(set) var tokens: Double
    private(set) var updated: Double

    /// A full bucket at `now`. `rate` must be positive and `burst` at least 1 (a limit of 0 means
    /// "off": build no bucket at all).
    public init(rate: Double, burst: Double, now: Double) {
        precondition(rate > 0 && burst >= 1, "TokenBucket needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now
    }

    /// `perSecond` a second with a burst of the same size (the SPEC's per-IP handshake limit).
    public init(perSecond: Int, now: Double) {
        self.init(rate: Double(perSecond), burst: Double(perSecond), now: now)
    }

    /// Takes one token if there is one. A clock that goes backwards adds nothing.
    public mutating func take(now: Double) -> Decision {
        refill(now: now)
        if tokens >= 1 {
            tokens -= 1
            return .allowed
        }
        let wait = (1 - tokens) / rate
        return .refused(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
    }

    /// True when the bucket is full at `now` (then it can be forgotten: a new one is the same).
    public func isFull(now: Double) -> Bool {
        var copy = self
        copy.refill(now: now)
        return copy.tokens >= burst
    }

    private mutating func refill(now: Double) {
        if now > updated {
            tokens = min(burst, tokens + (now - updated) * rate)
            updated = now
        }
    }
}

/// Per-client token buckets (`handshakes_per_ip_per_s`), one per address, bounded in size.
///
/// Bound: at most `capacity` addresses are tracked. A bucket that has refilled is the same as no
/// bucket, so when the table is full the full buckets are dropped first (with burst == rate, every
/// address idle for a second). If it is still full, a NEW address is refused (`retryAfterSeconds: 1`)
/// until room frees up — a flood of addresses costs at most `capacity` entries and locks out new
/// addresses for about a second, never the ones already tracked.
public struct PerClientTokenBuckets: Sendable {
    public let perSecond: Int
    public let capacity: Int
    private var buckets: [String: TokenBucket] = [:]
    private var lastSweep: Double = -.infinity

    /// `perSecond` handshakes a second per client (burst the same); `capacity` addresses at most.
    public init(perSecond: Int, capacity: Int = 65536) {
        precondition(perSecond > 0 && capacity > 0)
        self.perSecond = perSecond
        self.capacity = capacity
    }

    /// The number of addresses tracked.
    public var count: Int { buckets.count }

    /// One handshake from `client` at `now`.
    public mutating func take(_ client: String, now: Double) -> TokenBucket.Decision {
        if var bucket = buckets[client] {
            let decision = bucket.take(now: now)
            buckets[client] = bucket
            return decision
        }
        if buckets.count >= capacity {
            // A sweep is O(n): at most one every 100 ms, so a flood cannot make each handshake O(n).
            if now - lastSweep >= 0.1 || now < lastSweep {
                lastSweep = now
                buckets = buckets.filter { !$0.value.isFull(now: now) }
            }
            if buckets.count >= capacity { return .refused(retryAfterSeconds: 1) }
        }
        var bucket = TokenBucket(perSecond: perSecond, now: now)
        let decision = bucket.take(now: now)
        buckets[client] = bucket
        return decision
    }
}

/// Open connections per client (`max_connections_per_ip`), bounded in size.
///
/// An entry exists only while its address has a connection open: it is removed when its count
/// goes back to zero, so the table never holds more addresses than there are open connections.
/// Bound: at most `capacity` addresses (default 65536; set it at least to `max_connections`).
/// Past it, a connection from an address not yet in the table is refused with `.tableFull`
/// (the caller answers as for a limit: 429) while tracked addresses go on as usual.
public struct PerClientCounters: Sendable {
    /// The answer to one `acquire`.
    public enum Decision: Hashable, Sendable {
        /// Counted; the caller must `release` the same address when the connection ends.
        case allowed
        /// The address already has `limit` connections.
        case limitReached
        /// The table holds `capacity` addresses and this one is not among them.
        case tableFull
    }

    public let limit: Int
    public let capacity: Int
    private var counts: [String: Int] = [:]

    /// `limit` connections per client; `capacity` distinct clients at most.
    public init(limit: Int, capacity: Int = 65536) {
        precondition(limit > 0 && capacity > 0)
        self.limit = limit
        self.capacity = capacity
    }

    /// The number of addresses with a connection open.
    public var count: Int { counts.count }

    /// The open connections of `client`.
    public func connections(of client: String) -> Int { counts[client] ?? 0 }

    /// Counts a new connection from `client` unless that passes a bound.
    public mutating func acquire(_ client: String) -> Decision {
        let current = counts[client] ?? 0
        if current == 0, counts.count >= capacity { return .tableFull }
        guard current < limit else { return .limitReached }
        counts[client] = current + 1
        return .allowed
    }

    /// A connection of `client` ended (only for one that `acquire` allowed); the entry goes at zero.
    public mutating func release(_ client: String) {
        guard let current = counts[client] else { return }
        if current <= 1 {
            counts[client] = nil
        } else {
            counts[client] = current - 1
        }
    }
}
