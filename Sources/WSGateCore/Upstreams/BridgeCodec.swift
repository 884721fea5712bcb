import NIOCore
import WSGateConfig
import WSGateWire

/// The byte rules of an upstream bridge (docs/SPEC.md "Upstream bridges"), with no I/O.
enum BridgeCodec {
    /// The encoding a connection carries: the `base64` subprotocol wins; hixie clients cannot take
    /// binary, so they get base64 unless the route says `text`; otherwise the route's choice.
    static func encoding(route: BridgeEncoding, dialect: WebSocketDialect, subprotocol: String?) -> BridgeEncoding {
        if subprotocol == "base64" { return .base64 }
        if dialect.isHixie { return route == .text ? .text : .base64 }
        return route
    }

    /// WebSocket → TCP: the bytes to write upstream, or `nil` for text that is not valid base64.
    static func upstreamBytes(for message: GatewayMessage, encoding: BridgeEncoding) -> ByteBuffer? {
        switch message {
        case .binary(let bytes):
            return bytes
        case .text(let bytes):
            guard encoding == .base64 else { return bytes }
            guard let decoded = Base64.decode(bytes) else { return nil }
            return ByteBuffer(bytes: decoded)
        }
    }

    /// Splits `bytes` into the longest prefix that ends on a UTF-8 character boundary and the
    /// incomplete tail (at most 3 bytes) that a TCP segment split.
    static func completeUTF8Prefix(_ bytes: [UInt8]) -> (complete: Int, tail: Int) {
        let count = bytes.count
        var back = 0
        while back < min(3, count) {
            let byte = bytes[count - 1 - back]
            if byte & 0xC0 != 0x80 {  // a lead byte (or ASCII)
                let needed: Int
                switch byte {
                case 0xC0...0xDF: needed = 2
                case 0xE0...0xEF: needed = 3
                case 0xF0...0xF7: needed = 4
                default: needed = 1
                }
                let have = back + 1
                return have < needed ? (count - have, have) : (count, 0)
            }
            back += 1
        }
        return (count, 0)
    }
}
