import Foundation

/// Turns a YAML-lite tree into typed values (stage 3 of loading), collecting every error on the way.
///
/// Each `read…` helper reports its own error and returns nil, so that decoding goes on past a bad value.
struct ConfigDecoder {
    let file: String
    /// The folder relative `static` roots are checked against.
    let baseDirectory: String
    var errors: [ConfigError] = []

    init(file: String, baseDirectory: String) {
        self.file = file
        self.baseDirectory = baseDirectory
    }

    mutating func report(_ kind: ConfigError.Kind, at location: SourceLocation) {
        self.errors.append(ConfigError(kind, at: location))
    }

    /// The entries of a mapping, after reporting keys that `section` does not know.
    mutating func entries(of node: YAMLNode, key: String, section: ConfigurationSection) -> [YAMLMappingEntry]? {
        guard case .mapping(let entries) = node.value else {
            self.report(.wrongType(key: key, expected: "a mapping", found: node.foundDescription), at: node.location)
            return nil
        }
        var known: [YAMLMappingEntry] = []
        for entry in entries {
            if ConfigurationReference.key(entry.key, in: section) != nil {
                known.append(entry)
            } else if section == .route && entry.key == "drain_timeout_s" {
                self.report(.invalidValue(key: entry.key, reason: "global only; set it under 'limits:'"),
                            at: entry.keyLocation)
            } else {
                let suggestion = ConfigurationReference.suggestion(for: entry.key, in: section)
                self.report(.unknownKey(entry.key, in: section.displayName, suggestion: suggestion),
                            at: entry.keyLocation)
            }
        }
        return known
    }

    /// The items of a sequence (an empty value counts as an empty sequence).
    mutating func items(of entry: YAMLMappingEntry) -> [YAMLNode]? {
        switch entry.value.value {
        case .sequence(let items):
            return items
        case .null:
            return []
        default:
            self.report(.wrongType(key: entry.key, expected: "a list", found: entry.value.foundDescription),
                        at: entry.value.location)
            return nil
        }
    }

    mutating func readString(_ entry: YAMLMappingEntry) -> String? {
        guard case .scalar(let text, _) = entry.value.value, !text.isEmpty else {
            self.report(.wrongType(key: entry.key, expected: "a string", found: entry.value.foundDescription),
                        at: entry.value.location)
            return nil
        }
        return text
    }

    /// An unquoted integer at least the table's minimum for the key (`_` separators allowed).
    mutating func readInteger(_ entry: YAMLMappingEntry, section: ConfigurationSection) -> Int? {
        let minimum: Int
        if case .integer(let tableMinimum)? = ConfigurationReference.key(entry.key, in: section)?.type {
            minimum = tableMinimum
        } else {
            minimum = 0
        }
        guard case .scalar(let text, false) = entry.value.value else {
            self.report(.wrongType(key: entry.key, expected: "an integer", found: entry.value.foundDescription),
                        at: entry.value.location)
            return nil
        }
        var digits = text.replacingOccurrences(of: "_", with: "")
        let isNegative = digits.hasPrefix("-")
        if isNegative || digits.hasPrefix("+") {
            digits.removeFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            self.report(.wrongType(key: entry.key, expected: "an integer", found: "'\(text)'"), at: entry.value.location)
            return nil
        }
        guard let magnitude = Int(digits) else {
            self.report(.invalidValue(key: entry.key, reason: "\(text) is too large"), at: entry.value.location)
            return nil
        }
        let value = isNegative ? -magnitude : magnitude
        guard value >= minimum else {
            let rule = minimum == 0 ? "must not be negative" : "must be at least \(minimum)"
            self.report(.invalidValue(key: entry.key, reason: "\(rule), found \(value)"), at: entry.value.location)
            return nil
        }
        return value
    }

    /// `true`/`false` (any case); with `allowsOnOff`, also `on`/`off`.
    mutating func readBoolean(_ entry: YAMLMappingEntry, allowsOnOff: Bool = false) -> Bool? {
        if case .scalar(let text, false) = entry.value.value {
            switch text.lowercased() {
            case "true": return true
            case "false": return false
            case "on" where allowsOnOff: return true
            case "off" where allowsOnOff: return false
            default: break
            }
        }
        let expected = allowsOnOff ? "on, off, true or false" : "true or false"
        self.report(.wrongType(key: entry.key, expected: expected, found: entry.value.foundDescription),
                    at: entry.value.location)
        return nil
    }

    /// One of an enum's raw values.
    mutating func readChoice<Choice: RawRepresentable & CaseIterable>(
        _ entry: YAMLMappingEntry, as type: Choice.Type
    ) -> Choice? where Choice.RawValue == String {
        if case .scalar(let text, _) = entry.value.value, let choice = Choice(rawValue: text) {
            return choice
        }
        let words = Choice.allCases.map(\.rawValue).joined(separator: ", ")
        self.report(.wrongType(key: entry.key, expected: "one of \(words)", found: entry.value.foundDescription),
                    at: entry.value.location)
        return nil
    }

    /// A list of non-empty strings; a single string counts as a list of one.
    mutating func readStringList(_ entry: YAMLMappingEntry) -> [String]? {
        switch entry.value.value {
        case .scalar(let text, _) where !text.isEmpty:
            return [text]
        case .sequence(let items):
            var strings: [String] = []
            for item in items {
                guard case .scalar(let text, _) = item.value, !text.isEmpty else {
                    self.report(.wrongType(key: entry.key, expected: "a list of strings",
                                           found: "\(item.foundDescription) in the list"), at: item.location)
                    return nil
                }
                strings.append(text)
            }
            return strings
        default:
            self.report(.wrongType(key: entry.key, expected: "a list of strings", found: entry.value.foundDescription),
                        at: entry.value.location)
            return nil
        }
    }

    /// `host:port`; the port may be 0 (an ephemeral port) unless `minimumPort` says otherwise.
    mutating func readHostPort(_ entry: YAMLMappingEntry, minimumPort: Int = 0) -> (host: String, port: Int)? {
        guard let text = self.readString(entry) else {
            return nil
        }
        switch HostPort.parse(text, minimumPort: minimumPort) {
        case .success(let address):
            return address
        case .failure(let error):
            self.report(.invalidValue(key: entry.key, reason: error.reason), at: entry.value.location)
            return nil
        }
    }

    /// Whether a folder exists, relative paths taken from `baseDirectory`.
    func folderExists(_ path: String) -> Bool {
        let fullPath = path.hasPrefix("/") ? path : self.baseDirectory + "/" + path
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: fullPath, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
