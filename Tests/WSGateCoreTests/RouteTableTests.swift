import Testing
import WSGateConfig
@testable import WSGateCore

private let here = SourceLocation(file: "test.yaml", line: 1, column: 1)

private func route(_ path: String, _ target: RouteTarget, prefix: Bool = false) -> RouteConfiguration {
    RouteConfiguration(path: path, isPrefix: prefix, target: target, location: here)
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct RouteTableTests {
    static let table = RouteTable(routes: [
        route("/chat", .room("lobby")),
        route("/rooms", .room("*"), prefix: true),
        route("/rooms/special", .echo),
        route("/api", .echo, prefix: true),
        route("/api/v2", .room("v2"), prefix: true),
        route("/echo", .echo),
        route("/static", .staticFiles(root: "/srv/static")),
        route("/", .staticFiles(root: "/srv/www")),
    ])

    @Test func anExactPathMatchesItsRouteWithNoRemainder() throws {
        let match = try #require(Self.table.match(path: "/chat"))
        #expect(match.route.path == "/chat")
        #expect(match.remainder == "")
        #expect(match.roomName == "lobby")
    }

    @Test func anExactPathBeatsAPrefix() throws {
        let match = try #require(Self.table.match(path: "/rooms/special"))
        #expect(match.route.target == .echo)
    }

    @Test func theLongestPrefixWins() throws {
        #expect(Self.table.match(path: "/api/v2/x")?.roomName == "v2")
        #expect(Self.table.match(path: "/api/v1/x")?.route.target == .echo)
        #expect(Self.table.match(path: "/api/v1/x")?.remainder == "v1/x")
    }

    @Test func aStarRoomPrefixNamesTheRoomAfterThePathSegment() throws {
        #expect(Self.table.match(path: "/rooms/a")?.roomName == "a")
        #expect(Self.table.match(path: "/rooms/b")?.roomName == "b")
        #expect(Self.table.match(path: "/rooms/a")?.route.path == "/rooms")
    }

    @Test func aStarRoomPrefixNeedsExactlyOneRoomSegment() {
        let rooms = RouteTable(routes: [route("/rooms", .room("*"), prefix: true)])
        #expect(rooms.match(path: "/rooms") == nil)
        #expect(rooms.match(path: "/rooms/") == nil)
        #expect(rooms.match(path: "/rooms/a/b") == nil)
        #expect(rooms.match(path: "/roomsa") == nil)
    }

    @Test func exactRoomAndEchoRoutesDoNotMatchLongerPaths() {
        let table = RouteTable(routes: [route("/chat", .room("lobby")), route("/echo", .echo)])
        #expect(table.match(path: "/chat/x") == nil)
        #expect(table.match(path: "/echo/") == nil)
        #expect(table.match(path: "/chatroom") == nil)
        #expect(table.match(path: "/") == nil)
    }

    @Test func aStaticRouteServesItsPathAndEverythingBelowIt() throws {
        #expect(Self.table.match(path: "/static")?.remainder == "")
        #expect(Self.table.match(path: "/static/")?.remainder == "")
        #expect(Self.table.match(path: "/static/css/site.css")?.remainder == "css/site.css")
        #expect(Self.table.match(path: "/static/css/site.css")?.route.target == .staticFiles(root: "/srv/static"))
        // "/staticfoo" is not below "/static": it falls through to the root static route
        #expect(Self.table.match(path: "/staticfoo")?.route.target == .staticFiles(root: "/srv/www"))
        #expect(Self.table.match(path: "/staticfoo")?.remainder == "staticfoo")
    }

    @Test func aRootStaticRouteCatchesEveryOtherPath() throws {
        #expect(Self.table.match(path: "/")?.route.target == .staticFiles(root: "/srv/www"))
        #expect(Self.table.match(path: "/")?.remainder == "")
        #expect(Self.table.match(path: "/index.html")?.remainder == "index.html")
        #expect(Self.table.match(path: "/a/b/c")?.remainder == "a/b/c")
        #expect(Self.table.match(path: "/a/b/c")?.roomName == nil)
    }

    @Test func noMatchIsNil() {
        let table = RouteTable(routes: [route("/chat", .room("lobby")), route("/static", .staticFiles(root: "/x"))])
        #expect(table.match(path: "/nothing") == nil)
        #expect(table.match(path: "") == nil)
    }

    @Test func anEmptyTableMatchesNothing() {
        #expect(RouteTable(routes: []).match(path: "/") == nil)
    }
}
