/// How a pool of upstreams (`upstream:` a list) picks an address (route key `balance`).
public enum UpstreamBalance: String, Sendable, Equatable, CaseIterable {
    /// Each address in turn (the default).
    case round_robin
    /// The address with the fewest open connections; ties go to the earliest in the list.
    case least_connections
}
