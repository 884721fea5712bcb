import NIOWebSocket
import Testing
import WSGateWire

/// The closing handshake without a channel: what each end does, for every dialect.
struct ClosingHandshakeTests {
    private let bye = WebSocketClose(code: .normalClosure, reason: "bye")

    @Test func aPeerCloseIsEchoedWithItsCodeButNotItsReasonThenTCPCloses() {
        var machine = ClosingHandshake(hasCloseFrame: true)
        #expect(machine.peerClosed(self.bye) == .sendClose(frame: WebSocketClose(code: .normalClosure, reason: nil), thenDisconnect: true, report: self.bye))
        #expect(machine.state == .closed)
        #expect(!machine.canSend && !machine.delivers)
    }

    @Test func ourCloseWaitsForThePeersAnswerWhichIsNotReportedTwice() {
        var machine = ClosingHandshake(hasCloseFrame: true)
        let going = WebSocketClose(code: .goingAway, reason: "going away")
        #expect(machine.closeRequested(going) == .sendClose(frame: going, thenDisconnect: false, report: going))
        #expect(machine.state == .closeSent)
        #expect(!machine.canSend, "nothing more is sent after our close")
        #expect(machine.closeRequested(self.bye) == .none, "a second request does nothing")
        #expect(machine.peerClosed(self.bye) == .disconnect(report: nil))
        #expect(machine.state == .closed)
    }

    @Test func anUnansweredCloseEndsWhenTheGracePeriodExpires() {
        var machine = ClosingHandshake(hasCloseFrame: true)
        _ = machine.closeRequested(self.bye)
        #expect(machine.graceExpired() == .disconnect(report: nil))
        #expect(machine.graceExpired() == .none)
    }

    @Test func aProtocolErrorSendsItsCodeThenCloses() {
        var machine = ClosingHandshake(hasCloseFrame: true)
        let error = WebSocketClose(code: .protocolError, reason: "reserved bits set")
        #expect(machine.protocolFailed(error) == .sendClose(frame: error, thenDisconnect: true, report: error))
        #expect(machine.protocolFailed(error) == .none)
    }

    @Test func aProtocolErrorAfterOurCloseOnlyDisconnects() {
        var machine = ClosingHandshake(hasCloseFrame: true)
        _ = machine.closeRequested(self.bye)
        #expect(machine.protocolFailed(WebSocketClose(code: .protocolError, reason: "x")) == .disconnect(report: nil))
    }

    @Test func hixie75HasNoCloseFrameSoACloseIsATCPClose() {
        var machine = ClosingHandshake(hasCloseFrame: false)
        #expect(machine.closeRequested(self.bye) == .disconnect(report: self.bye))
        var failing = ClosingHandshake(hasCloseFrame: false)
        let error = WebSocketClose(code: nil, reason: "bad frame")
        #expect(failing.protocolFailed(error) == .disconnect(report: error))
    }

    @Test func aLostConnectionIsReportedOnceAndOnlyIfNothingWasReported() {
        var open = ClosingHandshake(hasCloseFrame: true)
        #expect(open.connectionLost() == WebSocketClose(code: nil, reason: nil))
        #expect(open.connectionLost() == nil)
        var closing = ClosingHandshake(hasCloseFrame: true)
        _ = closing.closeRequested(self.bye)
        #expect(closing.connectionLost() == nil, "the end was reported when our close went out")
    }

    @Test func closeCodesMapFromNIOErrorsInOnePlace() {
        #expect(WebSocketCloseCode(.invalidFrameLength) == .messageTooBig)
        #expect(WebSocketCloseCode(.fragmentedControlFrame) == .protocolError)
        #expect(WebSocketCloseCode(.multiByteControlFrameLength) == .protocolError)
        #expect(WebSocketCloseCode(rawValue: 1005).isValidReceived == false)
        #expect(WebSocketCloseCode(rawValue: 4001).isValidReceived)
    }
}
