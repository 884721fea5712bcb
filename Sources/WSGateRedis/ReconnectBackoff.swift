import NIOCore

/// The delays between reconnection attempts: exponential, capped, jittered. A pure value: it schedules
/// nothing, it only answers "how long before the next attempt", from a random source the caller passes
/// (so tests can pass a fixed one).
///
/// - `.none`: `min(cap, base * 2^attempt)`.
/// - `.full`: a uniform delay in `0 ..< min(cap, base * 2^attempt)` ("full jitter").
/// - `.decorrelated`: a uniform delay in `base ..< previous * 3`, capped ("decorrelated jitter"; the
///   previous delay starts at `base`).
///
/// Call `reset()` once a connection succeeds.
public struct ReconnectBackoff: Sendable, Hashable {
    /// How the exponential delay is randomized.
    public enum Jitter: Sendable, Hashable {
        /// No randomness: the exponential delay itself.
        case none
        /// Uniform between zero and the exponential delay.
        case full
        /// Uniform between `base` and three times the previous delay.
        case decorrelated
    }

    /// The first delay (and the least one for `.decorrelated`).
    public let base: TimeAmount
    /// No delay exceeds this.
    public let cap: TimeAmount
    /// The randomization.
    public let jitter: Jitter
    /// How many delays were handed out since the start or the last `reset()`.
    public private(set) var attempt = 0
    private var previous: TimeAmount

    /// A backoff from `base` up to `cap` (a `cap` below `base` is raised to `base`).
    public init(base: TimeAmount = .milliseconds(100), cap: TimeAmount = .seconds(30), jitter: Jitter = .full) {
        precondition(base.nanoseconds > 0, "the base delay must be positive")
        self.base = base
        self.cap = max(cap, base)
        self.jitter = jitter
        self.previous = base
    }

    /// The delay before the next attempt, drawing on the system's random numbers.
    public mutating func next() -> TimeAmount {
        var generator = SystemRandomNumberGenerator()
        return next(using: &generator)
    }

    /// The delay before the next attempt, drawing on `generator`.
    ///
    /// One `generator.next()` per call (none for `.none`); its top 53 bits make a fraction in [0, 1) that
    /// is mapped linearly onto the delay's range, so a fixed generator gives fixed delays.
    public mutating func next<Generator: RandomNumberGenerator>(using generator: inout Generator) -> TimeAmount {
        defer { attempt += 1 }
        let ceiling = exponential(attempt)
        let delay: Int64
        switch jitter {
        case .none:
            delay = ceiling
        case .full:
            delay = Self.uniform(from: 0, to: ceiling, fraction: Self.fraction(&generator))
        case .decorrelated:
            let (tripled, overflow) = previous.nanoseconds.multipliedReportingOverflow(by: 3)
            let upper = overflow ? cap.nanoseconds : min(cap.nanoseconds, tripled)
            delay = min(cap.nanoseconds, Self.uniform(from: base.nanoseconds, to: upper, fraction: Self.fraction(&generator)))
        }
        previous = .nanoseconds(delay)
        return .nanoseconds(delay)
    }

    /// Back to the first delay (after a successful connection).
    public mutating func reset() {
        attempt = 0
        previous = base
    }

    /// `min(cap, base * 2^attempt)`, without overflow.
    private func exponential(_ attempt: Int) -> Int64 {
        guard attempt < 63 else { return cap.nanoseconds }
        let (value, overflow) = base.nanoseconds.multipliedReportingOverflow(by: Int64(1) << Int64(attempt))
        return overflow ? cap.nanoseconds : min(cap.nanoseconds, value)
    }

    private static func fraction<Generator: RandomNumberGenerator>(_ generator: inout Generator) -> Double {
        Double(generator.next() >> 11) * 0x1p-53
    }

    private static func uniform(from lower: Int64, to upper: Int64, fraction: Double) -> Int64 {
        guard upper > lower else { return lower }
        return lower + Int64((Double(upper - lower) * fraction).rounded(.down))
    }
}
