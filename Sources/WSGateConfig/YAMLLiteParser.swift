/// Reads YAML-lite text into a tree of `YAMLNode`s with source locations (stage 1 of loading).
///
/// YAML-lite is the subset of YAML a configuration needs (docs/SPEC.md "Configuration: YAML-lite"): block
/// mappings, block sequences, single-line flow sequences and mappings, plain / single-quoted /
/// double-quoted scalars and `#` comments. It refuses, with an error at the offending line and column:
/// tabs in indentation, anchors, aliases, tags, directives, a second document (`---` after content, `...`),
/// multi-line scalars (`|`, `>`, or a plain scalar continued on the next line), flow collections spread
/// over several lines, duplicate keys and bad indentation. The parser recovers after each error and
/// reports every one it finds. Nesting deeper than 64 levels is refused.
public struct YAMLLiteParser {
    /// One significant line: comment stripped, trailing blanks trimmed, indentation counted.
    struct Line {
        var number: Int
        var indent: Int
        var text: [Character]
    }

    static let maximumDepth = 64

    let file: String
    var lines: [Line] = []
    var position = 0
    var depth = 0
    var errors: [ConfigError] = []

    init(file: String) {
        self.file = file
    }

    /// Parses a whole document; throws every syntax error and duplicate key found.
    ///
    /// An empty document (or one with only comments) is a `.null` node at line 1, column 1.
    public static func parse(_ text: String, file: String) throws(ConfigErrors) -> YAMLNode {
        let result = Self.parseCollectingErrors(text, file: file)
        if !result.errors.isEmpty {
            throw ConfigErrors(result.errors)
        }
        return result.root
    }

    /// Parses a document and returns the best tree it could build together with every error.
    static func parseCollectingErrors(_ text: String, file: String) -> (root: YAMLNode, errors: [ConfigError]) {
        var parser = YAMLLiteParser(file: file)
        parser.splitLines(text)
        let root = parser.parseDocument()
        let sorted = parser.errors.enumerated().sorted { left, right in
            let a = left.element.location
            let b = right.element.location
            return (a.line, a.column, left.offset) < (b.line, b.column, right.offset)
        }
        return (root, sorted.map(\.element))
    }

    func location(line: Int, column: Int) -> SourceLocation {
        SourceLocation(file: self.file, line: line, column: column)
    }

    mutating func fail(_ message: String, line: Int, column: Int) {
        self.errors.append(ConfigError(.unsupportedSyntax(message), at: self.location(line: line, column: column)))
    }

    static func isBlank(_ character: Character) -> Bool {
        character == " " || character == "\t"
    }

    // MARK: - Lines

    mutating func splitLines(_ text: String) {
        var body = Substring(text)
        if body.first == "\u{FEFF}" {
            body = body.dropFirst()
        }
        let rawLines = body.split(
            omittingEmptySubsequences: false,
            whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        )
        var hasContent = false
        var hasLeadingMarker = false
        for (offset, raw) in rawLines.enumerated() {
            let number = offset + 1
            let characters = Array(raw)
            var indent = 0
            var tabColumn: Int? = nil
            while indent < characters.count, Self.isBlank(characters[indent]) {
                if characters[indent] == "\t", tabColumn == nil {
                    tabColumn = indent + 1
                }
                indent += 1
            }
            var text = Self.stripComment(Array(characters[indent...]))
            while let last = text.last, Self.isBlank(last) {
                text.removeLast()
            }
            if text.isEmpty {
                continue
            }
            if let tabColumn {
                self.fail("tab character in indentation (indent with spaces)", line: number, column: tabColumn)
                continue
            }
            if indent == 0, Self.isMarker(text, "---") {
                if hasContent || hasLeadingMarker {
                    self.fail("multiple documents are not supported ('---' after the first document)",
                              line: number, column: 1)
                } else if text.count > 3 {
                    self.fail("content after the document marker '---' is not supported", line: number, column: 5)
                }
                hasLeadingMarker = true
                continue
            }
            if indent == 0, Self.isMarker(text, "...") {
                self.fail("document end marker '...' is not supported (one document per file)", line: number, column: 1)
                continue
            }
            if indent == 0, text.first == "%" {
                self.fail("directives ('%...') are not supported", line: number, column: 1)
                continue
            }
            hasContent = true
            self.lines.append(Line(number: number, indent: indent, text: text))
        }
    }

    static func isMarker(_ text: [Character], _ marker: String) -> Bool {
        let markerCharacters = Array(marker)
        guard text.count >= 3, Array(text[0..<3]) == markerCharacters else {
            return false
        }
        return text.count == 3 || Self.isBlank(text[3])
    }

    /// Cuts a `#` comment that starts a line or follows a blank, outside quotes.
    static func stripComment(_ text: [Character]) -> [Character] {
        var quote: Character? = nil
        var index = 0
        while index < text.count {
            let character = text[index]
            let previous: Character? = index > 0 ? text[index - 1] : nil
            if let open = quote {
                if open == "\"" && character == "\\" {
                    index += 2
                    continue
                }
                if open == "'" && character == "'" && index + 1 < text.count && text[index + 1] == "'" {
                    index += 2
                    continue
                }
                if character == open {
                    quote = nil
                }
            } else if character == "#" && (previous == nil || Self.isBlank(previous!)) {
                return Array(text[0..<index])
            } else if character == "\"" || character == "'" {
                // A quote opens a quoted scalar only where a token starts; "it's" stays plain.
                if previous == nil || Self.isBlank(previous!) || "[{,:-".contains(previous!) {
                    quote = character
                }
            }
            index += 1
        }
        return text
    }
}
