/// The closing handshake of one WebSocket connection, for every dialect and both ends
/// (RFC 6455 sections 5.5.1, 7.1; hixie-76 `0xFF 0x00`; hixie-75, which has none).
///
/// A pure state machine: the frame handlers feed it what happened and do what it answers, so the
/// rules live here once. It decides when to send our close, when to wait for the peer's (with the
/// grace timer), when to close the TCP connection, when the connection's end is reported (once),
/// and whether messages may still be sent.
public struct ClosingHandshake: Sendable {
    /// Where the handshake is.
    public enum State: Sendable, Equatable {
        /// Messages flow both ways.
        case open
        /// We sent our close; waiting (at most the grace period) for the peer's.
        case closeSent
        /// Done: nothing more is sent or delivered.
        case closed
    }

    /// What the handler does next. `report`, when set, is the connection's end to signal (fire
    /// `WebSocketClose` inbound) before acting; it is set once per connection.
    public enum Action: Sendable, Equatable {
        /// Nothing.
        case none
        /// Send our close frame carrying `frame`'s code and reason. Then either close the TCP
        /// connection once it is written (`thenDisconnect`), or wait for the peer's close (start
        /// the grace timer, then `graceExpired`).
        case sendClose(frame: WebSocketClose, thenDisconnect: Bool, report: WebSocketClose?)
        /// Close the TCP connection now.
        case disconnect(report: WebSocketClose?)
    }

    /// Whether the dialect has a closing handshake (hixie-75 has none: a close is a TCP close).
    public let hasCloseFrame: Bool
    /// Where the handshake is now.
    public private(set) var state: State = .open

    public init(hasCloseFrame: Bool) {
        self.hasCloseFrame = hasCloseFrame
    }

    /// Whether messages may be sent.
    public var canSend: Bool { self.state == .open }
    /// Whether received messages are still delivered.
    public var delivers: Bool { self.state == .open }

    /// We want to close (shutdown, slow consumer, a bridge's end, the client's own `close()`).
    public mutating func closeRequested(_ close: WebSocketClose) -> Action {
        guard self.state == .open else { return .none }
        guard self.hasCloseFrame else {
            self.state = .closed
            return .disconnect(report: close)
        }
        self.state = .closeSent
        return .sendClose(frame: close, thenDisconnect: false, report: close)
    }

    /// The peer's close frame arrived (code and reason already validated).
    public mutating func peerClosed(_ close: WebSocketClose) -> Action {
        switch self.state {
        case .open:
            self.state = .closed
            // Echo the code, not the reason (section 5.5.1); the server closes TCP first
            // (section 7.1.1), and a client answering does so too rather than wait for it.
            return .sendClose(frame: WebSocketClose(code: close.code, reason: nil), thenDisconnect: true, report: close)
        case .closeSent:
            self.state = .closed
            return .disconnect(report: nil)
        case .closed:
            return .none
        }
    }

    /// The peer broke a rule: fail the connection (section 7.1.7) with our close, then TCP.
    public mutating func protocolFailed(_ close: WebSocketClose) -> Action {
        switch self.state {
        case .open:
            self.state = .closed
            return self.hasCloseFrame
                ? .sendClose(frame: close, thenDisconnect: true, report: close) : .disconnect(report: close)
        case .closeSent:
            self.state = .closed
            return .disconnect(report: nil)
        case .closed:
            return .none
        }
    }

    /// The peer did not answer our close within the grace period.
    public mutating func graceExpired() -> Action {
        guard self.state == .closeSent else { return .none }
        self.state = .closed
        return .disconnect(report: nil)
    }

    /// The TCP connection went away. Returns the end to report, if it was not reported yet.
    public mutating func connectionLost() -> WebSocketClose? {
        let wasOpen = self.state == .open
        self.state = .closed
        return wasOpen ? WebSocketClose(code: nil, reason: nil) : nil
    }
}
