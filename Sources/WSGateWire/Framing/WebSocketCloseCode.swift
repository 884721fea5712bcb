import NIOWebSocket

/// An RFC 6455 close code (section 7.4), the one type every close in wsgate carries.
///
/// The named codes are the ones the gateway sends; any code a peer may send (`isValidReceived`)
/// can be carried too. Every error and refusal is turned into a code here, in one place.
public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    public let rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// A code written as its number (`1008`).
    public init(integerLiteral value: UInt16) {
        self.rawValue = value
    }

    /// 1000: the purpose of the connection is fulfilled.
    public static let normalClosure = Self(rawValue: 1000)
    /// 1001: the gateway is going away (shutdown, idle, keepalive timeout).
    public static let goingAway = Self(rawValue: 1001)
    /// 1002: the peer broke the protocol.
    public static let protocolError = Self(rawValue: 1002)
    /// 1003: a kind of data this endpoint cannot take.
    public static let unacceptableData = Self(rawValue: 1003)
    /// 1007: data inconsistent with the message type (bad UTF-8, bad base64, bad deflate data).
    public static let invalidPayload = Self(rawValue: 1007)
    /// 1008: a policy was broken (slow consumer, rate limit, expired token).
    public static let policyViolation = Self(rawValue: 1008)
    /// 1009: a message over the size limit.
    public static let messageTooBig = Self(rawValue: 1009)
    /// 1011: the gateway met an unexpected condition.
    public static let internalError = Self(rawValue: 1011)
    /// 1012: the service is restarting, or its state was lost (cluster `room state lost`).
    public static let serviceRestart = Self(rawValue: 1012)
    /// 1013: try again later (cluster outage queue full).
    public static let tryAgainLater = Self(rawValue: 1013)

    /// Whether a peer may send this code (sections 7.4.1, 7.4.2 and the IANA registry).
    public var isValidReceived: Bool {
        switch self.rawValue {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }

    /// The code for an error of NIO's frame decoder.
    public init(_ error: NIOWebSocketError) {
        switch error {
        case .invalidFrameLength: self = .messageTooBig
        case .fragmentedControlFrame, .multiByteControlFrameLength: self = .protocolError
        }
    }

    public var description: String { String(self.rawValue) }
}
