import NIOConcurrencyHelpers
import NIOCore

/// The open WebSocket channels of the process, so that shutdown can close each in its dialect.
///
/// Adding and removing happen in one place, as NIOExtras' `ChannelCollector` does: `add` registers
/// the channel, and the connection's one close callback (`ConnectionAccounting`, which every
/// connection has from its accept) removes it; nobody else has to remember to.
final class ConnectionTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: Channel] = [:]
        var isDraining = false
    }

    private let state = NIOLockedValueBox(State())

    /// Registers an open WebSocket until its channel closes. False (nothing registered) while
    /// draining.
    func add(_ channel: Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let added = self.state.withLockedValue { state -> Bool in
            if state.isDraining { return false }
            state.channels[id] = channel
            return true
        }
        guard added else { return false }
        // A channel that closed before it was listed: its close callback ran already.
        if !channel.isActive { self.remove(id) }
        return true
    }

    /// Unregisters a closed channel (called by its `ConnectionAccounting`).
    func remove(_ id: ObjectIdentifier) {
        self.state.withLockedValue { _ = $0.channels.removeValue(forKey: id) }
    }

    /// The channels registered now.
    var count: Int { self.state.withLockedValue { $0.channels.count } }

    /// Stops accepting and returns every open channel.
    func beginDrain() -> [Channel] {
        self.state.withLockedValue {
            $0.isDraining = true
            return Array($0.channels.values)
        }
    }
}
