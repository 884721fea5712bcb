import NIOCore

/// One end of a proxied connection, as a PROXY header names it.
public struct ProxyEndpoint: Hashable, Sendable {
    /// The address in canonical text form (`1.2.3.4`, `2001:db8::1`).
    public var address: String
    public var port: UInt16

    public init(address: String, port: UInt16) {
        self.address = address
        self.port = port
    }
}

/// The address family a PROXY header declares.
public enum ProxyFamily: Hashable, Sendable {
    case tcp4
    case tcp6
    /// v1 `UNKNOWN`, v2 `AF_UNSPEC`, or a v2 family/transport the gateway does not use (UDP, UNIX):
    /// there are no addresses to believe; the caller keeps the connection's real endpoints.
    case unknown
}

/// What a PROXY header (v1 or v2) says about the connection.
public struct ProxyHeader: Hashable, Sendable {
    /// The original client; nil when `family` is `.unknown` or `isLocal`.
    public var source: ProxyEndpoint?
    /// The address the client connected to; nil when `family` is `.unknown` or `isLocal`.
    public var destination: ProxyEndpoint?
    public var family: ProxyFamily
    /// v2 `LOCAL` command (the proxy's own health check): use the connection's real endpoints.
    public var isLocal: Bool
    /// 1 or 2.
    public var version: Int

    public init(source: ProxyEndpoint?, destination: ProxyEndpoint?, family: ProxyFamily, isLocal: Bool, version: Int) {
        self.source = source
        self.destination = destination
        self.family = family
        self.isLocal = isLocal
        self.version = version
    }
}

/// Why a PROXY header was refused; the caller drops the connection (no HTTP answer).
public enum ProxyProtocolError: Error, Hashable, Sendable {
    /// The first bytes are neither `PROXY ` (v1) nor the v2 signature.
    case notProxyProtocol
    /// A v1 line longer than 107 bytes (CRLF included) without its CRLF.
    case v1TooLong
    /// A v1 line that breaks the syntax (the reason names the field, never the raw bytes).
    case v1Malformed(String)
    /// The v2 version nibble is not 2.
    case v2UnsupportedVersion(UInt8)
    /// The v2 command nibble is neither LOCAL (0) nor PROXY (1).
    case v2UnsupportedCommand(UInt8)
    /// The v2 family/transport byte is not one the protocol defines.
    case v2UnsupportedFamily(UInt8)
    /// The v2 length is shorter than the address block its family needs.
    case v2LengthTooShort(Int)
    /// The v2 length passes the parser's bound.
    case v2TooLong(Int)
    /// `feed` was called after the header was complete or after an error.
    case alreadyFinished
}

/// An incremental PROXY protocol v1/v2 parser (HAProxy's proxy-protocol.txt), for the first
/// bytes of a connection. Feed it bytes as they arrive, split anywhere; it buffers what it needs.
///
/// ```swift
/// var parser = ProxyProtocolParser()
/// switch try parser.feed(buffer) {       // in channelRead
/// case .needMore: break                  // wait for more bytes
/// case .header(let header, let consumed): // bytes after `consumed` in this input are the client's
/// }
/// ```
/// An error means the caller drops the connection. Bad input is refused as soon as it can be
/// told apart (a first byte that starts neither version fails at once).
public struct ProxyProtocolParser: Sendable {
    /// The result of one `feed`.
    public enum Result: Hashable, Sendable {
        /// The header is not complete yet: every byte fed so far belongs to it.
        case needMore
        /// The header is complete; `consumed` is how many bytes of THIS call's input belong to it
        /// (the rest of this input, and everything after, is the client's stream).
        case header(ProxyHeader, consumed: Int)
    }

    /// The v1 line's maximum, CRLF included (the spec's 107).
    public static let v1MaximumLength = 107
    /// The v2 signature: `\r\n\r\n\0\r\nQUIT\n`.
    public static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    static let v1Prefix: [UInt8] = Array("PROXY ".utf8)

