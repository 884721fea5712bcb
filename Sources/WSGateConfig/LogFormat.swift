/// How log lines are written to standard error (top-level key `log_format`, default `text`).
public enum LogFormat: String, Sendable, Equatable, CaseIterable {
    /// swift-log's text lines: time, level, label, message, then `key=value` metadata.
    case text
    /// One JSON object per line with stable keys: `time`, `level`, `event`, then the event's own
    /// fields (`peer`, `tls`, `dialect`, `path`, `status`, `reason`, ...).
    case json
}
