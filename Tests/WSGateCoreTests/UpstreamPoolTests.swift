import NIOCore
import Testing
import WSGateConfig
@testable import WSGateCore

/// The pool's choice without a network: order, skipping for `fail_timeout_s`, least connections.
struct UpstreamPoolChoiceTests {
    static let targets: [RouteTarget] = [.upstream(host: "10.0.0.1", port: 1), .upstream(host: "10.0.0.2", port: 2), .upstream(host: "::1", port: 3)]

    @Test func roundRobinTakesEachAddressInTurnAndSkipsAFailedOneUntilItsTimeout() {
        let pool = UpstreamPool(targets: Self.targets, balance: .round_robin, failTimeoutSeconds: 10, metrics: GatewayMetrics())
        let now = NIODeadline.now()
        #expect(pool.candidates(now: now) == [0, 1, 2])
        #expect(pool.candidates(now: now) == [1, 0, 2])
        #expect(pool.candidates(now: now) == [2, 0, 1])
        pool.failed(0, now: now)
        #expect(pool.candidates(now: now) == [1, 2])
        #expect(pool.candidates(now: now + .seconds(9)) == [2, 1])
        #expect(pool.candidates(now: now + .seconds(10)) == [0, 1, 2], "back after fail_timeout_s")
        #expect(pool.members[2].label == "[::1]:3")
    }

    @Test func leastConnectionsPrefersTheEmptiestAndAllDownIsNothing() {
        let pool = UpstreamPool(targets: Self.targets, balance: .least_connections, failTimeoutSeconds: 5, metrics: GatewayMetrics())
        pool.connected(0)
        pool.connected(1)
        #expect(pool.candidates().first == 2)
        pool.connected(2)
        pool.connected(2)
        pool.released(0)
        #expect(pool.candidates().first == 0)
        let now = NIODeadline.now()
        for index in 0..<3 { pool.failed(index, now: now) }
        #expect(pool.candidates(now: now).isEmpty)
    }
}
