import Foundation
import Testing
@testable import WSGateCore

/// A temporary static root: index.html, a.txt, sub/index.html, sub/site.css, empty/ (no index),
/// inside -> a.txt, outside -> /etc/passwd, etcdir -> /etc.
final class RFCStaticRoot {
    let path: String
    let realPath: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-static-\(UUID().uuidString)").path
        let fm = FileManager.default
        try fm.createDirectory(atPath: base + "/sub", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: base + "/empty", withIntermediateDirectories: true)
        try "<h1>root</h1>".write(toFile: base + "/index.html", atomically: true, encoding: .utf8)
        try "hello".write(toFile: base + "/a.txt", atomically: true, encoding: .utf8)
        try "<h1>sub</h1>".write(toFile: base + "/sub/index.html", atomically: true, encoding: .utf8)
        try "body{}".write(toFile: base + "/sub/site.css", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: base + "/inside", withDestinationPath: base + "/a.txt")
        try fm.createSymbolicLink(atPath: base + "/outside", withDestinationPath: "/etc/passwd")
        try fm.createSymbolicLink(atPath: base + "/etcdir", withDestinationPath: "/etc")
        self.path = base
        self.realPath = StaticFilePath.realPath(base) ?? base
    }

    deinit { try? FileManager.default.removeItem(atPath: self.path) }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct StaticFilePathTests {
    @Test func aFileInsideTheRootResolvesToItsRealPath() throws {
        let root = try RFCStaticRoot()
        #expect(StaticFilePath.resolve(root: root.path, remainder: "a.txt") == .file(root.realPath + "/a.txt"))
        #expect(StaticFilePath.resolve(root: root.path, remainder: "sub/site.css") == .file(root.realPath + "/sub/site.css"))
    }

    @Test func directoriesResolveToTheirIndexHtml() throws {
        let root = try RFCStaticRoot()
        #expect(StaticFilePath.resolve(root: root.path, remainder: "") == .file(root.realPath + "/index.html"))
        #expect(StaticFilePath.resolve(root: root.path, remainder: "sub") == .file(root.realPath + "/sub/index.html"))
        #expect(StaticFilePath.resolve(root: root.path, remainder: "sub/") == .file(root.realPath + "/sub/index.html"))
    }

    @Test func aDirectoryWithoutIndexAndAMissingFileAreNotFound() throws {
        let root = try RFCStaticRoot()
        #expect(StaticFilePath.resolve(root: root.path, remainder: "empty") == .notFound)
        #expect(StaticFilePath.resolve(root: root.path, remainder: "missing.txt") == .notFound)
        #expect(StaticFilePath.resolve(root: root.path, remainder: "a.txt/x") == .notFound)
    }

    @Test func percentEncodedNamesAreDecoded() throws {
        let root = try RFCStaticRoot()
        #expect(StaticFilePath.resolve(root: root.path, remainder: "%61.txt") == .file(root.realPath + "/a.txt"))
        #expect(StaticFilePath.resolve(root: root.path, remainder: "sub%2Fsite.css") == .file(root.realPath + "/sub/site.css"))
    }

    @Test(arguments: [
        "..", "../etc/passwd", "sub/../../etc/passwd", "sub/..", "./a.txt", "%2e%2e/etc/passwd", "%2E%2E/%2E%2E/etc/passwd",
        "sub/%2e%2e/%2e%2e/etc/passwd", "%2e", "..%2fetc%2fpasswd", "a.txt%00.html", "a.txt\u{0}", "%00", "..\\etc\\passwd",
        "sub%5c..%5c..%5cetc", "%zz", "%2", "%", "%ff%fe",
    ])
    func pathsThatCouldLeaveTheRootAreForbidden(_ remainder: String) throws {
        let root = try RFCStaticRoot()
        #expect(StaticFilePath.resolve(root: root.path, remainder: remainder) == .forbidden)
    }

    @Test func aSymlinkLeavingTheRootIsForbidden() throws {
        let root = try RFCStaticRoot()
        #expect(StaticFilePath.resolve(root: root.path, remainder: "outside") == .forbidden)
        #expect(StaticFilePath.resolve(root: root.path, remainder: "etcdir/passwd") == .forbidden)
        #expect(StaticFilePath.resolve(root: root.path, remainder: "etcdir") == .notFound || StaticFilePath.resolve(root: root.path, remainder: "etcdir") == .forbidden)
    }

    @Test func aSymlinkStayingInsideTheRootIsServed() throws {
        let root = try RFCStaticRoot()
        #expect(StaticFilePath.resolve(root: root.path, remainder: "inside") == .file(root.realPath + "/a.txt"))
    }

    @Test func aSiblingFolderSharingTheRootsNamePrefixIsNotInside() throws {
        let root = try RFCStaticRoot()
        let sibling = root.path + "-evil"
        try FileManager.default.createDirectory(atPath: sibling, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: sibling) }
        try "secret".write(toFile: sibling + "/s.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root.path + "/sib", withDestinationPath: sibling + "/s.txt")
        #expect(StaticFilePath.resolve(root: root.path, remainder: "sib") == .forbidden)
    }

    @Test func contentTypesFollowTheExtension() {
        #expect(StaticFilePath.contentType(for: "/x/index.html") == "text/html; charset=utf-8")
        #expect(StaticFilePath.contentType(for: "/x/INDEX.HTM") == "text/html; charset=utf-8")
        #expect(StaticFilePath.contentType(for: "a.css") == "text/css; charset=utf-8")
        #expect(StaticFilePath.contentType(for: "a.js") == "text/javascript; charset=utf-8")
        #expect(StaticFilePath.contentType(for: "a.json") == "application/json")
        #expect(StaticFilePath.contentType(for: "a.txt") == "text/plain; charset=utf-8")
        #expect(StaticFilePath.contentType(for: "a.png") == "image/png")
        #expect(StaticFilePath.contentType(for: "a.svg") == "image/svg+xml")
        #expect(StaticFilePath.contentType(for: "a.bin") == "application/octet-stream")
        #expect(StaticFilePath.contentType(for: "Makefile") == "application/octet-stream")
    }
}
