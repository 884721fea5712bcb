/// The least severe log level that is written (top-level key `log_level`, default `info`).
///
/// The names are swift-log's levels, so that the executable can map them one to one.
public enum LogLevel: String, Sendable, Equatable, CaseIterable {
    /// Every frame.
    case trace
    /// Connections that end on the peer's mistake.
    case debug
    /// Lifecycle: listeners bound, configuration loaded or reloaded.
    case info
    /// Normal but significant events.
    case notice
    /// Degraded service: slow consumers dropped, upstreams refused.
    case warning
    /// Gateway faults.
    case error
    /// Faults that stop the gateway.
    case critical
}
