import Foundation
import Logging

/// A swift-log handler that writes one JSON object per line to standard error (`log_format: json`):
/// `time` (RFC 3339, UTC, milliseconds), `level`, `event` (the message), then the metadata with
/// the `wsgate.` prefix dropped (`peer`, `tls`, `dialect`, `path`, `status`, `reason`, ...).
///
/// Values that name secrets are never written: an `access_token` in a path or target is replaced
/// by `REDACTED`, and metadata keys `token`, `password` and `authorization` are always `REDACTED`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let stream: @Sendable (String) -> Void

    /// `stream` receives each line, newline included (default: standard error).
    public init(label: String, stream: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.stream = stream
    }

    /// Writes to standard error in one `write` per line.
    public static let standardError: @Sendable (String) -> Void = { line in
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("time", Self.timestamp()), ("level", event.level.rawValue), ("event", event.message.description),
        ]
        var merged = self.metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            let name = key.hasPrefix("wsgate.") ? String(key.dropFirst("wsgate.".count)) : key
            fields.append((name, Self.redact(name: name, value: "\(value)")))
        }
        var line = "{"
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { line += "," }
            line += AdminServer.jsonString(key) + ":" + AdminServer.jsonString(value)
        }
        line += "}\n"
        self.stream(line)
    }

    /// The value as it may be logged.
    static func redact(name: String, value: String) -> String {
        switch name.lowercased() {
        case "token", "password", "authorization", "cookie": return "REDACTED"
        default: break
        }
        guard let range = value.range(of: "access_token=") else { return value }
        let end = value[range.upperBound...].firstIndex(where: { $0 == "&" || $0 == " " || $0 == "#" }) ?? value.endIndex
        return value.replacingCharacters(in: range.upperBound..<end, with: "REDACTED")
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(now.tv_nsec / 1_000_000))
    }
}
