/// One node of a YAML-lite document, with the location where it starts.
///
/// Scalars stay strings here (with a flag that says whether they were quoted); typing them into
/// integers, booleans and enums is the job of the configuration decoder.
public struct YAMLNode: Sendable, Equatable {
    /// The content of a node.
    public enum Value: Sendable, Equatable {
        /// An empty value (`key:` with nothing after it, or `- ` with nothing after it).
        case null
        /// A scalar. `isQuoted` is true for `'single'` and `"double"` quoted scalars.
        case scalar(String, isQuoted: Bool)
        /// A block sequence (`- item`) or a flow sequence (`[a, b]`).
        case sequence([YAMLNode])
        /// A block mapping or a flow mapping (`{ k: v }`), in the order of the file.
        case mapping([YAMLMappingEntry])
    }

    /// The content of the node.
    public var value: Value
    /// Where the node starts; for an empty value, the location of its key or dash.
    public var location: SourceLocation

    /// Creates a node.
    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }

    /// A short description for error messages: `'abc'`, `a mapping`, `a sequence`, `an empty value`.
    public var foundDescription: String {
        switch self.value {
        case .null:
            return "an empty value"
        case .scalar(let text, let isQuoted):
            return isQuoted ? "the quoted string '\(text)'" : "'\(text)'"
        case .sequence:
            return "a sequence"
        case .mapping:
            return "a mapping"
        }
    }
}

/// One `key: value` pair of a mapping.
public struct YAMLMappingEntry: Sendable, Equatable {
    /// The key, unquoted.
    public var key: String
    /// Where the key starts.
    public var keyLocation: SourceLocation
    /// The value.
    public var value: YAMLNode

    /// Creates a mapping entry.
    public init(key: String, keyLocation: SourceLocation, value: YAMLNode) {
        self.key = key
        self.keyLocation = keyLocation
        self.value = value
    }
}
