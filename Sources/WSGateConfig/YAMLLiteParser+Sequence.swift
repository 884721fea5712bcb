/// Block sequences: `- item`, including `- key: value` followed by more keys of the same mapping.
extension YAMLLiteParser {
    mutating func parseSequence(indent: Int) -> YAMLNode {
        let first = self.lines[self.position]
        let start = self.location(line: first.number, column: first.indent + 1)
        var items: [YAMLNode] = []
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
            guard Self.isSequenceItem(line.text) else {
                // A key at the column of the dashes belongs to the enclosing mapping.
                break
            }
            let dash = self.location(line: line.number, column: indent + 1)
            var offset = 1
            while offset < line.text.count, Self.isBlank(line.text[offset]) {
                offset += 1
            }
            if offset == line.text.count {
                self.position += 1
                if self.position < self.lines.count, self.lines[self.position].indent > indent {
                    items.append(self.parseBlock(indent: self.lines[self.position].indent))
                } else {
                    items.append(YAMLNode(.null, at: dash))
                }
                continue
            }
            // Treat the rest of the line as a line of its own, indented at the column where it starts:
            // keys of the same mapping on the next lines line up with it.
            let rest = Line(number: line.number, indent: indent + offset, text: Array(line.text[offset...]))
            self.lines[self.position] = rest
            items.append(self.parseBlock(indent: rest.indent))
        }
        return YAMLNode(.sequence(items), at: start)
    }
}
