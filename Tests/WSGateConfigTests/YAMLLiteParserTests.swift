import Testing

@testable import WSGateConfig

@Suite struct YAMLLiteParserTests {
    func node(_ text: String) throws -> YAMLNode {
        try YAMLLiteParser.parse(text, file: "test.yaml")
    }

    func scalar(_ text: String, quoted: Bool = false, _ line: Int, _ column: Int) -> YAMLNode {
        YAMLNode(.scalar(text, isQuoted: quoted), at: location(line, column))
    }

    func syntaxErrors(_ text: String) -> [String] {
        YAMLLiteParser.parseCollectingErrors(text, file: "test.yaml").errors.map(\.description)
    }

    @Test func blockMappingsAndSequencesCarryLineAndColumn() throws {
        let root = try node("a: 1\nb:\n  - x\n  - k: v\n    m: n\n")
        let expected = YAMLNode(.mapping([
            YAMLMappingEntry(key: "a", keyLocation: location(1, 1), value: scalar("1", 1, 4)),
            YAMLMappingEntry(key: "b", keyLocation: location(2, 1), value: YAMLNode(.sequence([
                scalar("x", 3, 5),
                YAMLNode(.mapping([
                    YAMLMappingEntry(key: "k", keyLocation: location(4, 5), value: scalar("v", 4, 8)),
                    YAMLMappingEntry(key: "m", keyLocation: location(5, 5), value: scalar("n", 5, 8)),
                ]), at: location(4, 5)),
            ]), at: location(3, 3))),
        ]), at: location(1, 1))
        #expect(root == expected)
    }

    @Test func aSequenceMayStartAtTheColumnOfItsKey() throws {
        let root = try node("a:\n- 1\n- 2\nb: c\n")
        guard case .mapping(let entries) = root.value, case .sequence(let items) = entries[0].value.value else {
            Issue.record("expected a mapping with a sequence")
            return
        }
        #expect(items.count == 2)
        #expect(entries[1].key == "b")
    }

