import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The open connections whose JWT expires while they are open (SPEC "Who may connect": closed
/// with 1008 when `exp`, plus the leeway, passes), swept once a second.
///
/// One sweep for the whole process instead of a timer per connection (a timer and a close
/// callback each cost about 30 µs of CPU per HS256 handshake, most of a JWT's cost). The sweep
/// looks only at the tokens that have expired (a min-heap by expiry), so its cost does not grow
/// with the connections held; a connection that closes by itself is forgotten by the close
/// callback it already has (`ConnectionAccounting`). A connection is closed within
/// `sweepInterval` after its token expires. The sweep runs only while something is watched.
final class TokenExpiry: Sendable {
    /// The process's one list.
    static let shared = TokenExpiry()
    /// How often expired tokens are looked for: the most a connection outlives its token by.
    static let sweepInterval = 1.0

    /// One watched connection.
    struct Entry {
        let expiresAt: Double
        let channel: Channel
        let logger: Logger
        let peer: String
    }

    /// A connection's place in the expiry order. Forgotten connections leave theirs behind until
    /// it comes up (or the heap is rebuilt), recognised by the entry no longer matching.
    private struct Deadline {
        let expiresAt: Double
        let id: ObjectIdentifier
    }

    private struct State: @unchecked Sendable {  // the timer is only touched under the box's lock
        var entries: [ObjectIdentifier: Entry] = [:]
        var heap = DeadlineHeap()
        var timer: DispatchSourceTimer?
    }

    private let state = NIOLockedValueBox(State())
    private let startsTimer: Bool

    /// `startsTimer: false` for tests, which call `takeExpired(now:)` themselves.
    init(startsTimer: Bool = true) {
        self.startsTimer = startsTimer
    }

    /// Closes `channel` with 1008 "token expired" once `expiresAt` (seconds since 1970) passes.
    func watch(_ channel: Channel, expiresAt: Double, logger: Logger, peer: String) {
        let id = ObjectIdentifier(channel)
        self.state.withLockedValue { state in
            state.entries[id] = Entry(expiresAt: expiresAt, channel: channel, logger: logger, peer: peer)
            state.heap.push(Deadline(expiresAt: expiresAt, id: id))
            // Places left by forgotten connections are dropped once they outnumber the watched.
            if state.heap.count > 2 * state.entries.count + 1024 {
                state.heap = DeadlineHeap(state.entries.map { Deadline(expiresAt: $0.value.expiresAt, id: $0.key) })
            }
            guard self.startsTimer, state.timer == nil else { return }
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now() + Self.sweepInterval, repeating: Self.sweepInterval, leeway: .milliseconds(100))
            timer.setEventHandler { [weak self] in self?.sweep() }
            timer.resume()
            state.timer = timer
        }
    }

    /// Forgets the connection `id` (its channel closed); a no-op for one never watched.
    func forget(_ id: ObjectIdentifier) {
        self.state.withLockedValue { state in
            guard !state.entries.isEmpty, state.entries.removeValue(forKey: id) != nil else { return }
            if state.entries.isEmpty { state.heap = DeadlineHeap() }
        }
    }

    /// How many connections are watched now.
    var count: Int { self.state.withLockedValue { $0.entries.count } }

    /// How many places the expiry order holds (watched plus forgotten ones not yet dropped).
    var orderedCount: Int { self.state.withLockedValue { $0.heap.count } }

    /// Takes out the connections whose token has expired at `now`, soonest first.
    func takeExpired(now: Double) -> [Entry] {
        self.state.withLockedValue { state in
            var expired: [Entry] = []
            while let next = state.heap.first, next.expiresAt <= now {
                state.heap.removeFirst()
                if let entry = state.entries[next.id], entry.expiresAt == next.expiresAt {
                    state.entries.removeValue(forKey: next.id)
                    expired.append(entry)
                }
            }
            if state.entries.isEmpty {
                state.heap = DeadlineHeap()
                state.timer?.cancel()
                state.timer = nil
            }
            return expired
        }
    }

    private func sweep() {
        for entry in self.takeExpired(now: Date().timeIntervalSince1970) where entry.channel.isActive {
            entry.logger.info("token expired, closing", metadata: ["wsgate.peer": "\(entry.peer)"])
            entry.channel.triggerUserOutboundEvent(WebSocketCloseRequest(code: .policyViolation, reason: "token expired"), promise: nil)
        }
    }

    /// A binary min-heap of deadlines, soonest at the top.
    private struct DeadlineHeap {
        private var items: [Deadline] = []

        init() {}

        init(_ deadlines: [Deadline]) {
            self.items = deadlines
            var index = items.count / 2 - 1
            while index >= 0 {
                self.siftDown(index)
                index -= 1
            }
        }

        var count: Int { items.count }
        var first: Deadline? { items.first }

        mutating func push(_ deadline: Deadline) {
            items.append(deadline)
            var child = items.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard items[child].expiresAt < items[parent].expiresAt else { break }
                items.swapAt(child, parent)
                child = parent
            }
        }

        mutating func removeFirst() {
            let last = items.removeLast()
            guard !items.isEmpty else { return }
            items[0] = last
            siftDown(0)
        }

        private mutating func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1
                guard left < items.count else { return }
                var smallest = left
                if left + 1 < items.count, items[left + 1].expiresAt < items[left].expiresAt { smallest = left + 1 }
                guard items[smallest].expiresAt < items[parent].expiresAt else { return }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
    }
}
