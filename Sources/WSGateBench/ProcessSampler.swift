import Foundation

/// CPU time and resident memory of a process, read from /proc (Linux).
struct ProcessSample {
    /// User + system CPU time, in microseconds.
    var cpuMicroseconds: Double
    /// Resident set size, in KiB.
    var rssKiB: Int

    /// Reads `/proc/PID/stat` (utime, stime) and `/proc/PID/status` (VmRSS).
    static func read(pid: Int32) -> ProcessSample? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var rss = 0
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) {
            for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
                rss = Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
            }
        }
        return ProcessSample(cpuMicroseconds: (utime + stime) / ticks * 1_000_000, rssKiB: rss)
    }
}
