import NIOCore
import NIOPosix
import Synchronization
import WSGateWire

/// An async face over `WebSocketClient` for tests: messages are queued as they arrive and taken with
/// `next(timeout:)`, which never waits longer than its timeout.
///
/// The connection's end is queued as a last `.close(code:reason:)` message (codes `nil` for hixie and
/// TCP closes), so a test can wait for it like any message.
public final class AsyncWebSocketClient: Sendable {
    /// The underlying client (its channel, negotiated subprotocol, response headers).
    public let client: WebSocketClient
    private let inbox: Inbox

    private init(client: WebSocketClient, inbox: Inbox) {
        self.client = client
        self.inbox = inbox
    }

    /// Connects on `eventLoop` (default: one of `MultiThreadedEventLoopGroup.singleton`'s loops).
    public static func connect(
        _ configuration: WebSocketClientConfiguration,
        on eventLoop: EventLoop = MultiThreadedEventLoopGroup.singleton.next()
    ) async throws -> AsyncWebSocketClient {
        let inbox = Inbox()
        let client = try await WebSocketClient.connect(
            configuration, on: eventLoop,
            onMessage: { inbox.push($0) },
            onClose: { code, reason in inbox.push(.close(code: code, reason: reason)) }
        ).get()
        return AsyncWebSocketClient(client: client, inbox: inbox)
    }

    /// The next message (a `.close` once the connection ended; after it, `.closed` errors).
    /// - Throws: `WebSocketClientError.timedOut` when none came within `timeout`.
    public func next(timeout: Duration = .seconds(5)) async throws -> GatewayMessage {
        try await self.inbox.next(timeout: timeout)
    }

    /// The next message as text (binary is an error), e.g. for a chat test.
    public func nextText(timeout: Duration = .seconds(5)) async throws -> String {
        let message = try await self.next(timeout: timeout)
        guard case .text(let bytes) = message else {
            throw WebSocketClientError.invalidHandshakeResponse("expected a text message, got \(message)")
        }
        return String(buffer: bytes)
    }

    /// Waits for the connection's end and returns its close code and reason, skipping messages.
    public func closeEvent(timeout: Duration = .seconds(5)) async throws -> (code: UInt16?, reason: String?) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw WebSocketClientError.timedOut }
            if case .close(let code, let reason) = try await self.next(timeout: remaining) { return (code, reason) }
        }
    }

    /// Sends a message (see `WebSocketClient.send`).
    public func send(_ message: GatewayMessage) {
        self.client.send(message)
    }

    /// Sends a text message.
    public func send(_ text: String) {
        self.client.send(.text(text))
    }

    /// Runs the closing handshake and waits for the connection to close.
    public func close(code: UInt16 = 1000) async throws {
        try await self.client.close(code: code).get()
    }

    /// Messages received and not yet taken, and the single waiter, under a lock.
    final class Inbox: Sendable {
        private struct State {
            var queue: [GatewayMessage] = []
            var head = 0
            var waiter: (id: UInt64, continuation: CheckedContinuation<GatewayMessage, Error>)?
            var nextWaiterID: UInt64 = 0
            var isFinished = false
        }
        private let state = Mutex(State())

        func push(_ message: GatewayMessage) {
            let waiter: CheckedContinuation<GatewayMessage, Error>? = self.state.withLock { state in
                if case .close = message {
                    if state.isFinished { return nil }
                    state.isFinished = true
                }
                if let waiter = state.waiter {
                    state.waiter = nil
                    return waiter.continuation
                }
                state.queue.append(message)
                return nil
            }
            waiter?.resume(returning: message)
        }

        func next(timeout: Duration) async throws -> GatewayMessage {
            let id: UInt64 = self.state.withLock { state in
                state.nextWaiterID += 1
                return state.nextWaiterID
            }
            let timer = Task { [weak self] in
                try await Task.sleep(for: timeout)
                self?.expire(id: id)
            }
            defer { timer.cancel() }
            return try await withCheckedThrowingContinuation { continuation in
                let ready: Result<GatewayMessage, Error>? = self.state.withLock { state in
                    if state.head < state.queue.count {
                        let message = state.queue[state.head]
                        state.head += 1
                        if state.head > 64, state.head * 2 > state.queue.count {
                            state.queue.removeFirst(state.head)
                            state.head = 0
                        }
                        return .success(message)
                    }
                    if state.isFinished { return .failure(WebSocketClientError.closed(code: nil, reason: nil)) }
                    precondition(state.waiter == nil, "AsyncWebSocketClient.next(timeout:) must not be called concurrently")
                    state.waiter = (id, continuation)
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        }

        private func expire(id: UInt64) {
            let waiter: CheckedContinuation<GatewayMessage, Error>? = self.state.withLock { state in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter.continuation
            }
            waiter?.resume(throwing: WebSocketClientError.timedOut)
        }
    }
}
