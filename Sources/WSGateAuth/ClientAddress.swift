/// Why a `trusted_proxies` entry was refused.
public enum CIDRError: Error, Hashable, Sendable {
    /// The part before `/` is not an IPv4 or IPv6 address.
    case invalidAddress(String)
    /// The prefix length is not a decimal in 0...32 (IPv4) or 0...128 (IPv6).
    case invalidPrefixLength(String)
    /// Bits are set past the prefix (`10.0.0.1/8`): almost always a typo for the network or the host.
    case hostBitsSet(String)
}

/// One network: an address and a prefix length (`10.0.0.0/8`, `2001:db8::/32`; a bare address is /32 or /128).
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    /// Parses `address/length` or a bare address. IPv4-mapped IPv6 networks are taken as IPv4.
    public init(_ text: String) throws(CIDRError) {
        let trimmed = text.trimmingASCIISpaces()
        let parts = trimmed.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { throw .invalidAddress(text) }
        let maximum = address.isIPv4 ? 32 : 128
        var length = maximum
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 3, digits.utf8.allSatisfy({ IPAddress.digitValue($0) != nil }),
                !(digits.count > 1 && digits.hasPrefix("0")), let value = Int(digits), value <= maximum
            else { throw .invalidPrefixLength(text) }
            length = value
        }
        var network = address
        var networkLength = length
        if case .v6(let high, let low) = address, high == 0, low >> 32 == 0xFFFF, length >= 96 {
            network = .v4(UInt32(truncatingIfNeeded: low))
            networkLength = length - 96
        }
        guard Self.mask(network, networkLength) == network else { throw .hostBitsSet(text) }
        self.network = network
        self.prefixLength = networkLength
    }

    /// True when `address` (IPv4-mapped IPv6 taken as IPv4) is inside this network.
    public func contains(_ address: IPAddress) -> Bool {
        let candidate = address.unmapped
        guard candidate.isIPv4 == network.isIPv4 else { return false }
        return Self.mask(candidate, prefixLength) == network
    }

    public var description: String { "\(network)/\(prefixLength)" }

    static func mask(_ address: IPAddress, _ length: Int) -> IPAddress {
        switch address {
        case .v4(let value):
            return .v4(length == 0 ? 0 : value & ~UInt32(0) << (32 - length))
        case .v6(let high, let low):
            let highMask: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~UInt64(0) << (64 - length))
            let lowMask: UInt64 = length <= 64 ? 0 : (length >= 128 ? ~0 : ~UInt64(0) << (128 - length))
            return .v6(high & highMask, low & lowMask)
        }
    }
}

/// The `trusted_proxies` list: the peers whose `X-Forwarded-For` and PROXY headers are believed.
/// Empty (the default) trusts nobody.
public struct TrustedProxies: Hashable, Sendable {
    public let networks: [CIDR]

    /// Parses every entry; the first bad one throws.
    public init(_ cidrs: [String]) throws(CIDRError) {
        var networks: [CIDR] = []
        for text in cidrs { networks.append(try CIDR(text)) }
        self.networks = networks
    }

    public init(networks: [CIDR]) { self.networks = networks }

    /// Trusts nobody.
    public static let none = TrustedProxies(networks: [])

    /// True when the address is inside one of the networks. The text may carry a port or brackets
    /// (`1.2.3.4:80`, `[::1]:80`); anything that is not an address is not trusted.
    public func contains(_ address: String) -> Bool {
        guard let parsed = ClientAddress.parseEntry(address) else { return false }
        return contains(parsed)
    }

    public func contains(_ address: IPAddress) -> Bool {
        networks.contains { $0.contains(address) }
    }
}

/// The client's real address (SPEC "Who may connect": `trusted_proxies`).
public enum ClientAddress {
    /// The real client of a request that arrived from `peer`.
    ///
    /// From an untrusted peer, `X-Forwarded-For` is ignored: the peer is the client. From a trusted
    /// peer, the entries of every `X-Forwarded-For` line (in order, comma-separated) are walked
    /// right to left, skipping trusted addresses; the first untrusted one is the client. If all are
    /// trusted, the leftmost is. A junk entry (not an address, `unknown`, a zone id) stops the
    /// walk: the client is then the last address walked (the nearest hop that could be checked),
    /// or the peer when the rightmost entry is junk. Spaces, IPv4 ports (`1.2.3.4:5678`) and
    /// bracketed IPv6 (`[::1]:80`) are accepted. The result is an address in canonical text
    /// (IPv4-mapped IPv6 as IPv4), without port; a peer that does not parse is returned as given.
    public static func resolve(peer: String, xForwardedFor: [String], trusted: TrustedProxies) -> String {
        guard let peerAddress = parseEntry(peer) else { return peer }
        var client = peerAddress
        guard trusted.contains(peerAddress) else { return client.description }
        let entries = xForwardedFor.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
        for entry in entries.reversed() {
            guard let address = parseEntry(entry) else { break }
            client = address
            if !trusted.contains(address) { break }
        }
        return client.description
    }

