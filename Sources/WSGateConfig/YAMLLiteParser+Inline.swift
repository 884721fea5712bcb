/// Values that end on their line: plain and quoted scalars, flow sequences and flow mappings.
extension YAMLLiteParser {
    /// Why a value starting with `first` is refused, or nil if it is fine.
    static func indicatorRefusal(_ first: Character, next: Character?) -> String? {
        switch first {
        case "&":
            return "anchors ('&name') are not supported"
        case "*":
            return "aliases ('*name') are not supported; write \"*\" in quotes for a literal asterisk"
        case "!":
            return "tags ('!tag') are not supported"
        case "|", ">":
            return "multi-line scalars ('\(first)') are not supported; write the value on one line"
        case "%", "@", "`":
            return "a plain value cannot start with '\(first)'; quote the value"
        case "?" where next == nil || Self.isBlank(next!):
            return "complex keys ('? key') are not supported"
        case "-" where next == nil || Self.isBlank(next!):
            return "a sequence item cannot follow a key on the same line; start it on the next line"
        default:
            return nil
        }
    }

    /// Index just past the closing quote of the quoted scalar that opens at `start`, or nil if unterminated.
    static func endOfQuoted(_ text: [Character], from start: Int) -> Int? {
        let quote = text[start]
        var index = start + 1
        while index < text.count {
            if quote == "\"" && text[index] == "\\" {
                index += 2
                continue
            }
            if text[index] == quote {
                if quote == "'" && index + 1 < text.count && text[index + 1] == "'" {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return nil
    }

    /// Parses the value that starts at `text[start]` and must end with the line.
    mutating func parseInline(_ text: [Character], from start: Int, line: Line) -> YAMLNode {
        var reader = InlineReader(text: text, index: start, line: line.number, indentColumn: line.indent + 1,
                                  file: self.file)
        let column = line.indent + 1 + start
        do throws(ConfigError) {
            let node: YAMLNode
            if text[start] == "[" || text[start] == "{" || text[start] == "\"" || text[start] == "'" {
                node = try reader.readValue(inFlow: text[start] == "[" || text[start] == "{", depth: self.depth)
                reader.skipBlanks()
                if reader.index < text.count {
                    throw reader.error("unexpected '\(String(text[reader.index...]))' after the value", reader.index)
                }
            } else {
                node = try reader.readPlainBlockScalar()
            }
            self.errors.append(contentsOf: reader.softErrors)
            return node
        } catch {
            self.errors.append(contentsOf: reader.softErrors)
            self.errors.append(error)
            return YAMLNode(.null, at: self.location(line: line.number, column: column))
        }
    }
}
