import NIOCore
import WSGateRedis
import XCTest

final class ReconnectBackoffTests: XCTestCase {
    /// Always the same number.
    private struct ConstantGenerator: RandomNumberGenerator {
        let value: UInt64
        mutating func next() -> UInt64 { value }
    }

    func testExponentialWithoutJitterIsCapped() {
        var backoff = ReconnectBackoff(base: .milliseconds(100), cap: .seconds(1), jitter: .none)
        let delays = (0..<7).map { _ in backoff.next() }
        XCTAssertEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000].map { TimeAmount.milliseconds($0) })
        XCTAssertEqual(backoff.attempt, 7)
    }

    func testFullJitterSpansZeroToTheExponentialDelay() {
        var low = ReconnectBackoff(base: .milliseconds(100), cap: .seconds(10), jitter: .full)
        var zero = ConstantGenerator(value: 0)
        XCTAssertEqual((0..<3).map { _ in low.next(using: &zero) }, [.zero, .zero, .zero])

        var high = ReconnectBackoff(base: .milliseconds(100), cap: .seconds(10), jitter: .full)
        var max = ConstantGenerator(value: .max)
        let delays = (0..<10).map { _ in high.next(using: &max) }
        let ceilings = [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000].map { TimeAmount.milliseconds($0) }
        for (delay, ceiling) in zip(delays, ceilings) {
            XCTAssertLessThan(delay, ceiling)
            XCTAssertGreaterThanOrEqual(delay, ceiling - .nanoseconds(1))
        }

        var half = ReconnectBackoff(base: .milliseconds(100), cap: .seconds(10), jitter: .full)
        var middle = ConstantGenerator(value: 1 << 63)
        XCTAssertEqual(half.next(using: &middle), .milliseconds(50))
        XCTAssertEqual(half.next(using: &middle), .milliseconds(100))
    }

    func testFullJitterStaysInRange() {
        var backoff = ReconnectBackoff(base: .milliseconds(10), cap: .seconds(5), jitter: .full)
        var random = SplitMix64(seed: 42)
        for attempt in 0..<200 {
            let delay = backoff.next(using: &random)
            let ceiling = min(TimeAmount.seconds(5), .milliseconds(10 * (1 << min(attempt, 20))))
            XCTAssertGreaterThanOrEqual(delay, .zero)
            XCTAssertLessThanOrEqual(delay, ceiling)
        }
    }

    func testDecorrelatedJitter() {
        var max = ConstantGenerator(value: .max)
        var growing = ReconnectBackoff(base: .milliseconds(100), cap: .seconds(2), jitter: .decorrelated)
        // The top of each range: just under three times the previous delay, then just under the cap.
        let delays = (0..<6).map { _ in growing.next(using: &max).nanoseconds }
        XCTAssertEqual(delays, [299_999_999, 899_999_996, 1_999_999_999, 1_999_999_999, 1_999_999_999, 1_999_999_999])

        var zero = ConstantGenerator(value: 0)
        var bottom = ReconnectBackoff(base: .milliseconds(100), cap: .seconds(2), jitter: .decorrelated)
        XCTAssertEqual((0..<3).map { _ in bottom.next(using: &zero) }, [.milliseconds(100), .milliseconds(100), .milliseconds(100)])

        var random = SplitMix64(seed: 7)
        var backoff = ReconnectBackoff(base: .milliseconds(50), cap: .seconds(3), jitter: .decorrelated)
        var previous = TimeAmount.milliseconds(50)
        for _ in 0..<200 {
            let delay = backoff.next(using: &random)
            XCTAssertGreaterThanOrEqual(delay, .milliseconds(50))
            XCTAssertLessThanOrEqual(delay, min(.seconds(3), previous * 3))
            previous = delay
        }
    }

    func testSameSeedSameDelays() {
        for jitter in [ReconnectBackoff.Jitter.full, .decorrelated] {
            var first = ReconnectBackoff(jitter: jitter)
            var second = ReconnectBackoff(jitter: jitter)
            var a = SplitMix64(seed: 99)
            var b = SplitMix64(seed: 99)
            XCTAssertEqual((0..<20).map { _ in first.next(using: &a) }, (0..<20).map { _ in second.next(using: &b) })
        }
    }

    func testResetStartsOver() {
        var backoff = ReconnectBackoff(base: .milliseconds(100), cap: .seconds(1), jitter: .none)
        _ = (0..<5).map { _ in backoff.next() }
        backoff.reset()
        XCTAssertEqual(backoff.attempt, 0)
        XCTAssertEqual(backoff.next(), .milliseconds(100))
    }

    func testNoOverflowAfterManyAttempts() {
        var backoff = ReconnectBackoff(base: .seconds(1), cap: .seconds(60), jitter: .none)
        for _ in 0..<1000 { XCTAssertLessThanOrEqual(backoff.next(), .seconds(60)) }
        var huge = ReconnectBackoff(base: .nanoseconds(.max / 2), cap: .nanoseconds(.max), jitter: .decorrelated)
        var max = ConstantGenerator(value: .max)
        for _ in 0..<10 { XCTAssertLessThanOrEqual(huge.next(using: &max), .nanoseconds(.max)) }
    }

    func testCapBelowBase() {
        var backoff = ReconnectBackoff(base: .seconds(2), cap: .seconds(1), jitter: .none)
        XCTAssertEqual(backoff.next(), .seconds(2))
    }
}
