/// An error reply of the Redis server (`-WRONGTYPE Operation against a key…`), as a Swift error.
///
/// Redis starts every error message with an upper-case word, its code (`ERR`, `WRONGTYPE`, `NOSCRIPT`,
/// `LOADING`, `READONLY`, `MOVED`, …): `code` is that word, `message` the rest. A message that does not
/// start with an upper-case word gets the code `ERR` and keeps its whole text as `message`.
public struct RESPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The error's code: the first word of the server's message.
    public var code: Code
    /// The message after the code (without the separating space).
    public var message: String

    /// An error from the server's full text (`"NOSCRIPT No matching script."`).
    public init(_ fullMessage: String) {
        var word = Substring(fullMessage)
        if let space = fullMessage.firstIndex(of: " ") { word = fullMessage[..<space] }
        let isCode = !word.isEmpty && word.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
            && word.utf8.first.map { $0 >= 0x41 && $0 <= 0x5A } == true
        if isCode {
            self.code = Code(rawValue: String(word))
            self.message = String(fullMessage[word.endIndex...].drop(while: { $0 == " " }))
        } else {
            self.code = .err
            self.message = fullMessage
        }
    }

    /// An error from a code and a message.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The server's text: code, a space and the message (or the code alone).
    public var description: String { message.isEmpty ? code.rawValue : "\(code.rawValue) \(message)" }

    /// The code of a Redis error reply: an upper-case word. The common ones are constants.
    public struct Code: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
        /// The word, as sent (`"WRONGTYPE"`).
        public var rawValue: String

        /// A code from its word.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// A code from a literal word.
        public init(stringLiteral value: String) { self.rawValue = value }

        /// The word.
        public var description: String { rawValue }

        /// A generic error.
        public static let err: Code = "ERR"
        /// The key holds a value of another type.
        public static let wrongType: Code = "WRONGTYPE"
        /// `EVALSHA` of a script that is not in the server's cache (empty after a restart or `SCRIPT FLUSH`).
        public static let noScript: Code = "NOSCRIPT"
        /// The server is loading its data set into memory.
        public static let loading: Code = "LOADING"
        /// A write to a read-only replica.
        public static let readOnly: Code = "READONLY"
        /// Authentication is required.
        public static let noAuth: Code = "NOAUTH"
        /// Wrong user name or password.
        public static let wrongPass: Code = "WRONGPASS"
        /// The user has no permission for the command or key.
        public static let noPerm: Code = "NOPERM"
        /// A script or function is running.
        public static let busy: Code = "BUSY"
        /// The command would exceed `maxmemory`.
        public static let oom: Code = "OOM"
        /// Cluster: the key's slot is served by another node.
        public static let moved: Code = "MOVED"
        /// Cluster: the key's slot is being migrated; ask the other node.
        public static let ask: Code = "ASK"
        /// Cluster: try again later (multi-key command during resharding).
        public static let tryAgain: Code = "TRYAGAIN"
        /// Cluster: the cluster is down.
        public static let clusterDown: Code = "CLUSTERDOWN"
        /// `EXEC` aborted because of errors while queueing.
        public static let execAbort: Code = "EXECABORT"
        /// The replica lost its link with the master.
        public static let masterDown: Code = "MASTERDOWN"
    }
}
