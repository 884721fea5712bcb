import WSGateAuth
import XCTest

final class ClientAddressTests: XCTestCase {
    private func trusted(_ cidrs: [String]) -> TrustedProxies { try! TrustedProxies(cidrs) }

    func testIPAddressParsingAndCanonicalText() {
        XCTAssertEqual(IPAddress("1.2.3.4")?.description, "1.2.3.4")
        XCTAssertEqual(IPAddress("2001:0DB8:0000:0000:0000:0000:0000:0001")?.description, "2001:db8::1")
        XCTAssertEqual(IPAddress("2001:db8:0:0:1:0:0:1")?.description, "2001:db8::1:0:0:1")
        XCTAssertEqual(IPAddress("2001:db8:0:1:1:1:1:1")?.description, "2001:db8:0:1:1:1:1:1")
        XCTAssertEqual(IPAddress("::")?.description, "::")
        XCTAssertEqual(IPAddress("::1")?.description, "::1")
        XCTAssertEqual(IPAddress("1::")?.description, "1::")
        XCTAssertEqual(IPAddress("::ffff:1.2.3.4")?.description, "::ffff:1.2.3.4")
        XCTAssertEqual(IPAddress("::ffff:1.2.3.4")?.unmapped, IPAddress("1.2.3.4"))
        XCTAssertEqual(IPAddress("64:ff9b::192.0.2.33")?.description, "64:ff9b::c000:221")
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.1.1.1", "1.2.3.4 ", "a.b.c.d", ":", ":::", "1:2", "1::2::3",
                    "1:2:3:4:5:6:7:8:9", "12345::", "::g", "1:2:3:4:5:6:7::8:9", "fe80::1%eth0", "[::1]", "::1.2.3", "1.2.3.4::"] {
            XCTAssertNil(IPAddress(bad), bad)
        }
        XCTAssertEqual(IPAddress(bytes: [10, 0, 0, 1]), IPAddress("10.0.0.1"))
        XCTAssertEqual(IPAddress("2001:db8::1")?.bytes.count, 16)
    }

    func testCIDRs() throws {
        let list = try TrustedProxies(["127.0.0.1/32", "10.0.0.0/8", " 192.168.0.0/16 ", "2001:db8::/32", "::1", "0.0.0.0/0"].dropLast())
        XCTAssertTrue(list.contains("127.0.0.1"))
        XCTAssertFalse(list.contains("127.0.0.2"))
        XCTAssertTrue(list.contains("10.255.255.255"))
        XCTAssertFalse(list.contains("11.0.0.0"))
        XCTAssertTrue(list.contains("192.168.7.7:8080"))
        XCTAssertTrue(list.contains("2001:db8:ffff::1"))
        XCTAssertTrue(list.contains("[2001:db8::5]:443"))
        XCTAssertFalse(list.contains("2001:db9::1"))
        XCTAssertTrue(list.contains("::1"))
        XCTAssertFalse(list.contains("::2"))
        // A dual-stack listener reports IPv4 peers as IPv4-mapped IPv6: they match IPv4 networks.
        XCTAssertTrue(list.contains("::ffff:127.0.0.1"))
        XCTAssertTrue(list.contains("[::ffff:10.1.2.3]:5"))
        XCTAssertFalse(list.contains("junk"))
        XCTAssertTrue(try TrustedProxies(["0.0.0.0/0"]).contains("8.8.8.8"))
        XCTAssertFalse(try TrustedProxies(["0.0.0.0/0"]).contains("::8"))
        XCTAssertTrue(try TrustedProxies(["::/0"]).contains("2001::1"))
        XCTAssertTrue(try TrustedProxies(["::ffff:10.0.0.0/104"]).contains("10.9.9.9"))
        XCTAssertTrue(try TrustedProxies(["2001:db8::/127"]).contains("2001:db8::1"))
        XCTAssertFalse(try TrustedProxies(["2001:db8::/127"]).contains("2001:db8::2"))
        XCTAssertFalse(TrustedProxies.none.contains("127.0.0.1"))
        XCTAssertEqual(try CIDR("10.0.0.0/8").description, "10.0.0.0/8")
    }

    func testCIDRErrors() {
        func error(_ text: String) -> CIDRError? {
            do { _ = try CIDR(text); return nil } catch { return error }
        }
        XCTAssertEqual(error("10.0.0.0/33"), .invalidPrefixLength("10.0.0.0/33"))
        XCTAssertEqual(error("::/129"), .invalidPrefixLength("::/129"))
        XCTAssertEqual(error("10.0.0.0/"), .invalidPrefixLength("10.0.0.0/"))
        XCTAssertEqual(error("10.0.0.0/-1"), .invalidPrefixLength("10.0.0.0/-1"))
        XCTAssertEqual(error("10.0.0.0/08"), .invalidPrefixLength("10.0.0.0/08"))
        XCTAssertEqual(error("10.0.0.0/8/8"), .invalidPrefixLength("10.0.0.0/8/8"))
        XCTAssertEqual(error("10.0.0.1/8"), .hostBitsSet("10.0.0.1/8"))
        XCTAssertEqual(error("2001:db8::1/32"), .hostBitsSet("2001:db8::1/32"))
        XCTAssertEqual(error("localhost/32"), .invalidAddress("localhost/32"))
        XCTAssertEqual(error(""), .invalidAddress(""))
        XCTAssertThrowsError(try TrustedProxies(["127.0.0.1/32", "nope"])) { XCTAssertEqual($0 as? CIDRError, .invalidAddress("nope")) }
    }

    func testSpoofedHeaderFromAnUntrustedPeerIsIgnored() {
        let list = trusted(["127.0.0.1/32"])
        XCTAssertEqual(ClientAddress.resolve(peer: "203.0.113.9", xForwardedFor: ["1.1.1.1"], trusted: list), "203.0.113.9")
        XCTAssertEqual(ClientAddress.resolve(peer: "203.0.113.9", xForwardedFor: ["127.0.0.1, 1.1.1.1"], trusted: list), "203.0.113.9")
        XCTAssertEqual(ClientAddress.resolve(peer: "203.0.113.9", xForwardedFor: [], trusted: .none), "203.0.113.9")
        XCTAssertEqual(ClientAddress.resolve(peer: "1.2.3.4", xForwardedFor: ["5.6.7.8"], trusted: .none), "1.2.3.4")
    }

    func testChainsThroughSeveralTrustedProxies() {
        let list = trusted(["10.0.0.0/8", "127.0.0.1/32"])
        // client -> 10.0.0.5 -> 10.0.0.6 -> us (peer 127.0.0.1); a spoofed entry on the left is not believed.
        XCTAssertEqual(
            ClientAddress.resolve(peer: "127.0.0.1", xForwardedFor: ["6.6.6.6, 198.51.100.7, 10.0.0.5", "10.0.0.6"], trusted: list),
            "198.51.100.7")
        XCTAssertEqual(ClientAddress.resolve(peer: "127.0.0.1", xForwardedFor: ["198.51.100.7"], trusted: list), "198.51.100.7")
        // A trusted peer without the header is itself the client.
        XCTAssertEqual(ClientAddress.resolve(peer: "127.0.0.1", xForwardedFor: [], trusted: list), "127.0.0.1")
        XCTAssertEqual(ClientAddress.resolve(peer: "127.0.0.1", xForwardedFor: [""], trusted: list), "127.0.0.1")
    }

    func testAllTrustedGivesTheLeftmost() {
        let list = trusted(["10.0.0.0/8"])
        XCTAssertEqual(ClientAddress.resolve(peer: "10.0.0.1", xForwardedFor: ["10.0.0.9, 10.0.0.8", "10.0.0.7"], trusted: list), "10.0.0.9")
    }

    func testIPv6AndPortsAndSpaces() {
        let list = trusted(["::1/128", "2001:db8:1::/48", "127.0.0.0/8"])
        XCTAssertEqual(
            ClientAddress.resolve(peer: "::1", xForwardedFor: [" [2001:DB8::7]:4711 ,  2001:db8:1::2 "], trusted: list), "2001:db8::7")
        XCTAssertEqual(ClientAddress.resolve(peer: "[::1]:55000", xForwardedFor: ["198.51.100.1:5678"], trusted: list), "198.51.100.1")
        XCTAssertEqual(ClientAddress.resolve(peer: "::ffff:127.0.0.1", xForwardedFor: ["2001:db8::9"], trusted: list), "2001:db8::9")
        XCTAssertEqual(ClientAddress.resolve(peer: "::ffff:203.0.113.5", xForwardedFor: ["1.1.1.1"], trusted: list), "203.0.113.5")
        XCTAssertEqual(ClientAddress.resolve(peer: "::1", xForwardedFor: ["[2001:db8::7]"], trusted: list), "2001:db8::7")
    }

    func testJunkStopsTheWalk() {
        let list = trusted(["10.0.0.0/8"])
        // Junk right after the peer: the peer is the client.
        XCTAssertEqual(ClientAddress.resolve(peer: "10.0.0.1", xForwardedFor: ["198.51.100.7, garbage"], trusted: list), "10.0.0.1")
        XCTAssertEqual(ClientAddress.resolve(peer: "10.0.0.1", xForwardedFor: ["198.51.100.7, unknown"], trusted: list), "10.0.0.1")
        // Junk behind a trusted hop: that hop is the last address that could be checked.
        XCTAssertEqual(ClientAddress.resolve(peer: "10.0.0.1", xForwardedFor: ["198.51.100.7, <script>, 10.0.0.2"], trusted: list), "10.0.0.2")
        XCTAssertEqual(ClientAddress.resolve(peer: "10.0.0.1", xForwardedFor: ["198.51.100.7,,10.0.0.2"], trusted: list), "10.0.0.2")
        // Junk left of the client does not matter.
        XCTAssertEqual(ClientAddress.resolve(peer: "10.0.0.1", xForwardedFor: ["junk, 198.51.100.7"], trusted: list), "198.51.100.7")
        for junk in ["1.2.3.4:99999", "1.2.3.4:", "[::1", "[::1]x", "::1]:80", "fe80::1%eth0", "1.2.3.4:80:80", "[1.2.3.4]"] {
            XCTAssertEqual(ClientAddress.resolve(peer: "10.0.0.1", xForwardedFor: [junk], trusted: list), "10.0.0.1", junk)
        }
        XCTAssertEqual(ClientAddress.resolve(peer: "not-an-ip", xForwardedFor: ["1.1.1.1"], trusted: list), "not-an-ip")
    }

    func testForwardedHeaders() {
        let v4 = ForwardedHeaders.make(client: "198.51.100.7", proto: "https", host: "example.com", existingXFF: [])
        XCTAssertEqual(v4.xForwardedFor, "198.51.100.7")
        XCTAssertEqual(v4.xForwardedProto, "https")
        XCTAssertEqual(v4.xForwardedHost, "example.com")
        XCTAssertEqual(v4.forwarded, "for=198.51.100.7;proto=https;host=example.com")
        XCTAssertEqual(v4.fields.map(\.name), ["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded"])

        // RFC 7239 §6: IPv6 and ports are quoted.
        let v6 = ForwardedHeaders.make(client: "2001:db8::1", proto: "http", host: "example.com:8080", existingXFF: [])
        XCTAssertEqual(v6.forwarded, #"for="[2001:db8::1]";proto=http;host="example.com:8080""#)
        XCTAssertEqual(v6.xForwardedFor, "2001:db8::1")
        let v6Port = ForwardedHeaders.make(client: "[2001:db8::1]:4711", proto: "http", host: "", existingXFF: [])
        XCTAssertEqual(v6Port.forwarded, #"for="[2001:db8::1]";proto=http"#)

        // From a trusted peer the chain is kept up to the client; the trusted hops after it are dropped.
        let chain = ForwardedHeaders.make(
            client: "198.51.100.7", proto: "https", host: "h", existingXFF: ["6.6.6.6, 198.51.100.7, 10.0.0.5", "10.0.0.6"])
        XCTAssertEqual(chain.xForwardedFor, "6.6.6.6, 198.51.100.7")
        // The client not in the chain (the peer itself): appended.
        let appended = ForwardedHeaders.make(client: "10.0.0.1", proto: "http", host: "h", existingXFF: ["1.1.1.1, junk"])
        XCTAssertEqual(appended.xForwardedFor, "1.1.1.1, 10.0.0.1")

        // Quotes, backslashes and control characters cannot break the header.
        let nasty = ForwardedHeaders.make(client: "1.2.3.4", proto: "http", host: "a\"b\\c\r\nX-Evil: 1", existingXFF: [])
        XCTAssertEqual(nasty.forwarded, #"for=1.2.3.4;proto=http;host="a\"b\\cX-Evil: 1""#)
        XCTAssertFalse(nasty.xForwardedHost.contains("\r") || nasty.xForwardedHost.contains("\n"))
    }
}
