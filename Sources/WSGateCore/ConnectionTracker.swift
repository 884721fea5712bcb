import NIOConcurrencyHelpers
import NIOCore

/// The open WebSocket channels of the process, so that shutdown can close each in its dialect.
final class ConnectionTracker: @unchecked Sendable {
    private let lock = NIOLock()
    private var channels: [ObjectIdentifier: Channel] = [:]
    private var isDraining = false

    /// Registers an open WebSocket (the caller unregisters it when it closes). False while draining.
    func add(_ channel: Channel) -> Bool {
        self.lock.withLock { () -> Bool in
            if self.isDraining { return false }
            self.channels[ObjectIdentifier(channel)] = channel
            return true
        }
    }

    /// Unregisters a closed channel.
    func remove(_ channel: Channel) {
        self.lock.withLock { _ = self.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Stops accepting and returns every open channel.
    func beginDrain() -> [Channel] {
        self.lock.withLock {
            self.isDraining = true
            return Array(self.channels.values)
        }
    }
}