    /// The largest v2 `len` accepted (address block plus TLVs); past it, `.v2TooLong`.
    public let maximumV2Length: Int
    private var buffer: [UInt8] = []
    private var finished = false

    /// - Parameter maximumV2Length: bound on the v2 length field (default 1024; the field allows 65535).
    public init(maximumV2Length: Int = 1024) {
        self.maximumV2Length = maximumV2Length
    }

    /// Feeds the next bytes of the connection.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(ProxyProtocolError) -> Result {
        guard !finished else { throw .alreadyFinished }
        let before = buffer.count
        buffer.append(contentsOf: bytes)
        do {
            guard let (header, length) = try Self.parse(buffer, maximumV2Length: maximumV2Length) else {
                return .needMore
            }
            finished = true
            buffer = []
            return .header(header, consumed: length - before)
        } catch {
            finished = true
            buffer = []
            throw error
        }
    }

    /// Feeds a ByteBuffer's readable bytes; on `.header` the buffer's reader index is moved past
    /// the header, so what stays readable is the client's first data.
    public mutating func feed(_ buffer: inout ByteBuffer) throws(ProxyProtocolError) -> Result {
        let result = try feed(buffer.readableBytesView)
        switch result {
        case .needMore:
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        case .header(_, let consumed):
            buffer.moveReaderIndex(forwardBy: consumed)
        }
        return result
    }

    /// Parses a header at the start of `bytes`: nil if more bytes are needed, else the header and its length.
    static func parse(_ bytes: [UInt8], maximumV2Length: Int) throws(ProxyProtocolError) -> (ProxyHeader, Int)? {
        guard let first = bytes.first else { return nil }
        if first == v1Prefix[0] {
            let prefixCount = min(bytes.count, v1Prefix.count)
            guard bytes[0..<prefixCount].elementsEqual(v1Prefix[0..<prefixCount]) else { throw .notProxyProtocol }
            return try parseV1(bytes)
        } else if first == v2Signature[0] {
            let prefixCount = min(bytes.count, v2Signature.count)
            guard bytes[0..<prefixCount].elementsEqual(v2Signature[0..<prefixCount]) else { throw .notProxyProtocol }
            return try parseV2(bytes, maximumLength: maximumV2Length)
        }
        throw .notProxyProtocol
    }

    // MARK: v1

    private static func parseV1(_ bytes: [UInt8]) throws(ProxyProtocolError) -> (ProxyHeader, Int)? {
        let searchEnd = min(bytes.count, v1MaximumLength)
        guard let lf = bytes[0..<searchEnd].firstIndex(of: 0x0A) else {
            // A CR that is not followed by LF, or a stray LF, is caught below once the line is whole.
            if bytes.count >= v1MaximumLength { throw .v1TooLong }
            if let cr = bytes[0..<searchEnd].firstIndex(of: 0x0D), cr + 1 < bytes.count { throw .v1Malformed("CR without LF") }
            return nil
        }
        guard lf > 0, bytes[lf - 1] == 0x0D else { throw .v1Malformed("LF without CR") }
        let line = bytes[v1Prefix.count..<(lf - 1)]
        guard !line.contains(0x0D) else { throw .v1Malformed("CR without LF") }
        let fields = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard let proto = fields.first else { throw .v1Malformed("protocol") }
        let length = lf + 1
        if proto.elementsEqual("UNKNOWN".utf8) {
            // The spec: anything after UNKNOWN up to the CRLF is ignored.
            return (ProxyHeader(source: nil, destination: nil, family: .unknown, isLocal: false, version: 1), length)
        }
        let family: ProxyFamily
        if proto.elementsEqual("TCP4".utf8) {
            family = .tcp4
        } else if proto.elementsEqual("TCP6".utf8) {
            family = .tcp6
        } else {
            throw .v1Malformed("protocol")
        }
        guard fields.count == 5 else { throw .v1Malformed("field count") }
        guard let sourceAddress = v1Address(fields[1], family: family) else { throw .v1Malformed("source address") }
        guard let destinationAddress = v1Address(fields[2], family: family) else { throw .v1Malformed("destination address") }
        guard let sourcePort = v1Port(fields[3]) else { throw .v1Malformed("source port") }
        guard let destinationPort = v1Port(fields[4]) else { throw .v1Malformed("destination port") }
        let header = ProxyHeader(
            source: ProxyEndpoint(address: sourceAddress.description, port: sourcePort),
            destination: ProxyEndpoint(address: destinationAddress.description, port: destinationPort),
            family: family, isLocal: false, version: 1
        )
        return (header, length)
    }

    private static func v1Address(_ field: ArraySlice<UInt8>, family: ProxyFamily) -> IPAddress? {
        switch family {
        case .tcp4:
            return IPAddress.parseV4(field).map { .v4($0) }
        case .tcp6:
            return IPAddress.parseV6(field).map { .v6($0.0, $0.1) }
        case .unknown:
            return nil
        }
    }

    /// Decimal 0...65535, no sign, no leading zero (other than "0" itself).
    private static func v1Port(_ field: ArraySlice<UInt8>) -> UInt16? {
        guard !field.isEmpty, field.count <= 5, !(field.count > 1 && field.first == UInt8(ascii: "0")) else { return nil }
        var value = 0
        for byte in field {
            guard let digit = IPAddress.digitValue(byte) else { return nil }
            value = value * 10 + Int(digit)
        }
        return value <= 65535 ? UInt16(value) : nil
    }

    // MARK: v2

    private static func parseV2(_ bytes: [UInt8], maximumLength: Int) throws(ProxyProtocolError) -> (ProxyHeader, Int)? {
        if bytes.count > 12 {
            let version = bytes[12] >> 4
            guard version == 2 else { throw .v2UnsupportedVersion(version) }
            let command = bytes[12] & 0x0F
            guard command <= 1 else { throw .v2UnsupportedCommand(command) }
        }
        if bytes.count > 13 {
            let familyByte = bytes[13]
            // AF_UNSPEC/AF_INET/AF_INET6/AF_UNIX (0..3) times UNSPEC/STREAM/DGRAM (0..2).
            guard familyByte >> 4 <= 3, familyByte & 0x0F <= 2 else { throw .v2UnsupportedFamily(familyByte) }
        }
        guard bytes.count >= 16 else { return nil }
        let length = Int(bytes[14]) << 8 | Int(bytes[15])
        guard length <= maximumLength else { throw .v2TooLong(length) }
        let isLocal = bytes[12] & 0x0F == 0
        let familyByte = bytes[13]
        let addressLength: Int
        switch familyByte {
        case 0x11, 0x12: addressLength = 12  // AF_INET
        case 0x21, 0x22: addressLength = 36  // AF_INET6
        case 0x31, 0x32: addressLength = 216  // AF_UNIX
        default: addressLength = 0
        }
        // LOCAL ignores the addresses; PROXY needs the whole block its family declares.
        if !isLocal, length < addressLength { throw .v2LengthTooShort(length) }
        guard bytes.count >= 16 + length else { return nil }
        let total = 16 + length
        if isLocal {
            return (ProxyHeader(source: nil, destination: nil, family: .unknown, isLocal: true, version: 2), total)
        }
        let block = bytes[16..<(16 + addressLength)]
        func port(_ offset: Int) -> UInt16 {
            UInt16(block[block.startIndex + offset]) << 8 | UInt16(block[block.startIndex + offset + 1])
        }
        switch familyByte {
        case 0x11:
            let source = IPAddress(bytes: block.prefix(4))!
            let destination = IPAddress(bytes: block.dropFirst(4).prefix(4))!
            return (
                ProxyHeader(
                    source: ProxyEndpoint(address: source.description, port: port(8)),
                    destination: ProxyEndpoint(address: destination.description, port: port(10)),
                    family: .tcp4, isLocal: false, version: 2
                ), total
            )
        case 0x21:
            let source = IPAddress(bytes: block.prefix(16))!
            let destination = IPAddress(bytes: block.dropFirst(16).prefix(16))!
            return (
                ProxyHeader(
                    source: ProxyEndpoint(address: source.description, port: port(32)),
                    destination: ProxyEndpoint(address: destination.description, port: port(34)),
                    family: .tcp6, isLocal: false, version: 2
                ), total
            )
        default:
            // UNSPEC, UDP, UNIX: nothing the gateway can believe; TLVs (after the block) are skipped.
            return (ProxyHeader(source: nil, destination: nil, family: .unknown, isLocal: false, version: 2), total)
        }
    }
}