    @Test func flowCollectionsNestAndKeepPositions() throws {
        let root = try node("k: { a: 1, b: [x, 'y z', \"w\"], c: , d: {} }")
        guard case .mapping(let top) = root.value, case .mapping(let flow) = top[0].value.value else {
            Issue.record("expected a flow mapping")
            return
        }
        #expect(flow.map(\.key) == ["a", "b", "c", "d"])
        #expect(flow[0].value == scalar("1", 1, 9))
        #expect(flow[1].value == YAMLNode(.sequence([
            scalar("x", 1, 16), scalar("y z", quoted: true, 1, 19), scalar("w", quoted: true, 1, 26),
        ]), at: location(1, 15)))
        #expect(flow[2].value.value == .null)
        #expect(flow[3].value.value == .mapping([]))
    }

    @Test func plainScalarsKeepColonsThatAreNotFollowedByASpace() throws {
        let root = try node("u: tcp://127.0.0.1:7000\nl: [http://a:1, b]\n")
        guard case .mapping(let entries) = root.value, case .sequence(let items) = entries[1].value.value else {
            Issue.record("expected a mapping")
            return
        }
        #expect(entries[0].value.value == .scalar("tcp://127.0.0.1:7000", isQuoted: false))
        #expect(items[0].value == .scalar("http://a:1", isQuoted: false))
    }

    @Test func quotedStringsKeepHashesAndDecodeEscapes() throws {
        let root = try node("""
        a: "x # not a comment"   # a comment
        b: 'it''s # here'
        c: "q\\"\\\\\\n\\t"
        d: it's # plain apostrophe, then a comment
        "e f": '*'
        """)
        guard case .mapping(let entries) = root.value else {
            Issue.record("expected a mapping")
            return
        }
        #expect(entries.map(\.value.value) == [
            .scalar("x # not a comment", isQuoted: true),
            .scalar("it's # here", isQuoted: true),
            .scalar("q\"\\\n\t", isQuoted: true),
            .scalar("it's", isQuoted: false),
            .scalar("*", isQuoted: true),
        ])
        #expect(entries[4].key == "e f")
    }

    @Test func anEmptyValueIsNullAndAnEmptyDocumentIsNull() throws {
        let root = try node("a:\nb: ~x\n")
        guard case .mapping(let entries) = root.value else {
            Issue.record("expected a mapping")
            return
        }
        #expect(entries[0].value == YAMLNode(.null, at: location(1, 1)))
        #expect(try node("# only a comment\n\n").value == .null)
        #expect(try node("---\na: 1\n").location == location(2, 1))
    }

    @Test(arguments: [
        ("a:\n\tb: 1\n", "test.yaml:2:1: tab character in indentation (indent with spaces)"),
        ("a: &x 1\n", "test.yaml:1:4: anchors ('&name') are not supported"),
        ("a: *x\n", "test.yaml:1:4: aliases ('*name') are not supported; write \"*\" in quotes for a literal asterisk"),
        ("a: [1, *x]\n", "test.yaml:1:8: aliases ('*name') are not supported; write \"*\" in quotes for a literal asterisk"),
        ("a: !!str 1\n", "test.yaml:1:4: tags ('!tag') are not supported"),
        ("a: |\n  text\n", "test.yaml:1:4: multi-line scalars ('|') are not supported; write the value on one line"),
        ("a: >\n  text\n", "test.yaml:1:4: multi-line scalars ('>') are not supported; write the value on one line"),
        ("a: 1\n---\nb: 2\n", "test.yaml:2:1: multiple documents are not supported ('---' after the first document)"),
        ("a: 1\n...\n", "test.yaml:2:1: document end marker '...' is not supported (one document per file)"),
        ("a: 1\na: 2\n", "test.yaml:2:1: duplicate key 'a' (each key may appear once in a mapping)"),
        ("a: {b: 1, b: 2}\n", "test.yaml:1:11: duplicate key 'b' (each key may appear once in a mapping)"),
        ("a:\n    b: 1\n  c: 2\n", "test.yaml:3:3: bad indentation: expected column 1, found column 3"),
        ("a:\n  b: 1\n   c: 2\n", "test.yaml:3:4: bad indentation: a value already ended on the line above (multi-line scalars are not supported; expected column 3 or less)"),
        ("a:\n  - 1\n - 2\n", "test.yaml:3:2: bad indentation: expected column 1, found column 2"),
        ("a: one\n  two\n", "test.yaml:2:3: bad indentation: a value already ended on the line above (multi-line scalars are not supported; expected column 1 or less)"),
        ("a: [1, 2\n", "test.yaml:1:4: unterminated flow sequence: expected ']' on the same line"),
        ("a: \"open\n", "test.yaml:1:4: unterminated double-quoted string (multi-line strings are not supported)"),
        ("a: \"\\x\"\n", "test.yaml:1:5: unknown escape '\\x' in a double-quoted string (supported: \\\" \\\\ \\/ \\n \\t \\r \\0)"),
        ("a: b: c\n", "test.yaml:1:5: unexpected ': ' inside a plain value (a mapping cannot start here; quote the value if the colon is part of it)"),
        ("just text\nmore: 1\n", "test.yaml:2:1: bad indentation: this line does not belong to any mapping or sequence"),
    ])
    func refusedSyntaxIsReportedAtItsLineAndColumn(text: String, expected: String) {
        #expect(self.syntaxErrors(text) == [expected])
    }

    @Test func everySyntaxErrorInAFileIsReported() {
        let errors = self.syntaxErrors("a: &x 1\nb:\n\tc: 2\nd: *y\ne: 1\ne: 2\n")
        #expect(errors.count == 4)
        #expect(errors.map { $0.split(separator: ":")[1] } == ["1", "3", "4", "6"])
    }

    @Test func deepNestingIsRefusedInsteadOfOverflowingTheStack() {
        let flow = "a: " + String(repeating: "[", count: 10_000)
        #expect(self.syntaxErrors(flow).count == 1)
        let block = "a: " + String(repeating: "- ", count: 10_000) + "x"
        #expect(!self.syntaxErrors(block).isEmpty)
        let items = String(repeating: "- ", count: 10_000) + "x"
        #expect(self.syntaxErrors(items).count == 1)
    }
}
