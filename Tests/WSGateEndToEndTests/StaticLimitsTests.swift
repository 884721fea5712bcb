import Foundation
import Testing

/// Static files are read whole, so their size is bounded (16 MiB): larger ones get a 500, not an OOM.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct StaticLimitsTests {
    @Test func aFileOverTheServedLimitGets500AndSmallerOnesAreServed() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-static-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = FileManager.default.createFile(atPath: root + "/big.bin", contents: nil)
        #expect(truncate(root + "/big.bin", off_t(17 << 20)) == 0)  // sparse: no disk used
        try "small".write(toFile: root + "/small.txt", atomically: true, encoding: .utf8)
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: "  - path: /\n    static: \(root)\n"))
        defer { harness.stop() }
        let big = String(decoding: try rawExchange(port: harness.port, [Array("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n".utf8)]), as: UTF8.self)
        #expect(big.hasPrefix("HTTP/1.1 500 "), "\(big.prefix(200))")
        #expect(big.contains("larger than"))
        let small = String(decoding: try rawExchange(port: harness.port, [Array("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n".utf8)]), as: UTF8.self)
        #expect(small.hasPrefix("HTTP/1.1 200 OK") && small.hasSuffix("small"))
    }
}
