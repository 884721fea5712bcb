import Foundation
import Histogram

/// What one run measured, printed as a table and then as one machine-readable JSON line.
struct BenchReport {
    var mode: String
    var commandLine: String
    var seconds: Double
    var rows: [(String, String)] = []
    var values: [String: Double] = [:]

    mutating func add(_ label: String, _ key: String, _ value: Double, format: String = "%.1f") {
        self.rows.append((label, String(format: format, value)))
        self.values[key] = value
    }

    mutating func addLatency(_ histogram: Histogram<UInt64>, prefix: String = "latency") {
        guard histogram.totalCount > 0 else { return }
        self.add("\(prefix) p50 (µs)", "\(prefix)_p50_us", Double(histogram.valueAtPercentile(50)) / 1000)
        self.add("\(prefix) p99 (µs)", "\(prefix)_p99_us", Double(histogram.valueAtPercentile(99)) / 1000)
        self.add("\(prefix) max (µs)", "\(prefix)_max_us", Double(histogram.max) / 1000)
    }

    mutating func addServer(before: ProcessSample?, after: ProcessSample?, units: [(String, Double)], connections: Int) {
        guard let before, let after else { return }
        let cpu = after.cpuMicroseconds - before.cpuMicroseconds
        self.add("server CPU (s)", "server_cpu_s", cpu / 1_000_000, format: "%.3f")
        self.add("server CPU (% of one core)", "server_cpu_pct", cpu / (self.seconds * 1_000_000) * 100)
        for (unit, count) in units where count > 0 {
            self.add("server CPU-µs per \(unit)", "server_cpu_us_per_\(unit.replacingOccurrences(of: " ", with: "_"))", cpu / count, format: "%.2f")
        }
        self.add("server RSS (MiB)", "server_rss_mib", Double(after.rssKiB) / 1024)
        if connections > 0 {
            self.add("server RSS per connection (KiB)", "server_rss_kib_per_conn", Double(after.rssKiB - before.rssKiB) / Double(connections), format: "%.2f")
        }
    }

    func print() {
        Swift.print("wsgate-bench \(self.mode)")
        Swift.print("command: \(self.commandLine)")
        let width = self.rows.map { $0.0.count }.max() ?? 10
        for (label, value) in self.rows {
            Swift.print(label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
        var json = "{\"mode\":\"\(self.mode)\",\"seconds\":\(self.seconds)"
        for key in self.values.keys.sorted() {
            let value = self.values[key]!
            json += ",\"\(key)\":" + (value.isFinite ? String(format: "%.3f", value) : "null")
        }
        Swift.print(json + "}")
    }
}
