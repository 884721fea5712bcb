/// A Lua script for `EVALSHA`: its source and the SHA-1 Redis caches it under, computed once.
public struct RedisScript: Sendable, Hashable, ExpressibleByStringLiteral {
    /// The Lua source.
    public let source: String
    /// The SHA-1 of the source in lower-case hex: the name `SCRIPT LOAD` gives it.
    public let sha1: String

    /// A script from its source.
    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hexDigest(source)
    }

    /// A script from a literal source.
    public init(stringLiteral value: String) {
        self.init(value)
    }
}
