import Foundation
import Testing

/// Issue #2: static GET/HEAD, index.html, 404/405/400/431, never a byte from outside the root.
@Suite(.serialized, .timeLimit(.minutes(1)))
final class StaticHTTPTests {
    let folder: RFCStaticFolder
    let harness: GatewayHarness

    init() throws {
        self.folder = try RFCStaticFolder()
        self.harness = try GatewayHarness(
            yaml: GatewayHarness.yaml(routes: """
                  - path: /chat
                    room: lobby
                  - path: /files
                    static: \(self.folder.path)

                """))
    }

    deinit { self.harness.stop() }

    func get(_ request: String) throws -> (response: RFCResponse, closed: Bool) {
        let (bytes, closed) = try rfcExchange(port: self.harness.port, Array(request.utf8))
        return (RFCResponse(bytes), closed)
    }

    func get(path: String, method: String = "GET") throws -> (response: RFCResponse, closed: Bool) {
        try self.get("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    }

    /// A refusal: the status, a short text/plain body, a matching Content-Length, and the connection closed.
    func expectRefusal(_ result: (response: RFCResponse, closed: Bool), _ status: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.response.status == status, "\(result.response.statusLine)", sourceLocation: sourceLocation)
        #expect(result.response.headers["content-type"] == "text/plain; charset=utf-8", sourceLocation: sourceLocation)
        #expect(!result.response.body.isEmpty && result.response.body.count < 200, sourceLocation: sourceLocation)
        #expect(result.response.headers["content-length"] == String(result.response.body.count), sourceLocation: sourceLocation)
        #expect(result.closed, "the connection stays open", sourceLocation: sourceLocation)
        #expect(!result.response.bodyText.contains("root:"), sourceLocation: sourceLocation)
    }

    @Test func aGetServesTheFileWithItsContentTypeAndLengthAndCloses() throws {
        let (response, closed) = try self.get(path: "/files/a.txt")
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "text/plain; charset=utf-8")
        #expect(response.headers["content-length"] == "14")
        #expect(response.bodyText == "hello, static\n")
        #expect(closed)
    }

    @Test func contentTypesFollowTheFileExtension() throws {
        #expect(try self.get(path: "/files/style.css").response.headers["content-type"] == "text/css; charset=utf-8")
        #expect(try self.get(path: "/files/index.html").response.headers["content-type"] == "text/html; charset=utf-8")
        let binary = try self.get(path: "/files/data.bin").response
        #expect(binary.headers["content-type"] == "application/octet-stream")
        #expect(binary.headers["content-length"] == "256")
        #expect(binary.body == (0..<256).map { UInt8($0) })
    }

    @Test func aHeadGetsTheSameHeadersWithoutABody() throws {
        let get = try self.get(path: "/files/a.txt").response
        let (head, closed) = try self.get(path: "/files/a.txt", method: "HEAD")
        #expect(head.status == 200)
        #expect(head.headers["content-length"] == "14")
        #expect(head.headers["content-type"] == get.headers["content-type"])
        #expect(head.body.isEmpty)
        #expect(closed)
    }

    @Test func aDirectoryServesItsIndexHtml() throws {
        #expect(try self.get(path: "/files").response.bodyText == "<!doctype html><title>root</title>")
        #expect(try self.get(path: "/files/").response.bodyText == "<!doctype html><title>root</title>")
        let sub = try self.get(path: "/files/sub/").response
        #expect(sub.status == 200)
        #expect(sub.headers["content-type"] == "text/html; charset=utf-8")
        #expect(sub.bodyText == "<!doctype html><title>sub</title>")
        #expect(try self.get(path: "/files/sub").response.bodyText == "<!doctype html><title>sub</title>")
    }

    @Test func theQueryStringIsIgnored() throws {
        #expect(try self.get(path: "/files/a.txt?v=2").response.bodyText == "hello, static\n")
    }

    @Test func aMissingFileIs404() throws {
        self.expectRefusal(try self.get(path: "/files/missing.txt"), 404)
        self.expectRefusal(try self.get(path: "/files/empty/"), 404)
    }

    @Test func aHeadOfAMissingFileIs404WithoutABody() throws {
        let (response, closed) = try self.get(path: "/files/missing.txt", method: "HEAD")
        #expect(response.status == 404)
        #expect(response.body.isEmpty)
        #expect(closed)
    }

    @Test func anUnknownPathIs404() throws {
        self.expectRefusal(try self.get(path: "/nothing/here"), 404)
        self.expectRefusal(try self.get(path: "/"), 404)
    }

    @Test(arguments: ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
    func otherMethodsAre405(_ method: String) throws {
        let result = try self.get(path: "/files/a.txt", method: method)
        self.expectRefusal(result, 405)
        #expect(result.response.headers["allow"] == "GET, HEAD")
    }

    @Test(arguments: [
        "/files/../../../../etc/passwd", "/files/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/files/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        "/files/sub/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/files/..%2f..%2f..%2f..%2fetc%2fpasswd", "/files/a.txt%00.html",
        "/files/%00", "/files/..%5c..%5cetc%5cpasswd", "/files/%zz",
    ])
    func pathsLeavingTheRootAreRefusedWithoutAByteFromOutside(_ path: String) throws {
        self.expectRefusal(try self.get(path: path), 400)
    }

    @Test func symlinksLeavingTheRootAreRefused() throws {
        self.expectRefusal(try self.get(path: "/files/passwd"), 400)
        self.expectRefusal(try self.get(path: "/files/etc/passwd"), 400)
        let dir = try self.get(path: "/files/etc/")
        #expect(dir.response.status == 400 || dir.response.status == 404)
        #expect(!dir.response.bodyText.contains("root:"))
    }

    @Test func aRawNulByteInThePathIsRefused() throws {
        let (bytes, closed) = try rfcExchange(port: self.harness.port, Array("GET /files/a.txt".utf8) + [0] + Array(".html HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        self.expectRefusal((RFCResponse(bytes), closed), 400)
    }

    @Test(arguments: [
        "GARBAGE\r\n\r\n", "GET /files/a.txt\r\n\r\n", "GET /files/a.txt HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET  /files/a.txt HTTP/1.1\r\n\r\n", "GET /files/a.txt HTTP/1.1\r\nHost: x\r\n continued\r\n\r\n",
    ])
    func malformedRequestsAre400(_ request: String) throws {
        self.expectRefusal(try self.get(request), 400)
    }

    @Test func aHeaderBlockOver16KiBIs431() throws {
        let request = "GET /files/a.txt HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 17 * 1024) + "\r\n\r\n"
        self.expectRefusal(try self.get(request), 431)
    }

    @Test func aHeaderBlockOver16KiBWithoutItsEndIs431() throws {
        let request = "GET /files/a.txt HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 20 * 1024)
        self.expectRefusal(try self.get(request), 431)
    }

    @Test func aPlainGetOnARoomRouteIs426WithTheVersions() throws {
        let result = try self.get(path: "/chat")
        self.expectRefusal(result, 426)
        #expect(result.response.headers["sec-websocket-version"] == "13, 8, 7")
    }

    @Test func anUpgradeOnAStaticRouteIs400() throws {
        let request = rfcUpgradeRequest(path: "/files/a.txt", port: self.harness.port)
        self.expectRefusal(try self.get(request), 400)
    }

    @Test func bareLineFeedRequestsAreServed() throws {
        let (response, _) = try self.get("GET /files/a.txt HTTP/1.0\nHost: x\n\n")
        #expect(response.status == 200)
        #expect(response.bodyText == "hello, static\n")
    }
}
