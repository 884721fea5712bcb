/// How an upstream bridge sends TCP bytes to WebSocket clients (route key `encoding`, default `binary`).
///
/// See docs/SPEC.md "Upstream bridges": clients that negotiate the `base64` subprotocol, and hixie clients
/// unless the route says `text`, get base64 whatever this says.
public enum BridgeEncoding: String, Sendable, Equatable, CaseIterable {
    /// Binary messages carrying the bytes as they came.
    case binary
    /// Text messages carrying the bytes in base64.
    case base64
    /// UTF-8 text messages; an incomplete UTF-8 sequence is held back until the rest arrives.
    case text
}
