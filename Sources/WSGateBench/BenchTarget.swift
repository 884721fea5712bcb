import Foundation

/// Where the bench connects: parsed from a ws:// or wss:// URL. Loopback only.
struct BenchTarget {
    var isTLS: Bool
    var host: String
    var port: Int
    var path: String

    init(url: String) throws {
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("ws://") {
            self.isTLS = false
            rest = url.dropFirst(5)
        } else if lower.hasPrefix("wss://") {
            self.isTLS = true
            rest = url.dropFirst(6)
        } else {
            throw BenchError("the URL must start with ws:// or wss://: \(url)")
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        self.path = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) else {
            throw BenchError("the URL needs host:port: \(url)")
        }
        self.host = String(authority[..<colon])
        self.port = port
        guard self.host.hasPrefix("127.") || self.host == "localhost" else {
            throw BenchError("wsgate-bench only targets loopback (127.0.0.0/8 or localhost), not \(self.host)")
        }
    }
}

/// A usage or runtime problem, printed as is.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
