import NIOCore

/// Small HTTP/1.1 responses written by the gateway itself (errors, static files, admin).
enum HTTPResponse {
    static func statusText(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 426: return "Upgrade Required"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Status"
        }
    }

    /// A head with `Content-Length` and `Connection: close`.
    static func head(status: Int, contentType: String, contentLength: Int, headers: [(String, String)] = []) -> ByteBuffer {
        var text = "HTTP/1.1 \(status) \(Self.statusText(status))\r\n"
        text += "Content-Type: \(contentType)\r\nContent-Length: \(contentLength)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "Connection: close\r\n\r\n"
        return ByteBuffer(string: text)
    }

    /// A complete plain-text response.
    static func text(status: Int, body: String, headers: [(String, String)] = [], includeBody: Bool = true) -> ByteBuffer {
        let bodyBytes = ByteBuffer(string: body)
        var out = Self.head(
            status: status, contentType: "text/plain; charset=utf-8", contentLength: bodyBytes.readableBytes, headers: headers)
        if includeBody { out.writeImmutableBuffer(bodyBytes) }
        return out
    }
}
