import WSGateAuth
import XCTest

final class RateLimitTests: XCTestCase {
    func testTenThousandHandshakesInOneFakeSecondAllowExactlyTheBurst() {
        // The fake clock stands still: 10,000 handshakes at one instant get the burst and no more.
        let burst = 20
        var bucket = TokenBucket(perSecond: burst, now: 0)
        var allowed = 0
        for _ in 0..<10_000 {
            switch bucket.take(now: 0.5) {
            case .allowed: allowed += 1
            case .refused(let retryAfter): XCTAssertGreaterThanOrEqual(retryAfter, 1)
            }
        }
        XCTAssertEqual(allowed, burst)
    }

    func testHandshakesSpreadOverOneSecondGetTheBurstPlusTheRefill() {
        // Spread evenly over [100, 101): the burst, then rate × elapsed more (under 20): 39 in all.
        var bucket = TokenBucket(perSecond: 20, now: 100)
        var allowed = 0
        for index in 0..<10_000 {
            switch bucket.take(now: 100 + Double(index) / 10_000) {
            case .allowed: allowed += 1
            case .refused(let retryAfter): XCTAssertGreaterThanOrEqual(retryAfter, 1)
            }
        }
        XCTAssertEqual(allowed, 39)
    }

    func testPerClientBucketsTenThousandHandshakesFromOneAddress() {
        var limiter = PerClientTokenBuckets(perSecond: 20)
        var allowed = 0, refused = 0
        for _ in 0..<10_000 {
            switch limiter.take("198.51.100.7", now: 42) {
            case .allowed: allowed += 1
            case .refused(let retryAfter):
                refused += 1
                XCTAssertGreaterThanOrEqual(retryAfter, 1)
            }
        }
        XCTAssertEqual(allowed, 20)
        XCTAssertEqual(refused, 9_980)
        // Another address has its own bucket.
        XCTAssertEqual(limiter.take("198.51.100.8", now: 42), .allowed)
        XCTAssertEqual(limiter.count, 2)
    }

    func testRefillAndRetryAfter() {
        var bucket = TokenBucket(rate: 2, burst: 2, now: 0)
        XCTAssertEqual(bucket.take(now: 0), .allowed)
        XCTAssertEqual(bucket.take(now: 0), .allowed)
        XCTAssertEqual(bucket.take(now: 0), .refused(retryAfterSeconds: 1))
        XCTAssertEqual(bucket.take(now: 0.5), .allowed)  // 2 a second: one more token after 0.5 s
        XCTAssertEqual(bucket.take(now: 0.5), .refused(retryAfterSeconds: 1))
        XCTAssertFalse(bucket.isFull(now: 0.9))
        XCTAssertTrue(bucket.isFull(now: 1.5))
        // A slow bucket: one token every 10 s.
        var slow = TokenBucket(rate: 0.1, burst: 1, now: 0)
        XCTAssertEqual(slow.take(now: 0), .allowed)
        XCTAssertEqual(slow.take(now: 0), .refused(retryAfterSeconds: 10))
        XCTAssertEqual(slow.take(now: 7.5), .refused(retryAfterSeconds: 3))
        XCTAssertEqual(slow.take(now: 10), .allowed)
        // A clock going backwards adds nothing and takes nothing away.
        var back = TokenBucket(perSecond: 1, now: 100)
        XCTAssertEqual(back.take(now: 100), .allowed)
        XCTAssertEqual(back.take(now: 50), .refused(retryAfterSeconds: 1))
        XCTAssertEqual(back.take(now: 101), .allowed)
        // Never more than the burst, however long idle.
        var idle = TokenBucket(perSecond: 3, now: 0)
        var count = 0
        while case .allowed = idle.take(now: 1_000_000) { count += 1 }
        XCTAssertEqual(count, 3)
    }

    func testPerClientBucketsAreBounded() {
        var limiter = PerClientTokenBuckets(perSecond: 5, capacity: 100)
        for index in 0..<100 { XCTAssertEqual(limiter.take("10.0.0.\(index)", now: 0), .allowed) }
        XCTAssertEqual(limiter.count, 100)
        // Full of busy addresses: a new one is refused, known ones go on.
        XCTAssertEqual(limiter.take("10.1.0.1", now: 0.1), .refused(retryAfterSeconds: 1))
        XCTAssertEqual(limiter.take("10.0.0.1", now: 0.1), .allowed)
        XCTAssertEqual(limiter.count, 100)
        // A flood of new addresses in the same instant does not grow the table.
        for index in 0..<10_000 { _ = limiter.take("flood-\(index)", now: 0.15) }
        XCTAssertEqual(limiter.count, 100)
        // Once the buckets have refilled (a second here), they are dropped to make room.
        XCTAssertEqual(limiter.take("10.1.0.1", now: 2), .allowed)
        XCTAssertEqual(limiter.count, 1)
    }

    func testPerClientCounters() {
        var counters = PerClientCounters(limit: 2, capacity: 3)
        XCTAssertEqual(counters.acquire("a"), .allowed)
        XCTAssertEqual(counters.acquire("a"), .allowed)
        XCTAssertEqual(counters.acquire("a"), .limitReached)
        XCTAssertEqual(counters.connections(of: "a"), 2)
        XCTAssertEqual(counters.acquire("b"), .allowed)
        XCTAssertEqual(counters.acquire("c"), .allowed)
        XCTAssertEqual(counters.count, 3)
        // Full: a new address is refused, known ones are not affected.
        XCTAssertEqual(counters.acquire("d"), .tableFull)
        XCTAssertEqual(counters.acquire("b"), .allowed)
        XCTAssertEqual(counters.acquire("b"), .limitReached)
        // Entries go at zero, which makes room.
        counters.release("c")
        XCTAssertEqual(counters.connections(of: "c"), 0)
        XCTAssertEqual(counters.count, 2)
        XCTAssertEqual(counters.acquire("d"), .allowed)
        counters.release("a")
        XCTAssertEqual(counters.acquire("a"), .allowed)
        counters.release("a")
        counters.release("a")
        counters.release("a")  // one too many: ignored
        XCTAssertEqual(counters.connections(of: "a"), 0)
        XCTAssertEqual(counters.count, 2)
        // A flood of distinct addresses never grows past the capacity.
        var flood = PerClientCounters(limit: 64, capacity: 1000)
        for index in 0..<100_000 { _ = flood.acquire("2001:db8::\(String(index, radix: 16))") }
        XCTAssertEqual(flood.count, 1000)
    }
}
