/// Whether a TLS listener also accepts plain connections (key `tls.plain`, default `reject`).
///
/// With `accept`, the first byte of each connection tells TLS (a handshake record, `0x16`) from plain.
public enum PlainPolicy: String, Sendable, Equatable, CaseIterable {
    /// Plain and TLS connections on the same port.
    case accept
    /// TLS only; a plain connection is closed.
    case reject
}
