/// One problem found in a configuration file, with the location where it was found.
///
/// `description` is the line `wsgate check` prints, e.g.
/// `etc/wsgate.yaml:14:7: unknown key 'romm' in route (did you mean 'room'?)`.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Equatable, Sendable {
        /// A key that the section does not know, with the closest known key (Levenshtein distance ≤ 2).
        case unknownKey(String, in: String, suggestion: String?)
        /// A key given twice in one mapping.
        case duplicateKey(String)
        /// A value of the wrong type, e.g. `expected: "an integer", found: "'abc'"`.
        case wrongType(key: String, expected: String, found: String)
        /// YAML that YAML-lite refuses or cannot read: tabs, anchors, aliases, tags, several documents,
        /// multi-line scalars, bad indentation, unterminated quotes or brackets.
        case unsupportedSyntax(String)
        /// A value of the right type that breaks a rule (range, format, uniqueness, existence).
        case invalidValue(key: String, reason: String)
        /// A required key that is absent from a section.
        case missingKey(String, in: String)
        /// The configuration file could not be read; reported at line 1, column 1.
        case fileUnreadable(reason: String)
    }

    /// What went wrong.
    public var kind: Kind
    /// Where it went wrong.
    public var location: SourceLocation

    /// Creates an error of a kind at a location.
    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// The message without the location, e.g. `unknown key 'romm' in route (did you mean 'room'?)`.
    public var message: String {
        switch self.kind {
        case .unknownKey(let key, let section, let suggestion):
            let hint = suggestion.map { " (did you mean '\($0)'?)" } ?? ""
            return "unknown key '\(key)' in \(section)\(hint)"
        case .duplicateKey(let key):
            return "duplicate key '\(key)' (each key may appear once in a mapping)"
        case .wrongType(let key, let expected, let found):
            return "wrong type for '\(key)': expected \(expected), found \(found)"
        case .unsupportedSyntax(let reason):
            return reason
        case .invalidValue(let key, let reason):
            return "invalid value for '\(key)': \(reason)"
        case .missingKey(let key, let section):
            return "missing key '\(key)' in \(section)"
        case .fileUnreadable(let reason):
            return "cannot read the configuration file: \(reason)"
        }
    }

    /// `file:line:column: message`, as `wsgate check` prints it.
    public var description: String {
        "\(self.location): \(self.message)"
    }
}
