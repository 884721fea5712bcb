import WSGateRedis
import XCTest

/// The FIPS 180 (and NIST CAVS) test vectors of SHA-1.
final class SHA1Tests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    func testFIPSVectors() {
        XCTAssertEqual(SHA1.hexDigest("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(SHA1.hexDigest(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(
            SHA1.hexDigest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        )
        XCTAssertEqual(
            SHA1.hexDigest(
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "a49b2446a02c645bf419f995b67091253a04a259"
        )
        XCTAssertEqual(SHA1.hexDigest("The quick brown fox jumps over the lazy dog"), "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12")
    }

    func testOneMillionAs() {
        var sha = SHA1()
        let thousand = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { sha.update(thousand) }
        XCTAssertEqual(hex(sha.finalize()), "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    /// Every length around the block and padding boundaries, fed in pieces, gives the one-shot digest.
    func testStreamingMatchesOneShot() {
        var random = SplitMix64(seed: 1)
        for length in 0...200 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            var sha = SHA1()
            var start = 0
            while start < length {
                let end = min(length, start + 1 + Int(random.next() % 70))
                sha.update(bytes[start..<end])
                start = end
            }
            XCTAssertEqual(sha.finalize(), SHA1.hash(bytes), "length \(length)")
            XCTAssertEqual(SHA1.hash(bytes).count, 20)
        }
    }

    func testScriptSHA() {
        let script = RedisScript("return redis.call('GET', KEYS[1])")
        XCTAssertEqual(script.sha1, SHA1.hexDigest(script.source))
        XCTAssertEqual(script.sha1.count, 40)
    }
}
