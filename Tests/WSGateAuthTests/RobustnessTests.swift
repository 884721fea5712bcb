import WSGateAuth
import XCTest

/// Random and mutated input never traps (a trap would take the whole gateway down) and never
/// yields a result it should not. Seeded, so every run sees the same inputs; bounded in count.
final class RobustnessTests: XCTestCase {
    /// SplitMix64: a small seeded generator.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func testProxyParserOnRandomAndMutatedInput() throws {
        var random = SeededGenerator(state: 7)
        let seeds: [[UInt8]] = [
            Array("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n".utf8), Array("PROXY TCP6 2001:db8::1 ::1 4711 443\r\n".utf8),
            Array("PROXY UNKNOWN\r\n".utf8),
            try ProxyProtocolEncoder.v2(source: .init(address: "1.2.3.4", port: 1), destination: .init(address: "5.6.7.8", port: 2)),
            try ProxyProtocolEncoder.v2(source: .init(address: "::1", port: 1), destination: .init(address: "::2", port: 2)),
            ProxyProtocolEncoder.v2Local(),
        ]
        for iteration in 0..<20_000 {
            var bytes = seeds[iteration % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.remove(at: position)
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            var parser = ProxyProtocolParser()
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Int.random(in: 1...40, using: &random))
                guard let result = try? parser.feed(bytes[start..<end]) else { break }
                if case .header(let header, let consumed) = result {
                    XCTAssertTrue((0...(end - start)).contains(consumed))
                    if let source = header.source { XCTAssertNotNil(IPAddress(source.address)) }
                    break
                }
                start = end
            }
        }
    }

    func testAddressParsersOnRandomText() {
        var random = SeededGenerator(state: 11)
        let alphabet = Array("0123456789abcdefABCDEF:.[]% ,/-x".unicodeScalars)
        let trusted = try! TrustedProxies(["10.0.0.0/8", "::1/128"])
        for _ in 0..<20_000 {
            let text = String(String.UnicodeScalarView((0..<Int.random(in: 0...24, using: &random)).map { _ in alphabet.randomElement(using: &random)! }))
            if let address = IPAddress(text) {
                // Canonical text parses back to the same address.
                XCTAssertEqual(IPAddress(address.description), address, text)
            }
            _ = try? CIDR(text)
            _ = trusted.contains(text)
            let client = ClientAddress.resolve(peer: "10.0.0.1", xForwardedFor: [text], trusted: trusted)
            XCTAssertNotNil(IPAddress(client), "\(text) -> \(client)")
            _ = ForwardedHeaders.make(client: text, proto: "http", host: text, existingXFF: [text])
        }
    }

    func testVerifierOnRandomTokens() throws {
        var random = SeededGenerator(state: 13)
        let verifier = try JWTVerifier(algorithms: [.hs256], key: JWTKey(hmacSecret: [UInt8](repeating: 7, count: 32)), clock: { 0 })
        let alphabet = Array("ABCxyz019-_.=+/ {}\"".unicodeScalars)
        for _ in 0..<5_000 {
            let text = String(String.UnicodeScalarView((0..<Int.random(in: 0...80, using: &random)).map { _ in alphabet.randomElement(using: &random)! }))
            XCTAssertThrowsError(try verifier.verify(token: text))
            // A random JSON-ish header, properly encoded, reaches the JSON parser.
            let header = Base64URL.encode(Array(text.utf8))
            XCTAssertThrowsError(try verifier.verify(token: header + ".e30.AAAA"))
        }
        // Deep nesting is bounded, not a stack overflow.
        let deep = Base64URL.encode(Array((String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)).utf8))
        XCTAssertThrowsError(try JWTVerifier(algorithms: [.hs256], key: JWTKey(hmacSecret: [UInt8](repeating: 7, count: 32)), maximumTokenBytes: 1 << 20, clock: { 0 }).verify(token: deep + ".e30.AAAA")) {
            XCTAssertEqual($0 as? JWTError, .invalidJSON(part: "header"))
        }
    }
}