    /// One address as headers write it: surrounding spaces, `a.b.c.d[:port]`, `ipv6`, `[ipv6][:port]`.
    /// The result is unmapped (IPv4-mapped IPv6 as IPv4).
    public static func parseEntry(_ text: some StringProtocol) -> IPAddress? {
        let trimmed = Substring(text).trimmingASCIISpaces()
        guard !trimmed.isEmpty else { return nil }
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else { return nil }
            let inner = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            let rest = trimmed[trimmed.index(after: close)...]
            guard rest.isEmpty || isPort(rest.dropFirst()) && rest.hasPrefix(":") else { return nil }
            guard let address = IPAddress.parseV6(Array(inner.utf8)[...]) else { return nil }
            return IPAddress.v6(address.0, address.1).unmapped
        }
        if let address = IPAddress(trimmed) { return address.unmapped }
        // IPv4 with a port.
        let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, isPort(parts[1]), let v4 = IPAddress.parseV4(Array(parts[0].utf8)[...]) {
            return .v4(v4)
        }
        return nil
    }

    static func isPort(_ text: some StringProtocol) -> Bool {
        guard !text.isEmpty, text.count <= 5, text.utf8.allSatisfy({ IPAddress.digitValue($0) != nil }),
            let value = Int(text), value <= 65535
        else { return false }
        return true
    }
}

/// The forwarding headers the gateway sends to an upstream (SPEC "Upstream fine print").
public struct ForwardedHeaders: Hashable, Sendable {
    /// `X-Forwarded-For`.
    public var xForwardedFor: String
    /// `X-Forwarded-Proto`: `http` or `https`, as the client's connection was.
    public var xForwardedProto: String
    /// `X-Forwarded-Host`: the client's `Host`.
    public var xForwardedHost: String
    /// `Forwarded` (RFC 7239): `for=...;proto=...;host=...`, IPv6 and ports quoted.
    public var forwarded: String

    /// The headers for a request from `client` (the resolved real address, see ``ClientAddress``).
    ///
    /// - Parameters:
    ///   - client: the client's address (`ClientAddress.resolve`), without port.
    ///   - proto: `http` or `https`.
    ///   - host: the request's `Host` value (empty: no `host=` in `Forwarded`).
    ///   - existingXFF: the `X-Forwarded-For` lines received, ONLY when the peer is trusted (pass
    ///     `[]` otherwise: an untrusted peer's header is replaced). The entries are kept up to the
    ///     rightmost one naming `client` (the trusted hops after it are dropped, so the upstream
    ///     reads the client as the rightmost entry); if `client` is not among them it is appended.
    ///     Junk entries are dropped.
    public static func make(client: String, proto: String, host: String, existingXFF: [String]) -> ForwardedHeaders {
        let clientAddress = ClientAddress.parseEntry(client)
        let clientText = clientAddress?.description ?? sanitized(client)
        var chain: [String] = []
        for entry in existingXFF.flatMap({ $0.split(separator: ",") }) {
            if let address = ClientAddress.parseEntry(entry) { chain.append(address.description) }
        }
        if let last = chain.lastIndex(of: clientText) {
            chain.removeSubrange((last + 1)...)
        } else {
            chain.append(clientText)
        }
        var forwarded = "for=" + forwardedNode(clientAddress, fallback: clientText)
        forwarded += ";proto=" + forwardedValue(sanitized(proto))
        let cleanHost = sanitized(host)
        if !cleanHost.isEmpty { forwarded += ";host=" + forwardedValue(cleanHost) }
        return ForwardedHeaders(
            xForwardedFor: chain.joined(separator: ", "), xForwardedProto: sanitized(proto),
            xForwardedHost: cleanHost, forwarded: forwarded
        )
    }

    /// The headers as (name, value) pairs, in a fixed order.
    public var fields: [(name: String, value: String)] {
        [
            ("X-Forwarded-For", xForwardedFor), ("X-Forwarded-Proto", xForwardedProto),
            ("X-Forwarded-Host", xForwardedHost), ("Forwarded", forwarded),
        ]
    }

    public init(xForwardedFor: String, xForwardedProto: String, xForwardedHost: String, forwarded: String) {
        self.xForwardedFor = xForwardedFor
        self.xForwardedProto = xForwardedProto
        self.xForwardedHost = xForwardedHost
        self.forwarded = forwarded
    }

    /// RFC 7239 node: IPv4 bare; IPv6 as `"[v6]"`; anything else through `forwardedValue`.
    static func forwardedNode(_ address: IPAddress?, fallback: String) -> String {
        switch address {
        case .v4?: return address!.description
        case .v6?: return "\"[\(address!.description)]\""
        case nil: return forwardedValue(fallback)
        }
    }

    /// A token when every character is a tchar (RFC 7230), else a quoted-string with `"` and `\` escaped.
    static func forwardedValue(_ value: String) -> String {
        let tchars = Set("!#$%&'*+-.^_`|~".utf8)
        let isToken =
            !value.isEmpty
            && value.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || tchars.contains(byte)
            }
        if isToken { return value }
        var quoted = "\""
        for character in value {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }

    /// Drops control characters (CR, LF, NUL...): a header value must never break the request.
    static func sanitized(_ value: String) -> String {
        String(String.UnicodeScalarView(value.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
    }
}

extension StringProtocol {
    func trimmingASCIISpaces() -> Substring {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return slice
    }
}
