import NIOCore

/// The hixie-75 opening handshake (draft-hixie-thewebsocketprotocol-75): no keys and no token.
///
/// Builds the server's answer (section 4.2) and the client's request (section 3.1). It does not read
/// request heads or check `Origin`: the caller does. Header values are written as they are; they
/// must not contain CR or LF (a parsed head cannot).
public enum Hixie75Handshake {
    /// The status line of the server's answer, as the draft spells it (note "Web Socket", two words).
    static let statusLine = "HTTP/1.1 101 Web Socket Protocol Handshake"

    /// The server's answer: the 101 status line, `Upgrade: WebSocket`, `Connection: Upgrade`,
    /// `WebSocket-Origin`, `WebSocket-Location`, then `WebSocket-Protocol` when `subprotocol` is set,
    /// and the blank line.
    public static func serverResponse(origin: String, location: String, subprotocol: String?) -> ByteBuffer {
        var head = "\(Self.statusLine)\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
        head += "WebSocket-Origin: \(origin)\r\nWebSocket-Location: \(location)\r\n"
        if let subprotocol {
            head += "WebSocket-Protocol: \(subprotocol)\r\n"
        }
        head += "\r\n"
        return ByteBuffer(string: head)
    }

    /// The client's request: `GET path HTTP/1.1`, `Host`, `Upgrade: WebSocket`, `Connection: Upgrade`,
    /// `Origin`, then `WebSocket-Protocol` when `subprotocol` is set, and the blank line.
    public static func clientRequest(host: String, path: String, origin: String, subprotocol: String?) -> ByteBuffer {
        var head = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
        head += "Origin: \(origin)\r\n"
        if let subprotocol {
            head += "WebSocket-Protocol: \(subprotocol)\r\n"
        }
        head += "\r\n"
        return ByteBuffer(string: head)
    }
}
