/// An IPv4 or IPv6 address, parsed strictly from its text form and printed canonically
/// (dotted quad; RFC 5952 for IPv6: lowercase, longest run of zero groups as `::`).
///
/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, what a dual-stack `[::]` listener reports for
/// IPv4 clients) are folded to IPv4 by ``unmapped``, so `127.0.0.1/32` matches them too.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// Four bytes, network order.
    case v4(UInt32)
    /// Sixteen bytes, network order, as two big-endian halves.
    case v6(UInt64, UInt64)

    /// Parses a bare address: `1.2.3.4` or `2001:db8::1` (no brackets, port or zone).
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        if let v4 = Self.parseV4(bytes[...]) {
            self = .v4(v4)
        } else if let (high, low) = Self.parseV6(bytes[...]) {
            self = .v6(high, low)
        } else {
            return nil
        }
    }

    /// The address as 4 or 16 bytes in network order.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    /// Builds an address from 4 or 16 network-order bytes.
    public init?(bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        switch array.count {
        case 4:
            self = .v4(array.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            self = .v6(
                array[0..<8].reduce(0) { $0 << 8 | UInt64($1) },
                array[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
            )
        default:
            return nil
        }
    }

    /// True for `.v4`. An IPv4-mapped IPv6 address stays `.v6` until ``unmapped``.
    public var isIPv4: Bool {
        if case .v4 = self { return true }
        return false
    }

    /// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it carries; any other unchanged.
    public var unmapped: IPAddress {
        if case .v6(let high, let low) = self, high == 0, low >> 32 == 0xFFFF {
            return .v4(UInt32(truncatingIfNeeded: low))
        }
        return self
    }

    /// The canonical text form (RFC 5952 for IPv6).
    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        case .v6(let high, let low):
            let groups = (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) }
                + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
            // The longest run of two or more zero groups (the first such on a tie) becomes "::".
            var bestStart = -1, bestLength = 0, index = 0
            while index < 8 {
                if groups[index] == 0 {
                    var end = index
                    while end < 8, groups[end] == 0 { end += 1 }
                    if end - index > bestLength { bestStart = index; bestLength = end - index }
                    index = end
                } else {
                    index += 1
                }
            }
            if bestLength < 2 { bestStart = -1 }
            if high == 0, low >> 32 == 0xFFFF {
                return "::ffff:" + IPAddress.v4(UInt32(truncatingIfNeeded: low)).description
            }
            var text = ""
            index = 0
            while index < 8 {
                if index == bestStart {
                    text += "::"
                    index += bestLength
                    continue
                }
                if !text.isEmpty, !text.hasSuffix(":") { text += ":" }
                text += String(groups[index], radix: 16)
                index += 1
            }
            return text
        }
    }

    // MARK: parsing

    static func parseV4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var octets = 0
        var index = bytes.startIndex
        while octets < 4 {
            if octets > 0 {
                guard index < bytes.endIndex, bytes[index] == UInt8(ascii: ".") else { return nil }
                index += 1
            }
            let start = index
            var octet: UInt32 = 0
            while index < bytes.endIndex, index - start < 3, let digit = digitValue(bytes[index]) {
                octet = octet * 10 + UInt32(digit)
                index += 1
            }
            let length = index - start
            // No empty octet, no leading zero ("01"), nothing past 255.
            guard length > 0, octet <= 255, !(length > 1 && bytes[start] == UInt8(ascii: "0")) else { return nil }
            value = value << 8 | octet
            octets += 1
        }
        return index == bytes.endIndex ? value : nil
    }

    static func parseV6(_ bytes: ArraySlice<UInt8>) -> (UInt64, UInt64)? {
        guard bytes.count >= 2, bytes.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        var index = bytes.startIndex
        if bytes[index] == UInt8(ascii: ":") {
            guard bytes[index + 1] == UInt8(ascii: ":") else { return nil }
            sawDoubleColon = true
            index += 2
        }
        var needGroup = !sawDoubleColon  // after a single ':' another group must follow
        while index < bytes.endIndex {
            // An embedded IPv4 address may end the address.
            let segmentEnd = bytes[index...].firstIndex(of: UInt8(ascii: ":")) ?? bytes.endIndex
            if bytes[index..<segmentEnd].contains(UInt8(ascii: ".")) {
                guard segmentEnd == bytes.endIndex, let v4 = parseV4(bytes[index...]) else { return nil }
                let groups = [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                if sawDoubleColon { tail += groups } else { head += groups }
                index = bytes.endIndex
                needGroup = false
                break
            }
            let start = index
            var group: UInt32 = 0
            while index < bytes.endIndex, index - start < 4, let hex = hexValue(bytes[index]) {
                group = group << 4 | UInt32(hex)
                index += 1
            }
            guard index > start else { return nil }
            if sawDoubleColon { tail.append(UInt16(group)) } else { head.append(UInt16(group)) }
            needGroup = false
            if index == bytes.endIndex { break }
            guard bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: ":") {
                guard !sawDoubleColon else { return nil }
                sawDoubleColon = true
                index += 1
            } else {
                needGroup = true
            }
        }
        guard !needGroup else { return nil }
        let count = head.count + tail.count
        if sawDoubleColon {
            guard count <= 7 else { return nil }
        } else {
            guard count == 8 else { return nil }
        }
        let groups = head + [UInt16](repeating: 0, count: 8 - count) + tail
        let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return (high, low)
    }

    static func digitValue(_ byte: UInt8) -> UInt8? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : nil
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
