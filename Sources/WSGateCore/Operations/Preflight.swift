import WSGateConfig

/// Checks a configuration needs beyond its syntax: certificate and key files (readable, matching,
/// in date). `wsgate check` prints them; a reload with any of them is refused.
public enum Preflight {
    /// Every problem found, each naming the file it concerns.
    public static func problems(in configuration: WSGateConfiguration) -> [String] {
        ListenerSecurity.problems(in: configuration)
    }
}
