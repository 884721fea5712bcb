/// The admin listener (top-level key `admin`, optional): `/healthz`, `/metrics`, `/rooms`.
public struct AdminConfiguration: Sendable, Equatable {
    /// Key `admin.bind`, the host part of `host:port`. Required.
    public var host: String
    /// Key `admin.bind`, the port part of `host:port`. 0–65535 (0: an ephemeral port). Required.
    public var port: Int

    /// Creates an admin listener configuration.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}
