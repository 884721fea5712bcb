import Foundation

/// Loads a configuration: text → YAML-lite nodes → typed, validated `WSGateConfiguration`.
///
/// Every problem is collected before anything is thrown. Syntax errors (other than duplicate keys) stop
/// loading after the YAML-lite stage, since a tree built around a syntax error would only add noise.
/// Errors come sorted by line and column.
public enum ConfigLoader {
    /// Reads and validates the file at `path`.
    ///
    /// A file that cannot be read gives one `fileUnreadable` error at line 1, column 1.
    /// Relative `static` folders are checked against `baseDirectory`, by default the working directory.
    public static func load(path: String, baseDirectory: String? = nil) throws(ConfigErrors) -> WSGateConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path)
                ? "the file is not readable UTF-8 text" : "no such file"
            let location = SourceLocation(file: path, line: 1, column: 1)
            throw ConfigErrors([ConfigError(.fileUnreadable(reason: reason), at: location)])
        }
        return try Self.parse(text, file: path, baseDirectory: baseDirectory)
    }

    /// Validates configuration text; `file` is the name used in error locations.
    ///
    /// Relative `static` folders are checked against `baseDirectory`, by default the working directory.
    public static func parse(_ text: String, file: String,
                             baseDirectory: String? = nil) throws(ConfigErrors) -> WSGateConfiguration {
        let parsed = YAMLLiteParser.parseCollectingErrors(text, file: file)
        var errors = parsed.errors
        var configuration: WSGateConfiguration? = nil
        let onlyDuplicates = errors.allSatisfy { error in
            if case .duplicateKey = error.kind { return true }
            return false
        }
        if onlyDuplicates {
            var decoder = ConfigDecoder(
                file: file, baseDirectory: baseDirectory ?? FileManager.default.currentDirectoryPath)
            configuration = decoder.decodeConfiguration(parsed.root)
            errors += decoder.errors
        }
        if let configuration, errors.isEmpty {
            return configuration
        }
        let sorted = errors.enumerated().sorted { left, right in
            let a = left.element.location
            let b = right.element.location
            return (a.line, a.column, left.offset) < (b.line, b.column, right.offset)
        }
        throw ConfigErrors(sorted.map(\.element))
    }
}
