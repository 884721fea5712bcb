import NIOCore
import NIOPosix
import Synchronization
import WSGateWire

/// An async face over `WebSocketClient` for tests: messages are queued as they arrive and taken with
/// `next(timeout:)`, which never waits longer than its timeout.
///
/// The connection's end is queued after the last message (codes `nil` for hixie and TCP closes):
/// `next` then throws `WebSocketClientError.closed(code:reason:)`, and `closeEvent` returns it.
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
            onMessage: { inbox.push(.message($0)) },
            onClose: { code, reason in inbox.push(.closed(code: code, reason: reason)) }
        ).get()
        return AsyncWebSocketClient(client: client, inbox: inbox)
    }

    /// The next message.
    /// - Throws: `WebSocketClientError.timedOut` when none came within `timeout`;
    ///   `WebSocketClientError.closed` once the connection ended.
    public func next(timeout: Duration = .seconds(5)) async throws -> GatewayMessage {
        switch try await self.inbox.next(timeout: timeout) {
        case .message(let message): return message
        case .closed(let code, let reason): throw WebSocketClientError.closed(code: code, reason: reason)
        }
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
    public func closeEvent(timeout: Duration = .seconds(5)) async throws -> (code: WebSocketCloseCode?, reason: String?) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw WebSocketClientError.timedOut }
            if case .closed(let code, let reason) = try await self.inbox.next(timeout: remaining) { return (code, reason) }
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
    public func close(code: WebSocketCloseCode = .normalClosure) async throws {
        try await self.client.close(code: code).get()
    }

    /// What the inbox holds: messages, then the connection's end.
    enum Item: Sendable {
        case message(GatewayMessage)
        case closed(code: WebSocketCloseCode?, reason: String?)
    }

    /// Messages received and not yet taken, and the single waiter, under a lock.
    final class Inbox: Sendable {
        private struct State {
            var queue: [Item] = []
            var head = 0
            var waiter: (id: UInt64, continuation: CheckedContinuation<Item, Error>)?
            var nextWaiterID: UInt64 = 0
            var isFinished = false
        }
        private let state = Mutex(State())

        func push(_ message: Item) {
            let waiter: CheckedContinuation<Item, Error>? = self.state.withLock { state in
                if case .closed = message {
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

        func next(timeout: Duration) async throws -> Item {
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
                let ready: Result<Item, Error>? = self.state.withLock { state in
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
            let waiter: CheckedContinuation<Item, Error>? = self.state.withLock { state in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter.continuation
            }
            waiter?.resume(throwing: WebSocketClientError.timedOut)
        }
    }
}
