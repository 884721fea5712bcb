/// Parses and checks `host:port` addresses: IPv4, `localhost`, host names, and `[IPv6]:port`.
enum HostPort {
    /// The host (IPv6 without brackets) and port, or the reason the text is not a valid address.
    static func parse(_ text: String, minimumPort: Int) -> Result<(host: String, port: Int), AddressError> {
        let host: String
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return .failure(AddressError("missing ']' after the IPv6 address in '\(text)'"))
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                return .failure(AddressError("expected host:port, e.g. [::1]:8080, found '\(text)'"))
            }
            portText = rest.dropFirst()
            guard Self.isIPv6(host) else {
                return .failure(AddressError("'\(host)' is not an IPv6 address"))
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return .failure(AddressError("expected host:port, e.g. 127.0.0.1:8080, found '\(text)'"))
            }
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                return .failure(AddressError("an IPv6 address needs brackets, e.g. [::1]:8080, found '\(text)'"))
            }
            if let problem = Self.hostProblem(host) {
                return .failure(AddressError(problem))
            }
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = Int(portText)
        else {
            return .failure(AddressError("expected a port number after ':', found '\(portText)'"))
        }
        guard port >= minimumPort, port <= 65535 else {
            return .failure(AddressError("port \(port) is out of range \(minimumPort)–65535"))
        }
        return .success((host, port))
    }

    /// Why `host` is neither an IPv4 address nor a host name, or nil if it is fine.
    static func hostProblem(_ host: String) -> String? {
        if host.isEmpty {
            return "the host is missing (use 0.0.0.0 for every interface)"
        }
        if host.allSatisfy({ $0 == "." || ($0.isASCII && $0.isNumber) }) {
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            let isValid = parts.count == 4 && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && (Int(part) ?? 256) <= 255
            }
            return isValid ? nil : "'\(host)' is not an IPv4 address"
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let isValid = host.count <= 253 && labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        return isValid ? nil : "'\(host)' is not a host name or an IPv4 address"
    }

    /// A loose IPv6 check: hex groups of at most 4 digits, at most one `::`, optionally an IPv4 tail.
    static func isIPv6(_ host: String) -> Bool {
        guard host.contains(":"), host.components(separatedBy: "::").count <= 2 else {
            return false
        }
        var groups = host.split(separator: ":", omittingEmptySubsequences: true)
        var groupLimit = 8
        if let last = groups.last, last.contains(".") {
            guard Self.hostProblem(String(last)) == nil, last.allSatisfy({ $0 == "." || $0.isNumber }) else {
                return false
            }
            groups.removeLast()
            groupLimit = 6
        }
        let hasDoubleColon = host.contains("::")
        guard hasDoubleColon ? groups.count < groupLimit : groups.count == groupLimit else {
            return false
        }
        return groups.allSatisfy { group in group.count <= 4 && group.allSatisfy { $0.isHexDigit } }
    }
}

/// Why an address was refused; the text becomes the reason of an `invalidValue` error.
struct AddressError: Error {
    let reason: String

    init(_ reason: String) {
        self.reason = reason
    }
}
