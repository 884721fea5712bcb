import NIOCore
import WSGateRedis
import XCTest

final class RESPValueTests: XCTestCase {
    func testStringHelpers() {
        XCTAssertEqual(RESPValue.simpleString("OK").string, "OK")
        XCTAssertEqual(RESPVectors.bulk("hello").string, "hello")
        XCTAssertEqual(RESPValue.verbatimString(format: "txt", text: ByteBuffer(string: "hi")).string, "hi")
        XCTAssertNil(RESPValue.bulkString(nil).string)
        XCTAssertNil(RESPValue.integer(1).string)
        XCTAssertEqual(RESPValue.simpleString("OK").bytes, ByteBuffer(string: "OK"))
        XCTAssertEqual(RESPValue.bulkString("x"), RESPVectors.bulk("x"))
    }

    func testNumberHelpers() {
        XCTAssertEqual(RESPValue.integer(42).int, 42)
        XCTAssertEqual(RESPVectors.bulk("-17").int, -17)
        XCTAssertNil(RESPVectors.bulk("1.5").int)
        XCTAssertEqual(RESPVectors.bulk("1.5").double, 1.5)
        XCTAssertEqual(RESPValue.double(2.5).double, 2.5)
        XCTAssertEqual(RESPValue.integer(3).double, 3)
        XCTAssertEqual(RESPValue.boolean(true).bool, true)
        XCTAssertEqual(RESPValue.integer(0).bool, false)
        XCTAssertNil(RESPValue.integer(2).bool)
    }

    func testAggregateHelpers() {
        XCTAssertEqual(RESPValue.array([.integer(1)]).array, [.integer(1)])
        XCTAssertEqual(RESPValue.set([.integer(1)]).array, [.integer(1)])
        XCTAssertEqual(RESPValue.push([.integer(1)]).array, [.integer(1)])
        XCTAssertNil(RESPValue.array(nil).array)
        let pairs = [RESPPair(key: RESPVectors.bulk("f"), value: RESPVectors.bulk("v"))]
        XCTAssertEqual(RESPValue.map(pairs).map, pairs)
        XCTAssertEqual(RESPValue.array([RESPVectors.bulk("f"), RESPVectors.bulk("v")]).map, pairs, "the RESP2 form of a map")
        XCTAssertNil(RESPValue.array([RESPVectors.bulk("f")]).map)
    }

    func testNullAndErrorHelpers() {
        XCTAssertTrue(RESPValue.null.isNull)
        XCTAssertTrue(RESPValue.bulkString(nil).isNull)
        XCTAssertTrue(RESPValue.array(nil).isNull)
        XCTAssertFalse(RESPVectors.bulk("").isNull)
        XCTAssertTrue(RESPValue.simpleError("ERR x").isError)
        XCTAssertTrue(RESPValue.bulkError(ByteBuffer(string: "SYNTAX invalid syntax")).isError)
        XCTAssertFalse(RESPValue.simpleString("ERR").isError)
        XCTAssertEqual(RESPValue.bulkError(ByteBuffer(string: "SYNTAX invalid syntax")).error, RESPError(code: "SYNTAX", message: "invalid syntax"))
    }

    func testErrorCodes() {
        let cases: [(String, RESPError.Code, String)] = [
            ("NOSCRIPT No matching script. Please use EVAL.", .noScript, "No matching script. Please use EVAL."),
            ("WRONGTYPE Operation against a key holding the wrong kind of value", .wrongType,
             "Operation against a key holding the wrong kind of value"),
            ("LOADING Redis is loading the dataset in memory", .loading, "Redis is loading the dataset in memory"),
            ("READONLY You can't write against a read only replica.", .readOnly, "You can't write against a read only replica."),
            ("ERR unknown command 'foo'", .err, "unknown command 'foo'"),
            ("MOVED 3999 127.0.0.1:6381", .moved, "3999 127.0.0.1:6381"),
            ("NOAUTH Authentication required.", .noAuth, "Authentication required."),
            ("WRONGPASS invalid username-password pair or user is disabled.", .wrongPass,
             "invalid username-password pair or user is disabled."),
            ("CLUSTERDOWN", .clusterDown, ""),
            ("something went wrong", .err, "something went wrong"),
            ("Error lower case", .err, "Error lower case"),
            ("", .err, ""),
        ]
        for (text, code, message) in cases {
            let error = RESPError(text)
            XCTAssertEqual(error.code, code, "for \(text)")
            XCTAssertEqual(error.message, message, "for \(text)")
        }
        XCTAssertEqual(RESPError("NOSCRIPT No matching script.").description, "NOSCRIPT No matching script.")
        XCTAssertEqual(RESPValue.simpleError("LOADING busy").error?.code, .loading)
    }

    func testDoubleNaNEquality() {
        XCTAssertEqual(RESPValue.double(.nan), .double(.nan))
        XCTAssertNotEqual(RESPValue.double(1), .integer(1))
        XCTAssertNotEqual(RESPValue.array([]), .set([]))
    }

    func testDescription() {
        XCTAssertEqual(RESPValue.array([RESPVectors.bulk("a"), .integer(1), .null]).description, "[\"a\", :1, (null)]")
    }
}
