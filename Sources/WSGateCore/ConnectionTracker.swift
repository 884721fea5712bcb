import NIOConcurrencyHelpers
import NIOCore

/// The open WebSocket channels of the process, so that shutdown can close each in its dialect.
final class ConnectionTracker: @unchecked Sendable {
    private let lock = NIOLock()
    private var channels: [ObjectIdentifier: Channel] = [:]
    private var isDraining = false

    /// Registers an open WebSocket; unregisters it when it closes. Returns false while draining.
    @discardableResult
    func add(_ channel: Channel) -> Bool {
        let key = ObjectIdentifier(channel)
        let accepted = self.lock.withLock { () -> Bool in
            if self.isDraining { return false }
            self.channels[key] = channel
            return true
        }
        if accepted {
            channel.closeFuture.whenComplete { _ in
                self.lock.withLock { _ = self.channels.removeValue(forKey: key) }
            }
        }
        return accepted
    }

    /// The WebSockets open now.
    var count: Int { self.lock.withLock { self.channels.count } }

    /// Stops accepting and returns every open channel.
    func beginDrain() -> [Channel] {
        self.lock.withLock {
            self.isDraining = true
            return Array(self.channels.values)
        }
    }
}
