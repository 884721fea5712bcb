/// Tells TLS from plain by a connection's first byte, without consuming it: `0x16` starts a TLS
/// handshake record, `0x80` an SSLv2-style ClientHello. Anything else is plain.
public struct TLSSniffer: Sendable {
    /// What the first byte says the connection speaks.
    public enum Kind: Sendable, Equatable {
        /// A TLS (or SSLv2-style) hello: hand the connection to `TLSHandler`.
        case tls
        /// Anything else: plain HTTP or a WebSocket handshake.
        case plain
    }

    /// Classifies a connection by its first byte.
    public static func classify(_ firstByte: UInt8) -> Kind {
        switch firstByte {
        case 0x16, 0x80: return .tls
        default: return .plain
        }
    }
}