/// Why a PROXY header could not be written.
public enum ProxyProtocolEncodingError: Error, Hashable, Sendable {
    /// An address that is not a valid IPv4 or IPv6 address.
    case invalidAddress(String)
    /// Source and destination of different families (after IPv4-mapped addresses are unmapped).
    case mixedFamilies
}

/// Writes PROXY v1/v2 headers (as HAProxy's `send-proxy` / `send-proxy-v2`) for the gateway's
/// upstream connections: TCP4 when both addresses are IPv4 (IPv4-mapped IPv6 counts as IPv4), else TCP6.
public enum ProxyProtocolEncoder {
    /// `PROXY TCP4 src dst sport dport\r\n` (or TCP6).
    public static func v1(source: ProxyEndpoint, destination: ProxyEndpoint) throws(ProxyProtocolEncodingError) -> [UInt8] {
        let (src, dst) = try addresses(source, destination)
        let proto = src.isIPv4 ? "TCP4" : "TCP6"
        return Array("PROXY \(proto) \(src) \(dst) \(source.port) \(destination.port)\r\n".utf8)
    }

    /// `PROXY UNKNOWN\r\n`: the v1 header for a connection whose addresses cannot be told.
    public static func v1Unknown() -> [UInt8] { Array("PROXY UNKNOWN\r\n".utf8) }

