/// A part of the configuration file that has its own set of keys.
public enum ConfigurationSection: String, Sendable, CaseIterable {
    /// The top level of the file.
    case topLevel
    /// An entry of `listeners`.
    case listener
    /// A listener's `tls` mapping.
    case tls
    /// An entry of `tls.sni`.
    case sni
    /// The `admin` mapping.
    case admin
    /// The `limits` mapping (most of its keys may also be set on a route).
    case limits
    /// An entry of `routes`.
    case route
    /// A route's `auth` mapping.
    case auth
    /// A route's `auth.jwt` mapping.
    case jwt
    /// The `cluster` mapping (rooms shared through Redis).
    case cluster
    /// A route's `upstream_tls` mapping.
    case upstreamTLS

    /// The name used in messages: `unknown key 'romm' in route`.
    public var displayName: String {
        switch self {
        case .topLevel: return "configuration"
        case .listener: return "listener"
        case .tls: return "listener tls"
        case .sni: return "sni entry"
        case .admin: return "admin"
        case .limits: return "limits"
        case .route: return "route"
        case .auth: return "route auth"
        case .jwt: return "route auth jwt"
        case .cluster: return "cluster"
        case .upstreamTLS: return "upstream_tls"
        }
    }

    /// Where the section sits in the file, as the reference shows it: `listeners[].tls`.
    public var path: String {
        switch self {
        case .topLevel: return "(top level)"
        case .listener: return "listeners[]"
        case .tls: return "listeners[].tls"
        case .sni: return "listeners[].tls.sni[]"
        case .admin: return "admin"
        case .limits: return "limits"
        case .route: return "routes[]"
        case .auth: return "routes[].auth"
        case .jwt: return "routes[].auth.jwt"
        case .cluster: return "cluster"
        case .upstreamTLS: return "routes[].upstream_tls"
        }
    }
}

/// The type of a configuration value, with the rule its value must follow.
public enum ConfigurationValueType: Sendable, Equatable {
    /// An unquoted integer, at least `minimum`.
    case integer(minimum: Int)
    /// `true` or `false`.
    case boolean
    /// `on` or `off` (`true` and `false` too).
    case onOff
    /// A plain or quoted string.
    case string
    /// One of a fixed set of words.
    case choice([String])
    /// A flow or block sequence of strings.
    case stringList
    /// `host:port` (IPv4, `localhost`, a host name, or `[IPv6]`); port 0–65535.
    case hostPort
    /// `tcp://host:port`; port 1–65535.
    case tcpAddress
    /// A mapping with keys of its own section.
    case mapping
    /// A sequence of mappings.
    case listOfMappings
    /// Reserved for a planned feature; refused for now.
    case unsupported

    /// How the type reads in messages and in the reference: `an integer ≥ 0`.
    public var expected: String {
        switch self {
        case .integer(let minimum): return minimum == 0 ? "an integer ≥ 0" : "an integer ≥ \(minimum)"
        case .boolean: return "true or false"
        case .onOff: return "on or off"
        case .string: return "a string"
        case .choice(let words): return "one of " + words.joined(separator: ", ")
        case .stringList: return "a list of strings"
        case .hostPort: return "host:port"
        case .tcpAddress: return "tcp://, tls://host:port | ws://, wss://host:port/path | unix:/path"
        case .mapping: return "a mapping"
        case .listOfMappings: return "a list of mappings"
        case .unsupported: return "nothing (not supported yet)"
        }
    }
}

/// One configuration key, described once: it feeds unknown-key suggestions and the Markdown reference.
public struct ConfigurationKey: Sendable, Equatable {
    /// The section the key belongs to.
    public var section: ConfigurationSection
    /// The key as written in the file (`max_message_bytes`).
    public var name: String
    /// The type and rule of its value.
    public var type: ConfigurationValueType
    /// The default as the reference shows it, or nil when the key is required.
    public var defaultValue: String?
    /// One or two sentences for the reference.
    public var doc: String
    /// True for a `limits` key that a route may also set for itself.
    public var isRouteOverridable: Bool

    /// Creates a key description.
    public init(
        _ section: ConfigurationSection,
        _ name: String,
        _ type: ConfigurationValueType,
        default defaultValue: String?,
        routeOverridable: Bool = false,
        _ doc: String
    ) {
        self.section = section
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.doc = doc
        self.isRouteOverridable = routeOverridable
    }
}
