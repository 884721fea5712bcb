import WSGateRedis
import XCTest

final class RedisURLTests: XCTestCase {
    private func assertError(_ text: String, _ expected: RedisURLError, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let url = try RedisURL(text)
            XCTFail("\(text) parsed as \(url)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, "for \(text)", file: file, line: line)
            XCTAssertFalse(error.description.isEmpty, file: file, line: line)
        }
    }

    func testHostOnly() throws {
        XCTAssertEqual(try RedisURL("redis://localhost"), RedisURL(host: "localhost"))
        XCTAssertEqual(try RedisURL("redis://localhost/"), RedisURL(host: "localhost"))
        XCTAssertEqual(try RedisURL("REDIS://cache.example.com"), RedisURL(host: "cache.example.com"))
    }

    func testPortAndDatabase() throws {
        let url = try RedisURL("redis://127.0.0.1:6380/2")
        XCTAssertEqual(url, RedisURL(host: "127.0.0.1", port: 6380, database: 2))
        XCTAssertEqual(try RedisURL("redis://h:65535/0").port, 65535)
        XCTAssertEqual(try RedisURL("redis://h/15").database, 15)
    }

    func testTLS() throws {
        let url = try RedisURL("rediss://secure.example.com")
        XCTAssertTrue(url.usesTLS)
        XCTAssertEqual(url.port, 6379)
        XCTAssertFalse(try RedisURL("redis://h").usesTLS)
    }

    func testIPv6() throws {
        XCTAssertEqual(try RedisURL("redis://[::1]:6379/1"), RedisURL(host: "::1", database: 1))
        XCTAssertEqual(try RedisURL("redis://[::1]"), RedisURL(host: "::1"))
        XCTAssertEqual(try RedisURL("redis://[2001:db8::7]:7000").host, "2001:db8::7")
        XCTAssertEqual(try RedisURL("redis://[::ffff:127.0.0.1]:7000").host, "::ffff:127.0.0.1")
    }

    func testCredentials() throws {
        let passwordOnly = try RedisURL("redis://:secret@host")
        XCTAssertNil(passwordOnly.username)
        XCTAssertEqual(passwordOnly.password, "secret")
        let both = try RedisURL("redis://alice:p%40ss%3Aw0rd%2F@host:6380/3")
        XCTAssertEqual(both.username, "alice")
        XCTAssertEqual(both.password, "p@ss:w0rd/")
        XCTAssertEqual(both.database, 3)
        XCTAssertEqual(try RedisURL("redis://us%20er:%C3%A9t%C3%A9@host").username, "us er")
        XCTAssertEqual(try RedisURL("redis://us%20er:%C3%A9t%C3%A9@host").password, "été")
        XCTAssertEqual(try RedisURL("redis://u:p@ss@host").password, "p@ss", "an unescaped @ in the password")
        XCTAssertEqual(try RedisURL("redis://u:@host").password, "")
    }

    func testErrors() {
        assertError("localhost:6379", .missingScheme)
        assertError("", .missingScheme)
        assertError("http://host", .unsupportedScheme("http"))
        assertError("unix:///tmp/redis.sock", .unsupportedScheme("unix"))
        assertError("redis://", .missingHost)
        assertError("redis://:6379", .missingHost)
        assertError("redis://:pw@/1", .missingHost)
        assertError("redis://host:abc", .invalidPort("abc"))
        assertError("redis://host:", .invalidPort(""))
        assertError("redis://host:0", .invalidPort("0"))
        assertError("redis://host:65536", .invalidPort("65536"))
        assertError("redis://host:-1", .invalidPort("-1"))
        assertError("redis://host:+80", .invalidPort("+80"))
        assertError("redis://host/abc", .invalidDatabase("abc"))
        assertError("redis://host/-1", .invalidDatabase("-1"))
        assertError("redis://host/1/2", .invalidDatabase("1/2"))
        assertError("redis://host/99999999999999999999", .invalidDatabase("99999999999999999999"))
        assertError("redis://[::1", .unterminatedIPv6Address)
        assertError("redis://[::1]x", .invalidHost("[::1]x"))
        assertError("redis://[zz]", .invalidHost("zz"))
        assertError("redis://[]", .invalidHost(""))
        assertError("redis://ho st", .invalidHost("ho st"))
        assertError("redis://::1:6379", .missingHost)
        assertError("redis://u:%zz@host", .invalidPercentEncoding(part: "password"))
        assertError("redis://u:%4@host", .invalidPercentEncoding(part: "password"))
        assertError("redis://%C3:pw@host", .invalidPercentEncoding(part: "user name"))
        assertError("redis://alice@host", .usernameWithoutPassword)
        assertError("redis://host?db=1", .unsupportedQuery)
        assertError("redis://host/1#x", .unsupportedQuery)
    }

    func testErrorMessagesShowTheForm() {
        XCTAssertTrue(RedisURLError.missingScheme.description.contains("redis://"))
        XCTAssertTrue(RedisURLError.invalidPort("x").description.contains("1 to 65535"))
        XCTAssertTrue(RedisURLError.invalidDatabase("x").description.contains("\"x\""))
    }

    func testDescriptionRedactsThePassword() throws {
        let url = try RedisURL("redis://alice:secret@host:6380/2")
        XCTAssertEqual(url.description, "redis://alice:REDACTED@host:6380/2")
        XCTAssertEqual("\(url)", "redis://alice:REDACTED@host:6380/2")
        XCTAssertFalse(String(reflecting: url).contains("secret"))
        XCTAssertEqual(try RedisURL("redis://:secret@h").description, "redis://:REDACTED@h:6379/0")
        XCTAssertEqual(try RedisURL("redis://h").description, "redis://h:6379/0")
        XCTAssertEqual(try RedisURL("rediss://[::1]:7000/1").description, "rediss://[::1]:7000/1")
    }

    func testUnredactedStringRoundTrips() throws {
        for text in ["redis://alice:p%40ss%3Aw0rd@host:6380/3", "rediss://:s%20cret@[::1]:7000/1", "redis://h"] {
            let url = try RedisURL(text)
            XCTAssertEqual(try RedisURL(url.unredactedString), url, "for \(text)")
        }
    }

    func testConnectionOptionsFromURL() throws {
        let options = RedisConnection.Options(url: try RedisURL("redis://bob:pw@h/4"))
        XCTAssertEqual(options.username, "bob")
        XCTAssertEqual(options.password, "pw")
        XCTAssertEqual(options.database, 4)
        XCTAssertNil(RedisConnection.Options(url: try RedisURL("redis://h")).database)
    }
}