    /// The v2 binary header: signature, `0x21` (v2, PROXY), `0x11`/`0x21` (TCP over IPv4/IPv6),
    /// length 12 or 36, addresses, ports; no TLVs.
    public static func v2(source: ProxyEndpoint, destination: ProxyEndpoint) throws(ProxyProtocolEncodingError) -> [UInt8] {
        let (src, dst) = try addresses(source, destination)
        var out = ProxyProtocolParser.v2Signature
        out.append(0x21)
        out.append(src.isIPv4 ? 0x11 : 0x21)
        let length: UInt16 = src.isIPv4 ? 12 : 36
        out += [UInt8(length >> 8), UInt8(length & 0xFF)]
        out += src.bytes
        out += dst.bytes
        out += [UInt8(source.port >> 8), UInt8(source.port & 0xFF), UInt8(destination.port >> 8), UInt8(destination.port & 0xFF)]
        return out
    }

    /// The v2 `LOCAL` header (no addresses): what a proxy sends for its own connections.
    public static func v2Local() -> [UInt8] { ProxyProtocolParser.v2Signature + [0x20, 0x00, 0x00, 0x00] }

    private static func addresses(
        _ source: ProxyEndpoint, _ destination: ProxyEndpoint
    ) throws(ProxyProtocolEncodingError) -> (IPAddress, IPAddress) {
        guard let src = IPAddress(source.address)?.unmapped else { throw .invalidAddress(source.address) }
        guard let dst = IPAddress(destination.address)?.unmapped else { throw .invalidAddress(destination.address) }
        guard src.isIPv4 == dst.isIPv4 else { throw .mixedFamilies }
        return (src, dst)
    }
}
