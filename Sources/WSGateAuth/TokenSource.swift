/// Where a handshake's token came from (SPEC: `Authorization: Bearer`, then the `access_token`
/// query parameter, then the `wsgate_token` cookie).
public enum JWTTokenSource: String, Hashable, Sendable {
    case header
    case query
    case cookie

    /// The token to judge, from the first source PRESENT: a header, query parameter or cookie that
    /// is there is the one judged even when its token is empty or invalid (it does not fall
    /// through to the next). nil means no token at all (401 `WWW-Authenticate: Bearer`, no `error`).
    ///
    /// - Parameters:
    ///   - authorization: the `Authorization` value; only the `Bearer` scheme (any case) counts
    ///     as a token source: other schemes (`Basic ...`) are not a token and are passed over.
    ///   - query: the request's query string (with or without the leading `?`); `access_token`'s
    ///     first occurrence, percent-decoded (`+` as space). A value that does not percent-decode
    ///     is returned as it is, so it fails verification rather than falling through.
    ///   - cookie: the `Cookie` value (several joined with `; `); `wsgate_token`'s first occurrence,
    ///     one pair of surrounding double quotes removed (RFC 6265).
    public static func find(authorization: String?, query: String?, cookie: String?) -> (token: String, source: JWTTokenSource)? {
        if let authorization, let token = bearerToken(authorization) { return (token, .header) }
        if let query, let token = queryParameter("access_token", in: query) { return (token, .query) }
        if let cookie, let token = cookieValue("wsgate_token", in: cookie) { return (token, .cookie) }
        return nil
    }

    static func bearerToken(_ value: String) -> String? {
        let trimmed = value.trimmingASCIISpaces()
        let scheme = trimmed.prefix { $0 != " " && $0 != "\t" }
        guard scheme.lowercased() == "bearer" else { return nil }
        return String(trimmed.dropFirst(scheme.count).trimmingASCIISpaces())
    }

    static func queryParameter(_ name: String, in query: String) -> String? {
        var text = Substring(query)
        if text.hasPrefix("?") { text = text.dropFirst() }
        if let hash = text.firstIndex(of: "#") { text = text[..<hash] }
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecode(parts[0]) ?? String(parts[0])
            guard key == name else { continue }
            let value = parts.count == 2 ? parts[1] : ""
            return percentDecode(value) ?? String(value)
        }
        return nil
    }

    static func cookieValue(_ name: String, in cookie: String) -> String? {
        for pair in cookie.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts[0].trimmingASCIISpaces() == name else { continue }
            var value = parts.count == 2 ? parts[1].trimmingASCIISpaces() : ""
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
            return String(value)
        }
        return nil
    }

    /// application/x-www-form-urlencoded decoding; nil on a bad `%` escape or invalid UTF-8.
    static func percentDecode(_ text: some StringProtocol) -> String? {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = IPAddress.hexValue(bytes[index + 1]),
                    let low = IPAddress.hexValue(bytes[index + 2])
                else { return nil }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte == UInt8(ascii: "+") ? 0x20 : byte)
                index += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}

/// Keeps secrets out of logs and metrics.
public enum Redaction {
    /// The request target with every `access_token` query value replaced by `REDACTED`
    /// (`/vnc?access_token=eyJ...&x=1` → `/vnc?access_token=REDACTED&x=1`). The path, the other
    /// parameters and a fragment are left as they are; a parameter named in percent-encoding
    /// (`access%5Ftoken`) is redacted too.
    public static func redactAccessToken(inTarget target: String) -> String {
        guard let question = target.firstIndex(of: "?") else { return target }
        let path = target[..<question]
        var query = target[target.index(after: question)...]
        var fragment: Substring = ""
        if let hash = query.firstIndex(of: "#") {
            fragment = query[hash...]
            query = query[..<hash]
        }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = JWTTokenSource.percentDecode(parts[0]) ?? String(parts[0])
            return key == "access_token" ? parts[0] + "=REDACTED" : String(pair)
        }
        return path + "?" + pairs.joined(separator: "&") + fragment
    }
}

/// The `WWW-Authenticate` values of a refused handshake (RFC 6750 §3).
public enum BearerChallenge {
    /// No token at all: no `error` attribute (RFC 6750 §3.1).
    public static let missingToken = "Bearer"
    /// A token that failed verification (any `JWTError`).
    public static let invalidToken = #"Bearer error="invalid_token""#
}
