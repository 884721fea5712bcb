import Foundation

/// The named targets of a `targets: FILE` route (websockify's token plugins): a YAML-lite mapping
/// of `name: tcp://host:port` lines, read at start and on every reload. The client never supplies
/// a host or port: it (or its token, or the auth server) only names one of these.
public struct NamedTargets: Sendable, Equatable {
    /// One target's address.
    public struct Address: Sendable, Equatable {
        public var host: String
        public var port: Int
    }

    /// The targets by name.
    public var targets: [String: Address]

    /// Reads `path` (relative to `baseDirectory`); errors name the file, line and column.
    public static func load(path: String, baseDirectory: String = FileManager.default.currentDirectoryPath) throws(ConfigErrors) -> NamedTargets {
        let full = path.hasPrefix("/") ? path : baseDirectory + "/" + path
        guard let data = FileManager.default.contents(atPath: full), let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors([ConfigError(.invalidValue(key: "targets", reason: "file '\(path)' cannot be read"),
                                            at: SourceLocation(file: path, line: 1, column: 1))])
        }
        return try Self.parse(text, file: path)
    }

    /// Parses the file's text.
    public static func parse(_ text: String, file: String) throws(ConfigErrors) -> NamedTargets {
        let root = try YAMLLiteParser.parse(text, file: file)
        var errors: [ConfigError] = []
        var targets: [String: Address] = [:]
        switch root.value {
        case .mapping(let entries):
            for entry in entries {
                guard case .scalar(let value, _) = entry.value.value, value.hasPrefix("tcp://") else {
                    errors.append(ConfigError(.invalidValue(key: entry.key, reason: "expected tcp://host:port"), at: entry.value.location))
                    continue
                }
                switch HostPort.parse(String(value.dropFirst("tcp://".count)), minimumPort: 1) {
                case .success(let address): targets[entry.key] = Address(host: address.host, port: address.port)
                case .failure(let error): errors.append(ConfigError(.invalidValue(key: entry.key, reason: error.reason), at: entry.value.location))
                }
            }
        case .scalar("", _):
            break  // an empty file: no targets
        default:
            errors.append(ConfigError(.invalidValue(key: "targets", reason: "expected a mapping of name: tcp://host:port"), at: root.location))
        }
        guard errors.isEmpty else { throw ConfigErrors(errors) }
        return NamedTargets(targets: targets)
    }
}
