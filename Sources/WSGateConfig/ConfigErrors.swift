/// Every problem found in one configuration, in the order of the file (syntax first, then meaning).
///
/// The loader collects all of them before it throws, so that `wsgate check` can print them at once.
public struct ConfigErrors: Error, Equatable, Sendable, CustomStringConvertible {
    /// The problems, never empty when thrown.
    public var errors: [ConfigError]

    /// Creates a collection of errors.
    public init(_ errors: [ConfigError]) {
        self.errors = errors
    }

    /// One `file:line:column: message` line per error.
    public var description: String {
        self.errors.map(\.description).joined(separator: "\n")
    }
}
