/// A Redis server address: `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS.
///
/// The port defaults to 6379 and the database to 0; an IPv6 host is written in brackets
/// (`redis://[::1]:6379`). The user name and password are percent-decoded (`p%40ss` is `p@ss`); an
/// empty user name (`redis://:secret@host`) means the `default` user. `description` shows the URL with
/// the password replaced by `REDACTED`, for logs.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The host name or IP address (an IPv6 address without its brackets).
    public var host: String
    /// The TCP port.
    public var port: Int
    /// The user name for `AUTH` (Redis 6 ACLs), if any.
    public var username: String?
    /// The password for `AUTH`, if any.
    public var password: String?
    /// The database for `SELECT`.
    public var database: Int
    /// True for `rediss://`: the connection is to run TLS.
    public var usesTLS: Bool

    /// The port when the URL names none.
    public static let defaultPort = 6379

    /// An address from its parts.
    public init(host: String, port: Int = RedisURL.defaultPort, username: String? = nil, password: String? = nil, database: Int = 0, usesTLS: Bool = false) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.usesTLS = usesTLS
    }

    /// Parses `string`; throws a `RedisURLError` that names what is wrong.
    public init(_ string: String) throws(RedisURLError) {
        var rest = Substring(string)
        let lower = string.lowercased()
        if lower.hasPrefix("redis://") {
            usesTLS = false
            rest = rest.dropFirst("redis://".count)
        } else if lower.hasPrefix("rediss://") {
            usesTLS = true
            rest = rest.dropFirst("rediss://".count)
        } else if let colon = string.firstIndex(of: ":"), string[colon...].hasPrefix("://") {
            throw .unsupportedScheme(String(string[..<colon]))
        } else {
            throw .missingScheme
        }
        if rest.contains("?") || rest.contains("#") { throw .unsupportedQuery }

        // Authority and path.
        let authority: Substring
        let path: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        } else {
            authority = rest
            path = ""
        }

        // User information: up to the last "@" (an unescaped "@" in a password is tolerated).
        var hostPort = authority
        username = nil
        password = nil
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            guard let colon = userInfo.firstIndex(of: ":") else { throw .usernameWithoutPassword }
            let user = try Self.percentDecoded(userInfo[..<colon], part: "user name")
            username = user.isEmpty ? nil : user
            password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...], part: "password")
        }

        // Host and port.
        let portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw .unterminatedIPv6Address }
            let address = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            guard address.contains(":"),
                address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." })
            else { throw .invalidHost(String(address)) }
            host = String(address)
            let after = hostPort[hostPort.index(after: close)...]
            if after.isEmpty {
                portText = nil
            } else if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else {
                throw .invalidHost(String(hostPort))
            }
        } else {
            let name: Substring
            if let colon = hostPort.firstIndex(of: ":") {
                name = hostPort[..<colon]
                portText = hostPort[hostPort.index(after: colon)...]
            } else {
                name = hostPort
                portText = nil
            }
            guard !name.isEmpty else { throw .missingHost }
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }) else {
                throw .invalidHost(String(name))
            }
            host = String(name)
        }
        if let portText {
            guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(portText),
                (1...65535).contains(number)
            else { throw .invalidPort(String(portText)) }
            port = number
        } else {
            port = Self.defaultPort
        }

        // Database.
        if path.isEmpty {
            database = 0
        } else {
            guard path.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(path) else {
                throw .invalidDatabase(String(path))
            }
            database = number
        }
    }

    /// The URL with the password replaced by `REDACTED`: safe for logs.
    public var description: String { render(password: password == nil ? nil : "REDACTED") }

    /// The same as `description`: the password never reaches a log.
    public var debugDescription: String { description }

    /// The whole URL, password included (percent-encoded): to hand to another client, never to a log.
    public var unredactedString: String { render(password: password.map { Self.percentEncoded($0) }) }

    private func render(password renderedPassword: String?) -> String {
        var text = usesTLS ? "rediss://" : "redis://"
        if let renderedPassword {
            text += (username.map { Self.percentEncoded($0) } ?? "") + ":" + renderedPassword + "@"
        }
        text += host.contains(":") ? "[\(host)]" : host
        text += ":\(port)/\(database)"
        return text
    }

    // MARK: - Percent encoding

    private static func percentDecoded(_ text: Substring, part: String) throws(RedisURLError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard iterator.count >= 2, let high = hexValue(iterator.popFirst()!), let low = hexValue(iterator.popFirst()!) else {
                throw .invalidPercentEncoding(part: part)
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw .invalidPercentEncoding(part: part) }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Percent-encodes all but the RFC 3986 unreserved characters.
    private static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF".unicodeScalars)
                result.unicodeScalars.append("%")
                result.unicodeScalars.append(digits[Int(byte >> 4)])
                result.unicodeScalars.append(digits[Int(byte & 0x0F)])
            }
        }
        return result
    }
}

/// Why a string is not a Redis URL.
public enum RedisURLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No `scheme://` at the start.
    case missingScheme
    /// A scheme other than `redis` and `rediss` (`unix://` sockets are not supported).
    case unsupportedScheme(String)
    /// Nothing between `//` (or `@`) and the port or path.
    case missingHost
    /// A host with characters no host name has, or a malformed bracketed IPv6 address.
    case invalidHost(String)
    /// A `[` without its `]`.
    case unterminatedIPv6Address
    /// A port that is not a number from 1 to 65535 (or an empty one after `:`).
    case invalidPort(String)
    /// A path that is not a database number ≥ 0.
    case invalidDatabase(String)
    /// A `%` not followed by two hex digits, or percent-encoded bytes that are not UTF-8.
    case invalidPercentEncoding(part: String)
    /// `user@host`: a user name needs a password (`user:password@host`, or `:password@host`).
    case usernameWithoutPassword
    /// A `?query` or `#fragment`: no URL options are supported.
    case unsupportedQuery

    /// What is wrong, in a sentence that shows the expected form.
    public var description: String {
        let form = "redis://[user:password@]host[:port][/db]"
        switch self {
        case .missingScheme: return "a Redis URL starts with redis:// or rediss:// (\(form))"
        case .unsupportedScheme(let scheme): return "unsupported scheme \"\(scheme)\": use redis:// or rediss://"
        case .missingHost: return "the Redis URL names no host (\(form))"
        case .invalidHost(let host): return "invalid host \"\(host)\" (an IPv6 address goes in brackets: redis://[::1]:6379)"
        case .unterminatedIPv6Address: return "an IPv6 address in a Redis URL needs its closing ]"
        case .invalidPort(let port): return "invalid port \"\(port)\": a number from 1 to 65535"
        case .invalidDatabase(let path): return "invalid database \"\(path)\": an integer from 0 (redis://host:6379/2)"
        case .invalidPercentEncoding(let part): return "invalid percent-encoding in the \(part) (use %XX hex escapes of UTF-8)"
        case .usernameWithoutPassword: return "a user name needs a password: redis://user:password@host"
        case .unsupportedQuery: return "a Redis URL takes no ?query or #fragment (\(form))"
        }
    }
}
