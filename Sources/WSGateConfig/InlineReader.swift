/// A cursor over one line that reads scalars and single-line flow collections.
///
/// Hard errors are thrown (the value is abandoned); duplicate keys in flow mappings are collected in
/// `softErrors` and the first occurrence is kept.
struct InlineReader {
    let text: [Character]
    var index: Int
    let line: Int
    /// The column of `text[0]`.
    let indentColumn: Int
    let file: String
    var softErrors: [ConfigError] = []

    init(text: [Character], index: Int, line: Int, indentColumn: Int, file: String) {
        self.text = text
        self.index = index
        self.line = line
        self.indentColumn = indentColumn
        self.file = file
    }

    func location(_ index: Int) -> SourceLocation {
        SourceLocation(file: self.file, line: self.line, column: self.indentColumn + index)
    }

    func error(_ message: String, _ index: Int) -> ConfigError {
        ConfigError(.unsupportedSyntax(message), at: self.location(index))
    }

    var current: Character? {
        self.index < self.text.count ? self.text[self.index] : nil
    }

    mutating func skipBlanks() {
        while let character = self.current, YAMLLiteParser.isBlank(character) {
            self.index += 1
        }
    }

    /// A plain scalar that runs to the end of the line (block context).
    mutating func readPlainBlockScalar() throws(ConfigError) -> YAMLNode {
        let start = self.index
        let next: Character? = start + 1 < self.text.count ? self.text[start + 1] : nil
        if let refusal = YAMLLiteParser.indicatorRefusal(self.text[start], next: next) {
            throw self.error(refusal, start)
        }
        for position in start..<self.text.count where self.text[position] == ":" {
            if position + 1 == self.text.count || YAMLLiteParser.isBlank(self.text[position + 1]) {
                throw self.error("unexpected ': ' inside a plain value (a mapping cannot start here; "
                                 + "quote the value if the colon is part of it)", position)
            }
        }
        self.index = self.text.count
        return YAMLNode(.scalar(String(self.text[start...]), isQuoted: false), at: self.location(start))
    }

    /// A value in flow context (or a quoted scalar in block context).
    mutating func readValue(inFlow: Bool, depth: Int) throws(ConfigError) -> YAMLNode {
        self.skipBlanks()
        guard let character = self.current else {
            throw self.error("expected a value, found the end of the line "
                             + "(flow collections must close on the line where they open)", self.index)
        }
        if depth >= YAMLLiteParser.maximumDepth {
            throw self.error("nesting deeper than \(YAMLLiteParser.maximumDepth) levels is not supported", self.index)
        }
        switch character {
        case "[":
            return try self.readFlowSequence(depth: depth + 1)
        case "{":
            return try self.readFlowMapping(depth: depth + 1)
        case "\"", "'":
            return try self.readQuoted()
        case ",", "]", "}", ":":
            throw self.error("expected a value, found '\(character)'", self.index)
        default:
            return try self.readPlainFlowScalar()
        }
    }

    mutating func readPlainFlowScalar() throws(ConfigError) -> YAMLNode {
        let start = self.index
        let next: Character? = start + 1 < self.text.count ? self.text[start + 1] : nil
        if let refusal = YAMLLiteParser.indicatorRefusal(self.text[start], next: next) {
            throw self.error(refusal, start)
        }
        while let character = self.current {
            if ",[]{}".contains(character) {
                break
            }
            if character == ":" {
                let after: Character? = self.index + 1 < self.text.count ? self.text[self.index + 1] : nil
                if after == nil || YAMLLiteParser.isBlank(after!) || ",]}".contains(after!) {
                    break
                }
            }
            self.index += 1
        }
        var end = self.index
        while end > start, YAMLLiteParser.isBlank(self.text[end - 1]) {
            end -= 1
        }
        return YAMLNode(.scalar(String(self.text[start..<end]), isQuoted: false), at: self.location(start))
    }

    mutating func readQuoted() throws(ConfigError) -> YAMLNode {
        let start = self.index
        let quote = self.text[start]
        guard let end = YAMLLiteParser.endOfQuoted(self.text, from: start) else {
            throw self.error("unterminated \(quote == "\"" ? "double" : "single")-quoted string "
                             + "(multi-line strings are not supported)", start)
        }
        var value = ""
        var position = start + 1
        while position < end - 1 {
            let character = self.text[position]
            if quote == "'" {
                value.append(character)
                position += character == "'" ? 2 : 1
                continue
            }
            guard character == "\\" else {
                value.append(character)
                position += 1
                continue
            }
            let escaped = self.text[position + 1]
            switch escaped {
            case "\"", "\\", "/":
                value.append(escaped)
            case "n":
                value.append("\n")
            case "t":
                value.append("\t")
            case "r":
                value.append("\r")
            case "0":
                value.append("\0")
            default:
                throw self.error("unknown escape '\\\(escaped)' in a double-quoted string "
                                 + "(supported: \\\" \\\\ \\/ \\n \\t \\r \\0)", position)
            }
            position += 2
        }
        self.index = end
        return YAMLNode(.scalar(value, isQuoted: true), at: self.location(start))
    }

    mutating func readFlowSequence(depth: Int) throws(ConfigError) -> YAMLNode {
        let start = self.index
        self.index += 1
        var items: [YAMLNode] = []
        while true {
            self.skipBlanks()
            guard let character = self.current else {
                throw self.error("unterminated flow sequence: expected ']' on the same line", start)
            }
            if character == "]" {
                self.index += 1
                return YAMLNode(.sequence(items), at: self.location(start))
            }
            items.append(try self.readValue(inFlow: true, depth: depth))
            self.skipBlanks()
            guard let separator = self.current else {
                throw self.error("unterminated flow sequence: expected ']' on the same line", start)
            }
            if separator == "," {
                self.index += 1
            } else if separator != "]" {
                throw self.error("expected ',' or ']' in a flow sequence, found '\(separator)'", self.index)
            }
        }
    }

    mutating func readFlowMapping(depth: Int) throws(ConfigError) -> YAMLNode {
        let start = self.index
        self.index += 1
        var entries: [YAMLMappingEntry] = []
        var seen: Set<String> = []
        while true {
            self.skipBlanks()
            guard let character = self.current else {
                throw self.error("unterminated flow mapping: expected '}' on the same line", start)
            }
            if character == "}" {
                self.index += 1
                return YAMLNode(.mapping(entries), at: self.location(start))
            }
            let keyStart = self.index
            let keyNode = try self.readValue(inFlow: true, depth: depth)
            guard case .scalar(let key, _) = keyNode.value else {
                throw self.error("a flow mapping key must be a scalar, found \(keyNode.foundDescription)", keyStart)
            }
            self.skipBlanks()
            var value = YAMLNode(.null, at: keyNode.location)
            if self.current == ":" {
                self.index += 1
                self.skipBlanks()
                if let next = self.current, next != ",", next != "}" {
                    value = try self.readValue(inFlow: true, depth: depth)
                }
            }
            self.skipBlanks()
            guard let separator = self.current else {
                throw self.error("unterminated flow mapping: expected '}' on the same line", start)
            }
            if separator == "," {
                self.index += 1
            } else if separator != "}" {
                throw self.error("expected ',' or '}' in a flow mapping, found '\(separator)'", self.index)
            }
            if seen.contains(key) {
                self.softErrors.append(ConfigError(.duplicateKey(key), at: keyNode.location))
            } else {
                seen.insert(key)
                entries.append(YAMLMappingEntry(key: key, keyLocation: keyNode.location, value: value))
            }
        }
    }
}
