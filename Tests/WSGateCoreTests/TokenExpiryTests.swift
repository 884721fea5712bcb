import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import WSGateCore

/// `TokenExpiry`'s order: the sweep takes exactly the expired tokens, soonest first; forgotten
/// connections are never taken and their places do not pile up.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct TokenExpiryTests {
    let logger = Logger(label: "test")

    @Test func theSweepTakesOnlyTheExpiredSoonestFirst() {
        let expiry = TokenExpiry(startsTimer: false)
        let channels = (0..<5).map { _ in EmbeddedChannel() }
        for (channel, expiresAt) in zip(channels, [50.0, 10, 40, 20, 30]) {
            expiry.watch(channel, expiresAt: expiresAt, logger: logger, peer: "p")
        }
        #expect(expiry.takeExpired(now: 5).isEmpty)
        let first = expiry.takeExpired(now: 25)
        #expect(first.map(\.expiresAt) == [10, 20])
        #expect(first.map { ObjectIdentifier($0.channel) } == [ObjectIdentifier(channels[1]), ObjectIdentifier(channels[3])])
        #expect(expiry.count == 3)
        #expect(expiry.takeExpired(now: 25).isEmpty)
        #expect(expiry.takeExpired(now: 1_000).map(\.expiresAt) == [30, 40, 50])
        #expect(expiry.count == 0)
        #expect(expiry.orderedCount == 0)
    }

    @Test func aForgottenConnectionIsNeverTaken() {
        let expiry = TokenExpiry(startsTimer: false)
        let kept = EmbeddedChannel()
        let closed = EmbeddedChannel()
        expiry.watch(kept, expiresAt: 20, logger: logger, peer: "p")
        expiry.watch(closed, expiresAt: 10, logger: logger, peer: "p")
        expiry.forget(ObjectIdentifier(closed))
        expiry.forget(ObjectIdentifier(EmbeddedChannel()))  // never watched: a no-op
        #expect(expiry.count == 1)
        let expired = expiry.takeExpired(now: 100)
        #expect(expired.count == 1)
        #expect(expired.first.map { ObjectIdentifier($0.channel) } == ObjectIdentifier(kept))
    }

    @Test func rewatchingAChannelKeepsOnlyItsNewExpiry() {
        let expiry = TokenExpiry(startsTimer: false)
        let channel = EmbeddedChannel()
        expiry.watch(channel, expiresAt: 10, logger: logger, peer: "p")
        expiry.watch(channel, expiresAt: 30, logger: logger, peer: "p")
        #expect(expiry.takeExpired(now: 20).isEmpty)
        #expect(expiry.takeExpired(now: 30).map(\.expiresAt) == [30])
    }

    @Test func thePlacesOfForgottenConnectionsAreDroppedOnceTheyOutnumberTheWatched() {
        let expiry = TokenExpiry(startsTimer: false)
        let held = EmbeddedChannel()
        expiry.watch(held, expiresAt: 1e12, logger: logger, peer: "p")
        // 5,000 connections come and go with hour-long tokens while one stays.
        for index in 0..<5_000 {
            let channel = EmbeddedChannel()
            expiry.watch(channel, expiresAt: 3_600 + Double(index), logger: logger, peer: "p")
            expiry.forget(ObjectIdentifier(channel))
        }
        #expect(expiry.count == 1)
        #expect(expiry.orderedCount <= 2 * 1 + 1024 + 1)
        #expect(expiry.takeExpired(now: 1e9).isEmpty)
        #expect(expiry.takeExpired(now: 1e12).count == 1)
    }

    @Test func aClosedConnectionIsForgottenByItsCloseCallback() throws {
        let channel = EmbeddedChannel()
        let tracker = ConnectionTracker()
        _ = ConnectionAccounting(channel: channel, metrics: GatewayMetrics(), tracker: tracker)
        let before = TokenExpiry.shared.count
        TokenExpiry.shared.watch(channel, expiresAt: 1e12, logger: logger, peer: "p")
        #expect(TokenExpiry.shared.count == before + 1)
        try channel.close().wait()
        channel.embeddedEventLoop.run()
        #expect(TokenExpiry.shared.count == before)
    }
}
