/// A position in a configuration file: file name, 1-based line and 1-based column.
///
/// Columns count characters (Unicode grapheme clusters), not bytes. Errors that concern the whole file
/// (for example an unreadable file) use line 1, column 1.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file name as it was given to the loader (for example `etc/wsgate.yaml`).
    public var file: String
    /// The 1-based line number.
    public var line: Int
    /// The 1-based column number.
    public var column: Int

    /// Creates a location from a file name, a 1-based line and a 1-based column.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the prefix of every configuration error message.
    public var description: String {
        "\(self.file):\(self.line):\(self.column)"
    }
}
