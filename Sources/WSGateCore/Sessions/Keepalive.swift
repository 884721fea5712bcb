import NIOCore

/// The timers of one WebSocket connection: RFC 6455 keepalive pings and the idle timeout.
///
/// Any frame from the client counts as traffic (pongs too). A ping that gets no pong before the
/// next one is due, or `idleTimeout` with no traffic, ends the connection through `onTimeout`.
/// Owned by a frame handler; used on its event loop only (the timers are scheduled isolated to it).
final class Keepalive {
    // One per connection, so kept small (96 bytes with malloc's rounding, fields ordered so that
    // none pads): the intervals are stored as 32-bit seconds with 0 for off, not as Optionals.
    private let pingIntervalSeconds: Int32
    private let idleTimeoutSeconds: Int32
    private var lastTraffic = NIODeadline.now()
    private var pingTask: Scheduled<Void>?
    private var idleTask: Scheduled<Void>?
    private var isAwaitingPong = false

    private var pingInterval: TimeAmount? { self.pingIntervalSeconds > 0 ? .seconds(Int64(self.pingIntervalSeconds)) : nil }
    private var idleTimeout: TimeAmount? { self.idleTimeoutSeconds > 0 ? .seconds(Int64(self.idleTimeoutSeconds)) : nil }

    /// The timers a route asks for, or nil when it has neither pings nor an idle timeout (idle
    /// connections then hold no keepalive object at all).
    static func ifAny(pingIntervalSeconds: Int, idleTimeoutSeconds: Int) -> Keepalive? {
        pingIntervalSeconds > 0 || idleTimeoutSeconds > 0
            ? Keepalive(pingIntervalSeconds: pingIntervalSeconds, idleTimeoutSeconds: idleTimeoutSeconds) : nil
    }

    /// `pingIntervalSeconds` and `idleTimeoutSeconds` of 0 mean off.
    init(pingIntervalSeconds: Int, idleTimeoutSeconds: Int) {
        self.pingIntervalSeconds = Int32(clamping: max(0, pingIntervalSeconds))
        self.idleTimeoutSeconds = Int32(clamping: max(0, idleTimeoutSeconds))
    }

    /// Starts the timers.
    func start(
        context: ChannelHandlerContext,
        sendsPings: Bool,
        onTimeout: @escaping (ChannelHandlerContext, String) -> Void,
        ping: @escaping (ChannelHandlerContext) -> Void
    ) {
        let loop = context.eventLoop.assumeIsolated()
        if sendsPings, let interval = self.pingInterval {
            func armPing() {
                self.pingTask = loop.scheduleTask(in: interval) { [weak self] in
                    guard let self else { return }
                    if self.isAwaitingPong {
                        onTimeout(context, "no pong within \(interval.nanoseconds / 1_000_000_000) s")
                    } else {
                        self.isAwaitingPong = true
                        ping(context)
                        armPing()
                    }
                }
            }
            armPing()
        }
        if let idle = self.idleTimeout {
            func armIdle(after delay: TimeAmount) {
                self.idleTask = loop.scheduleTask(in: delay) { [weak self] in
                    guard let self else { return }
                    let quiet = NIODeadline.now() - self.lastTraffic
                    if quiet >= idle {
                        onTimeout(context, "idle for \(idle.nanoseconds / 1_000_000_000) s")
                    } else {
                        armIdle(after: idle - quiet)
                    }
                }
            }
            armIdle(after: idle)
        }
    }

    /// Any frame from the client.
    func sawTraffic() {
        self.lastTraffic = .now()
    }

    /// A pong from the client.
    func sawPong() {
        self.isAwaitingPong = false
    }

    /// Cancels the timers.
    func stop() {
        self.pingTask?.cancel()
        self.pingTask = nil
        self.idleTask?.cancel()
        self.idleTask = nil
    }
}

@available(*, unavailable)
extension Keepalive: Sendable {}
