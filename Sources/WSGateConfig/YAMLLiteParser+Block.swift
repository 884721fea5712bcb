/// Block structure: mappings and sequences laid out by indentation.
extension YAMLLiteParser {
    mutating func parseDocument() -> YAMLNode {
        guard let first = self.lines.first else {
            return YAMLNode(.null, at: self.location(line: 1, column: 1))
        }
        let root = self.parseBlock(indent: first.indent)
        while self.position < self.lines.count {
            let line = self.lines[self.position]
            self.fail("bad indentation: this line does not belong to any mapping or sequence",
                      line: line.number, column: line.indent + 1)
            self.skip(deeperThan: line.indent)
        }
        return root
    }

    /// Skips the current line and every following line indented deeper than `indent`.
    mutating func skip(deeperThan indent: Int) {
        self.position += 1
        while self.position < self.lines.count, self.lines[self.position].indent > indent {
            self.position += 1
        }
    }

    static func isSequenceItem(_ text: [Character]) -> Bool {
        text.first == "-" && (text.count == 1 || Self.isBlank(text[1]))
    }

    /// The index of the `:` that separates a block mapping key from its value, if the text is `key: value`.
    func mappingColon(_ text: [Character]) -> Int? {
        guard let first = text.first, first != "[", first != "{" else {
            return nil
        }
        var index = 0
        if first == "\"" || first == "'" {
            guard let end = Self.endOfQuoted(text, from: 0) else {
                return nil
            }
            index = end
            while index < text.count, Self.isBlank(text[index]) {
                index += 1
            }
            let isColon = index < text.count && text[index] == ":"
            return isColon && (index + 1 == text.count || Self.isBlank(text[index + 1])) ? index : nil
        }
        while index < text.count {
            if text[index] == ":" && (index + 1 == text.count || Self.isBlank(text[index + 1])) {
                return index
            }
            index += 1
        }
        return nil
    }

    /// Parses the block that starts at the current line, whose indentation is `indent`.
    mutating func parseBlock(indent: Int) -> YAMLNode {
        let line = self.lines[self.position]
        let start = self.location(line: line.number, column: line.indent + 1)
        if self.depth >= Self.maximumDepth {
            self.fail("nesting deeper than \(Self.maximumDepth) levels is not supported",
                      line: line.number, column: line.indent + 1)
            self.skip(deeperThan: indent - 1)
            return YAMLNode(.null, at: start)
        }
        self.depth += 1
        defer { self.depth -= 1 }
        if Self.isSequenceItem(line.text) {
            return self.parseSequence(indent: indent)
        }
        if self.mappingColon(line.text) != nil {
            return self.parseMapping(indent: indent)
        }
        // A scalar or flow collection on a line of its own (e.g. the value of `key:` on the next line).
        let errorCount = self.errors.count
        let node = self.parseInline(line.text, from: 0, line: line)
        self.position += 1
        self.refuseNestedLines(under: indent, hadError: self.errors.count > errorCount)
        return node
    }

    /// After a value that ends on its line, deeper lines would be a multi-line scalar or a stray block.
    mutating func refuseNestedLines(under indent: Int, hadError: Bool) {
        guard self.position < self.lines.count, self.lines[self.position].indent > indent else {
            return
        }
        let line = self.lines[self.position]
        if !hadError {
            self.fail(
                "bad indentation: a value already ended on the line above "
                    + "(multi-line scalars are not supported; expected column \(indent + 1) or less)",
                line: line.number, column: line.indent + 1)
        }
        self.skip(deeperThan: indent)
    }

    mutating func parseMapping(indent: Int) -> YAMLNode {
        let first = self.lines[self.position]
        let start = self.location(line: first.number, column: first.indent + 1)
        var entries: [YAMLMappingEntry] = []
        var seen: Set<String> = []
        while self.position < self.lines.count {
            let line = self.lines[self.position]
            if line.indent < indent {
                break
            }
            if line.indent > indent {
                self.fail("bad indentation: expected column \(indent + 1), found column \(line.indent + 1)",
                          line: line.number, column: line.indent + 1)
                self.skip(deeperThan: indent)
                continue
            }
            guard let colon = self.mappingColon(line.text) else {
                let what = Self.isSequenceItem(line.text) ? "a sequence item" : "'\(String(line.text))'"
                self.fail("expected 'key: value' in a mapping, found \(what)", line: line.number, column: indent + 1)
                self.skip(deeperThan: indent)
                continue
            }
            let keyLocation = self.location(line: line.number, column: indent + 1)
            let key = self.parseKey(Array(line.text[0..<colon]), line: line)
            var valueStart = colon + 1
            while valueStart < line.text.count, Self.isBlank(line.text[valueStart]) {
                valueStart += 1
            }
            self.position += 1
            let value: YAMLNode
            if valueStart == line.text.count {
                value = self.parseEmptyValue(indent: indent, at: keyLocation)
            } else {
                let errorCount = self.errors.count
                value = self.parseInline(line.text, from: valueStart, line: line)
                self.refuseNestedLines(under: indent, hadError: self.errors.count > errorCount)
            }
            guard let key else {
                continue
            }
            if seen.contains(key) {
                self.errors.append(ConfigError(.duplicateKey(key), at: keyLocation))
                continue
            }
            seen.insert(key)
            entries.append(YAMLMappingEntry(key: key, keyLocation: keyLocation, value: value))
        }
        return YAMLNode(.mapping(entries), at: start)
    }

    /// The value of `key:` with nothing after the colon: a deeper block, a sequence at the same column, or null.
    mutating func parseEmptyValue(indent: Int, at keyLocation: SourceLocation) -> YAMLNode {
        guard self.position < self.lines.count else {
            return YAMLNode(.null, at: keyLocation)
        }
        let next = self.lines[self.position]
        if next.indent > indent {
            return self.parseBlock(indent: next.indent)
        }
        if next.indent == indent, Self.isSequenceItem(next.text) {
            return self.parseBlock(indent: indent)
        }
        return YAMLNode(.null, at: keyLocation)
    }

    /// Reads a block mapping key (plain or quoted); reports and returns nil for keys YAML-lite refuses.
    mutating func parseKey(_ raw: [Character], line: Line) -> String? {
        var text = raw
        while let last = text.last, Self.isBlank(last) {
            text.removeLast()
        }
        let column = line.indent + 1
        guard let first = text.first else {
            self.fail("empty key before ':'", line: line.number, column: column)
            return nil
        }
        if first == "\"" || first == "'" {
            let errorCount = self.errors.count
            let node = self.parseInline(text, from: 0, line: line)
            guard self.errors.count == errorCount, case .scalar(let key, _) = node.value else {
                return nil
            }
            return key
        }
        if let refusal = Self.indicatorRefusal(first, next: text.count > 1 ? text[1] : nil) {
            self.fail(refusal, line: line.number, column: column)
            return nil
        }
        return String(text)
    }
}
