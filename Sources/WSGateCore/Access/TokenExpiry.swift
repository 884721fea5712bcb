import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The open connections whose JWT expires while they are open (SPEC "Who may connect": closed
/// with 1008 when `exp`, plus the leeway, passes), swept once a second.
///
/// One sweep for the whole process instead of a timer and a close callback per connection: those
/// cost about 30 µs of CPU per HS256 handshake, most of a JWT's cost (measured by switching them
/// off). A connection is closed within `sweepInterval` after its token expires; one that closed
/// by itself is forgotten at the next sweep. The sweep runs only while something is watched.
final class TokenExpiry: Sendable {
    /// The process's one list.
    static let shared = TokenExpiry()
    /// How often expired tokens are looked for: the most a connection outlives its token by.
    static let sweepInterval = 1.0

    private struct Entry {
        let expiresAt: Double
        let channel: Channel
        let logger: Logger
        let peer: String
    }

    private struct State: @unchecked Sendable {  // the timer is only touched under the box's lock
        var entries: [ObjectIdentifier: Entry] = [:]
        var timer: DispatchSourceTimer?
    }

    private let state = NIOLockedValueBox(State())

    /// Closes `channel` with 1008 "token expired" once `expiresAt` (seconds since 1970) passes.
    func watch(_ channel: Channel, expiresAt: Double, logger: Logger, peer: String) {
        self.state.withLockedValue { state in
            state.entries[ObjectIdentifier(channel)] = Entry(expiresAt: expiresAt, channel: channel, logger: logger, peer: peer)
            guard state.timer == nil else { return }
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now() + Self.sweepInterval, repeating: Self.sweepInterval, leeway: .milliseconds(100))
            timer.setEventHandler { [weak self] in self?.sweep() }
            timer.resume()
            state.timer = timer
        }
    }

    /// How many connections are watched now.
    var count: Int { self.state.withLockedValue { $0.entries.count } }

    private func sweep() {
        let now = Date().timeIntervalSince1970
        let expired: [Entry] = self.state.withLockedValue { state in
            // The few that ended are picked out first: removing while iterating would copy the
            // whole dictionary on every sweep with a removal.
            let ended = state.entries.filter { $0.value.expiresAt <= now || !$0.value.channel.isActive }
            for id in ended.keys { state.entries.removeValue(forKey: id) }
            if state.entries.isEmpty {
                state.timer?.cancel()
                state.timer = nil
            }
            return ended.values.filter { $0.channel.isActive }
        }
        for entry in expired {
            entry.logger.info("token expired, closing", metadata: ["wsgate.peer": "\(entry.peer)"])
            entry.channel.triggerUserOutboundEvent(WebSocketCloseRequest(code: .policyViolation, reason: "token expired"), promise: nil)
        }
    }
}
