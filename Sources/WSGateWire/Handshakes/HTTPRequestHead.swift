/// A parsed HTTP/1.x request head: request line and header fields, in the order they came.
///
/// Header names keep their original spelling; lookups are case-insensitive (RFC 9110 section 5.1).
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token, e.g. `GET`.
    public var method: String
    /// The request target as sent, e.g. `/chat?x=1`.
    public var target: String
    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    public var minorVersion: Int
    /// Header fields in arrival order.
    public var headers: [(name: String, value: String)]

    public init(method: String, target: String, minorVersion: Int, headers: [(name: String, value: String)]) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
    }

    /// The path part of the target, without the query string.
    public var path: String {
        if let question = self.target.firstIndex(of: "?") {
            return String(self.target[..<question])
        }
        return self.target
    }

    /// The first value of header `name` (case-insensitive), or `nil`.
    public func first(_ name: String) -> String? {
        for header in self.headers where header.name.caseInsensitiveEquals(name) {
            return header.value
        }
        return nil
    }

    /// Every value of header `name`, each split at commas and trimmed (RFC 9110 section 5.3).
    public func tokens(_ name: String) -> [String] {
        var result: [String] = []
        for header in self.headers where header.name.caseInsensitiveEquals(name) {
            for part in header.value.split(separator: ",") {
                let trimmed = part.trimmingASCIIWhitespace()
                if !trimmed.isEmpty { result.append(trimmed) }
            }
        }
        return result
    }

    /// Whether header `name` lists `token` (case-insensitive), as in `Connection: keep-alive, Upgrade`.
    public func contains(_ name: String, token: String) -> Bool {
        self.tokens(name).contains { $0.caseInsensitiveEquals(token) }
    }

    public static func == (lhs: HTTPRequestHead, rhs: HTTPRequestHead) -> Bool {
        lhs.method == rhs.method && lhs.target == rhs.target && lhs.minorVersion == rhs.minorVersion
            && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }
}

extension StringProtocol {
    /// ASCII case-insensitive comparison, without allocating.
    func caseInsensitiveEquals(_ other: some StringProtocol) -> Bool {
        let a = self.utf8
        let b = other.utf8
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in
            let lx = (x >= 0x41 && x <= 0x5A) ? x | 0x20 : x
            let ly = (y >= 0x41 && y <= 0x5A) ? y | 0x20 : y
            return lx == ly
        }
    }

    /// The string without leading and trailing spaces and tabs.
    func trimmingASCIIWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
