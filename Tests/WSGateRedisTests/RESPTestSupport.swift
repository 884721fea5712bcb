import NIOCore
import WSGateRedis
import XCTest

/// Byte-exact RESP2 and RESP3 vectors (the wire form of the protocol specification's examples) and the
/// values they parse to.
enum RESPVectors {
    static func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }

    static let resp2: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("+\r\n", .simpleString("")),
        ("+hello world\r\n", .simpleString("hello world")),
        ("-ERR unknown command 'foobar'\r\n", .simpleError("ERR unknown command 'foobar'")),
        ("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
         .simpleError("WRONGTYPE Operation against a key holding the wrong kind of value")),
        (":0\r\n", .integer(0)),
        (":1000\r\n", .integer(1000)),
        (":-1\r\n", .integer(-1)),
        (":+5\r\n", .integer(5)),
        (":9223372036854775807\r\n", .integer(.max)),
        (":-9223372036854775808\r\n", .integer(.min)),
        ("$5\r\nhello\r\n", bulk("hello")),
        ("$0\r\n\r\n", bulk("")),
        ("$-1\r\n", .bulkString(nil)),
        ("$4\r\na\r\nb\r\n", bulk("a\r\nb")),
        ("$6\r\n$3\r\n:1\r\n", bulk("$3\r\n:1")),
        ("*0\r\n", .array([])),
        ("*-1\r\n", .array(nil)),
        ("*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n", .array([bulk("hello"), bulk("world")])),
        ("*3\r\n:1\r\n:2\r\n:3\r\n", .array([.integer(1), .integer(2), .integer(3)])),
        ("*5\r\n:1\r\n:2\r\n:3\r\n:4\r\n$5\r\nhello\r\n",
         .array([.integer(1), .integer(2), .integer(3), .integer(4), bulk("hello")])),
        ("*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n+Hello\r\n-World\r\n",
         .array([.array([.integer(1), .integer(2), .integer(3)]), .array([.simpleString("Hello"), .simpleError("World")])])),
        ("*3\r\n$5\r\nhello\r\n$-1\r\n$5\r\nworld\r\n", .array([bulk("hello"), .bulkString(nil), bulk("world")])),
        ("*2\r\n*-1\r\n*0\r\n", .array([.array(nil), .array([])])),
        ("*1\r\n*1\r\n*1\r\n*0\r\n", .array([.array([.array([.array([])])])])),
    ]

    static let resp3: [(String, RESPValue)] = [
        ("_\r\n", .null),
        ("#t\r\n", .boolean(true)),
        ("#f\r\n", .boolean(false)),
        (",1.23\r\n", .double(1.23)),
        (",10\r\n", .double(10)),
        (",-1.5E-3\r\n", .double(-0.0015)),
        (",1.5e3\r\n", .double(1500)),
        (",inf\r\n", .double(.infinity)),
        (",-inf\r\n", .double(-.infinity)),
        (",nan\r\n", .double(.nan)),
        ("(3492890328409238509324850943850943825024385\r\n", .bigNumber("3492890328409238509324850943850943825024385")),
        ("(-3492890328409238509324850943850943825024385\r\n", .bigNumber("-3492890328409238509324850943850943825024385")),
        ("!21\r\nSYNTAX invalid syntax\r\n", .bulkError(ByteBuffer(string: "SYNTAX invalid syntax"))),
        ("!0\r\n\r\n", .bulkError(ByteBuffer())),
        ("=15\r\ntxt:Some string\r\n", .verbatimString(format: "txt", text: ByteBuffer(string: "Some string"))),
        ("=4\r\nmkd:\r\n", .verbatimString(format: "mkd", text: ByteBuffer())),
        ("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
         .map([RESPPair(key: .simpleString("first"), value: .integer(1)), RESPPair(key: .simpleString("second"), value: .integer(2))])),
        ("%0\r\n", .map([])),
        ("~5\r\n+orange\r\n+apple\r\n#t\r\n:100\r\n:999\r\n",
         .set([.simpleString("orange"), .simpleString("apple"), .boolean(true), .integer(100), .integer(999)])),
        ("~0\r\n", .set([])),
        (">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n", .push([bulk("message"), bulk("news"), bulk("hello")])),
        ("%1\r\n*2\r\n:1\r\n:2\r\n%1\r\n_\r\n~1\r\n#f\r\n",
         .map([RESPPair(key: .array([.integer(1), .integer(2)]), value: .map([RESPPair(key: .null, value: .set([.boolean(false)]))]))])),
    ]

    /// The specification's attribute example: the attribute is dropped by default.
    static let attributeBytes =
        "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n"
    static let attributeValue: RESPValue = .array([.integer(2_039_123), .integer(9_543_892)])
    static let attributePairs = [
        RESPPair(
            key: .simpleString("key-popularity"),
            value: .map([RESPPair(key: bulk("a"), value: .double(0.1923)), RESPPair(key: bulk("b"), value: .double(0.0012))])
        )
    ]

    static var all: [(String, RESPValue)] { resp2 + resp3 + [(attributeBytes, attributeValue)] }
}

extension ByteBuffer {
    /// The buffer's readable bytes as a string, for byte-exact comparisons.
    var text: String { String(buffer: self) }
}

/// Records the outcome of a future without blocking (for futures of an `EmbeddedEventLoop`).
final class FutureRecorder<Value> {
    private(set) var result: Result<Value, Error>?

    init(_ future: EventLoopFuture<Value>) {
        future.assumeIsolated().whenComplete { [self] in self.result = $0 }
    }

    var value: Value? { try? result?.get() }

    var error: Error? {
        if case .failure(let error) = result { return error }
        return nil
    }
}

/// A deterministic random number generator (SplitMix64), for fuzzing and jitter tests.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
