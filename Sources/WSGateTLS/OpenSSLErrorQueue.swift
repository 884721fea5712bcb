internal import COpenSSL

/// OpenSSL's thread-local error queue, read as strings.
enum OpenSSLErrorQueue {
    /// Empties the queue and returns one string per entry, oldest first.
    static func drain() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            reasons.append(String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons
    }

    /// `drain()`, or `fallback` when OpenSSL queued nothing (e.g. an EOF in the middle of a handshake).
    static func drain(orElse fallback: @autoclosure () -> String) -> [String] {
        let reasons = self.drain()
        return reasons.isEmpty ? [fallback()] : reasons
    }
}
