import WSGateAuth
import XCTest

final class TokenSourceTests: XCTestCase {
    func testOrderHeaderThenQueryThenCookie() {
        let all = JWTTokenSource.find(authorization: "Bearer h.h.h", query: "access_token=q.q.q", cookie: "wsgate_token=c.c.c")
        XCTAssertEqual(all?.token, "h.h.h")
        XCTAssertEqual(all?.source, .header)
        let noHeader = JWTTokenSource.find(authorization: nil, query: "a=1&access_token=q.q.q", cookie: "wsgate_token=c.c.c")
        XCTAssertEqual(noHeader?.token, "q.q.q")
        XCTAssertEqual(noHeader?.source, .query)
        let cookieOnly = JWTTokenSource.find(authorization: nil, query: "a=1", cookie: "x=1; wsgate_token=c.c.c; y=2")
        XCTAssertEqual(cookieOnly?.token, "c.c.c")
        XCTAssertEqual(cookieOnly?.source, .cookie)
        XCTAssertNil(JWTTokenSource.find(authorization: nil, query: nil, cookie: nil))
        XCTAssertNil(JWTTokenSource.find(authorization: nil, query: "token=vm1", cookie: "session=abc"))
    }

    func testTheFirstSourcePresentIsJudgedEvenWhenInvalid() {
        // An invalid (even empty) header token does not fall through to the query or the cookie.
        let empty = JWTTokenSource.find(authorization: "Bearer ", query: "access_token=q", cookie: "wsgate_token=c")
        XCTAssertEqual(empty?.token, "")
        XCTAssertEqual(empty?.source, .header)
        let garbage = JWTTokenSource.find(authorization: "Bearer not-a-jwt", query: nil, cookie: "wsgate_token=c")
        XCTAssertEqual(garbage?.source, .header)
        let emptyQuery = JWTTokenSource.find(authorization: nil, query: "access_token=", cookie: "wsgate_token=c")
        XCTAssertEqual(emptyQuery?.token, "")
        XCTAssertEqual(emptyQuery?.source, .query)
        // A bad percent-escape is judged as it is (and fails verification), not skipped.
        let badEscape = JWTTokenSource.find(authorization: nil, query: "access_token=ab%zz", cookie: "wsgate_token=c")
        XCTAssertEqual(badEscape?.token, "ab%zz")
        XCTAssertEqual(badEscape?.source, .query)
        let emptyCookie = JWTTokenSource.find(authorization: nil, query: nil, cookie: "wsgate_token=")
        XCTAssertEqual(emptyCookie?.token, "")
        XCTAssertEqual(emptyCookie?.source, .cookie)
    }

    func testSchemesAndEncodings() {
        XCTAssertEqual(JWTTokenSource.find(authorization: "bearer   a.b.c  ", query: nil, cookie: nil)?.token, "a.b.c")
        XCTAssertEqual(JWTTokenSource.find(authorization: "BEARER a.b.c", query: nil, cookie: nil)?.token, "a.b.c")
        // Another scheme is not a bearer token: the next source is used.
        XCTAssertEqual(JWTTokenSource.find(authorization: "Basic dXNlcjpwYXNz", query: "access_token=q", cookie: nil)?.source, .query)
        XCTAssertEqual(JWTTokenSource.find(authorization: "Bearerx a.b.c", query: nil, cookie: "wsgate_token=c")?.source, .cookie)
        XCTAssertEqual(JWTTokenSource.find(authorization: nil, query: "?access_token=a%2Eb%2ec&x=1", cookie: nil)?.token, "a.b.c")
        XCTAssertEqual(JWTTokenSource.find(authorization: nil, query: "access_token=first&access_token=second", cookie: nil)?.token, "first")
        XCTAssertEqual(JWTTokenSource.find(authorization: nil, query: "my_access_token=x&access_token=y", cookie: nil)?.token, "y")
        XCTAssertEqual(JWTTokenSource.find(authorization: nil, query: "access_token=y#frag", cookie: nil)?.token, "y")
        XCTAssertEqual(JWTTokenSource.find(authorization: nil, query: nil, cookie: #"wsgate_token="a.b.c""#)?.token, "a.b.c")
        XCTAssertEqual(JWTTokenSource.find(authorization: nil, query: nil, cookie: "xwsgate_token=1;wsgate_token=2")?.token, "2")
    }

    func testRedaction() {
        XCTAssertEqual(Redaction.redactAccessToken(inTarget: "/vnc?access_token=eyJ.eyJ.sig&x=1"), "/vnc?access_token=REDACTED&x=1")
        XCTAssertEqual(Redaction.redactAccessToken(inTarget: "/vnc?x=1&access_token=abc"), "/vnc?x=1&access_token=REDACTED")
        XCTAssertEqual(
            Redaction.redactAccessToken(inTarget: "/a?access_token=1&access_token=2#f"), "/a?access_token=REDACTED&access_token=REDACTED#f")
        XCTAssertEqual(Redaction.redactAccessToken(inTarget: "/a?access%5Ftoken=secret"), "/a?access%5Ftoken=REDACTED")
        XCTAssertEqual(Redaction.redactAccessToken(inTarget: "/a?access_token"), "/a?access_token=REDACTED")
        XCTAssertEqual(Redaction.redactAccessToken(inTarget: "/a?my_access_token=keep&token=vm1"), "/a?my_access_token=keep&token=vm1")
        XCTAssertEqual(Redaction.redactAccessToken(inTarget: "/access_token=x"), "/access_token=x")
        XCTAssertEqual(Redaction.redactAccessToken(inTarget: "/plain"), "/plain")
        XCTAssertFalse(Redaction.redactAccessToken(inTarget: "/v?a=1&&access_token=s3cr3t&").contains("s3cr3t"))
    }
}
