internal import COpenSSL
import NIOCore

/// The hixie-76 opening handshake (draft-hixie-thewebsocketprotocol-76), server and client side.
///
/// Implements the key arithmetic and the MD5 challenge of section 5.2 (server) and section 4.1
/// (client: key generation, the request, the expected answer). It does not read request heads,
/// check `Upgrade`/`Connection`/`Origin`, or choose a subprotocol: the caller does. Header values
/// passed in are written as they are; they must not contain CR or LF (a parsed head cannot).
public enum Hixie76Handshake {
    /// The status line of the server's answer, as section 5.2 of the draft spells it.
    static let statusLine = "HTTP/1.1 101 WebSocket Protocol Handshake"

    /// The digits of `key` read as a base-ten number, divided by the key's count of U+0020 spaces
    /// (draft section 5.2, steps for `key-number` and `spaces`).
    ///
    /// Throws `hixieKeyOutOfRange` when the digits exceed 4,294,967,295, `hixieKeyHasNoSpaces` when
    /// the key has no space, and `hixieKeyNotMultipleOfSpaces` when the division leaves a remainder,
    /// checked in that order, as the draft does.
    public static func keyNumber(_ key: String) throws(WireError) -> UInt32 {
        var number: UInt32 = 0
        var spaces: UInt32 = 0
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let (times10, overflow1) = number.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt32(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { throw .hixieKeyOutOfRange }
                number = sum
            case UInt8(ascii: " "):
                spaces += 1  // a String cannot hold 2^32 bytes' worth of spaces on any target we build for
            default:
                continue
            }
        }
        guard spaces > 0 else { throw .hixieKeyHasNoSpaces }
        guard number % spaces == 0 else { throw .hixieKeyNotMultipleOfSpaces }
        return number / spaces
    }

    /// The 16-byte answer of draft section 5.2: MD5 of big-endian `keyNumber(key1)`, big-endian
    /// `keyNumber(key2)` and the 8 bytes of `key3`.
    ///
    /// Throws the errors of `keyNumber(_:)`, and `invalidHeader(name: "key3", …)` when `key3` is not
    /// exactly 8 bytes long.
    public static func challengeResponse(
        key1: String,
        key2: String,
        key3: some Collection<UInt8>
    ) throws(WireError) -> [UInt8] {
        let number1 = try Self.keyNumber(key1)
        let number2 = try Self.keyNumber(key2)
        guard key3.count == 8 else { throw .invalidHeader(name: "key3", reason: "must be exactly 8 bytes") }
        return Self.challengeResponse(number1: number1, number2: number2, key3: Array(key3))
    }

    /// MD5(big-endian `number1` ‖ big-endian `number2` ‖ `key3`), `key3` being 8 bytes.
    static func challengeResponse(number1: UInt32, number2: UInt32, key3: [UInt8]) -> [UInt8] {
        var challenge: [UInt8] = []
        challenge.reserveCapacity(16)
        for number in [number1, number2] {
            challenge.append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: number >> $0) })
        }
        challenge.append(contentsOf: key3)
        return Self.md5(challenge)
    }

    /// The MD5 digest of `bytes`, through OpenSSL's EVP interface (`MD5()` is deprecated in OpenSSL 3).
    static func md5(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 16)
        var length: UInt32 = 0
        let result = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_md5(), nil)
            }
        }
        precondition(result == 1 && length == 16, "Internal inconsistency: OpenSSL could not compute an MD5 digest")
        return digest
    }

    /// The server's answer (draft section 5.2): `serverResponseHead` followed by the 16 `token`
    /// bytes, in one buffer.
    public static func serverResponse(
        origin: String,
        location: String,
        subprotocol: String?,
        token: [UInt8]
    ) -> ByteBuffer {
        var buffer = Self.serverResponseHead(origin: origin, location: location, subprotocol: subprotocol)
        buffer.writeBytes(token)
        return buffer
    }

    /// The head of the server's answer, which goes out as soon as the request head is accepted
    /// (before key3 is read: intermediaries forward key3 only after they saw it): the 101 status
    /// line, `Upgrade: WebSocket`, `Connection: Upgrade`, `Sec-WebSocket-Origin`,
    /// `Sec-WebSocket-Location`, then `Sec-WebSocket-Protocol` when `subprotocol` is set, and the
    /// blank line. The 16-byte token follows once key3 has arrived.
    public static func serverResponseHead(origin: String, location: String, subprotocol: String?) -> ByteBuffer {
        var head = "\(Self.statusLine)\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
        head += "Sec-WebSocket-Origin: \(origin)\r\nSec-WebSocket-Location: \(location)\r\n"
        if let subprotocol {
            head += "Sec-WebSocket-Protocol: \(subprotocol)\r\n"
        }
        head += "\r\n"
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.utf8.count + 16)
        buffer.writeString(head)
        return buffer
    }

    /// The client's request (draft section 4.1) with fresh random keys and key3: `GET path HTTP/1.1`,
    /// `Host`, `Upgrade: WebSocket`, `Connection: Upgrade`, `Origin`, `Sec-WebSocket-Key1`,
    /// `Sec-WebSocket-Key2`, `Sec-WebSocket-Protocol` when `subprotocol` is set, the blank line and the
    /// 8 key3 bytes; and the 16 bytes the server must answer with.
    public static func clientRequest(
        host: String,
        path: String,
        origin: String,
        subprotocol: String?
    ) -> (request: ByteBuffer, expectedToken: [UInt8]) {
        var generator = SystemRandomNumberGenerator()
        return Self.clientRequest(host: host, path: path, origin: origin, subprotocol: subprotocol, using: &generator)
    }

    /// `clientRequest(host:path:origin:subprotocol:)` with a chosen random number generator.
    static func clientRequest<G: RandomNumberGenerator>(
        host: String,
        path: String,
        origin: String,
        subprotocol: String?,
        using generator: inout G
    ) -> (request: ByteBuffer, expectedToken: [UInt8]) {
        let (key1, number1) = Self.makeKey(using: &generator)
        let (key2, number2) = Self.makeKey(using: &generator)
        let key3 = (0..<8).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        var head = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
        head += "Origin: \(origin)\r\nSec-WebSocket-Key1: \(key1)\r\nSec-WebSocket-Key2: \(key2)\r\n"
        if let subprotocol {
            head += "Sec-WebSocket-Protocol: \(subprotocol)\r\n"
        }
        head += "\r\n"
        var request = ByteBuffer()
        request.reserveCapacity(head.utf8.count + key3.count)
        request.writeString(head)
        request.writeBytes(key3)
        return (request, Self.challengeResponse(number1: number1, number2: number2, key3: key3))
    }

    /// A fresh key and its number, made as draft section 4.1 says: 1 to 12 spaces, a number up to
    /// 4,294,967,295 / spaces, the product's digits, 1 to 12 noise characters from U+0021–U+002F and
    /// U+003A–U+007E at random places, then the spaces at random places other than the first and last.
    /// `keyNumber(key)` returns `number`.
    public static func makeKey<G: RandomNumberGenerator>(using generator: inout G) -> (key: String, number: UInt32) {
        let spaces = UInt32.random(in: 1...12, using: &generator)
        let number = UInt32.random(in: 0...(UInt32.max / spaces), using: &generator)
        var key = Array(String(number * spaces).utf8)
        let noise = Array((0x21...0x2F).map { UInt8($0) } + (0x3A...0x7E).map { UInt8($0) })
        for _ in 0..<Int.random(in: 1...12, using: &generator) {
            let character = noise.randomElement(using: &generator)!  // noise is not empty
            key.insert(character, at: Int.random(in: 0...key.count, using: &generator))
        }
        for _ in 0..<spaces {
            key.insert(UInt8(ascii: " "), at: Int.random(in: 1..<key.count, using: &generator))  // count >= 2
        }
        return (String(decoding: key, as: UTF8.self), number)
    }
}
