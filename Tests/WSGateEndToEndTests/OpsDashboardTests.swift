import Foundation
import Testing

/// The Grafana dashboard (etc/grafana/wsgate.json) queries only series a running gateway exports.
@Suite(.timeLimit(.minutes(1)))
struct OpsDashboardTests {
    @Test func everyMetricTheDashboardQueriesIsInMetrics() throws {
        let harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: "  - path: /echo\n    echo: true\n", admin: true))
        defer { harness.stop() }
        // One refusal, so that the labelled refusal series exists too.
        _ = try rawExchange(port: harness.port, [Array("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n".utf8)])
        let metrics = try opsHTTPGet(port: try #require(harness.adminPort), path: "/metrics").body
        let exported = Set(metrics.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix("#"), let name = line.split(whereSeparator: { $0 == "{" || $0 == " " }).first else { return nil }
            return String(name)
        })
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/etc/grafana/wsgate.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        var queried: Set<String> = []
        for panel in panels {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                let expression = target["expr"] as? String ?? ""
                let regex = try NSRegularExpression(pattern: "wsgate_[a-z0-9_]+")
                for match in regex.matches(in: expression, range: NSRange(expression.startIndex..., in: expression)) {
                    queried.insert(String(expression[Range(match.range, in: expression)!]))
                }
            }
        }
        #expect(queried.count >= 15, "\(queried.sorted())")
        for name in queried.sorted() {
            #expect(exported.contains(name), "the dashboard queries \(name), which /metrics does not have")
        }
    }
}
