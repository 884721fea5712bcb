/// One element of a `Sec-WebSocket-Extensions` list (RFC 6455 section 9.1): an extension name and
/// its `;` parameters. In a request it is an offer; in a response, an acceptance.
///
/// ```
/// extension-list  = 1#extension
/// extension       = extension-token *( ";" extension-param )
/// extension-param = token [ "=" (token | quoted-string) ]
/// ```
///
/// Names (of the extension and of its parameters) are lowercased: the gateway compares them
/// case-insensitively. Values are kept as sent, quoted strings already unescaped.
public struct ExtensionOffer: Equatable, Sendable {
    /// One `name[=value]` parameter.
    public struct Parameter: Equatable, Sendable {
        /// The parameter's name, lowercased.
        public var name: String
        /// The value (unquoted and unescaped), or `nil` for a parameter written without `=`.
        public var value: String?

        /// A parameter `name[=value]`.
        public init(name: String, value: String? = nil) {
            self.name = name
            self.value = value
        }
    }

    /// The extension's name, lowercased, e.g. `permessage-deflate`.
    public var name: String
    /// The parameters in the order they came; duplicates are kept (RFC 7692 declines them).
    public var parameters: [Parameter]

    /// An extension `name` with `parameters`.
    public init(name: String, parameters: [Parameter] = []) {
        self.name = name
        self.parameters = parameters
    }

    /// Every well-formed element of every header line, in order (a request may repeat the header,
    /// RFC 6455 section 9.1). A malformed element is left out, so it is declined as RFC 7692
    /// section 7 asks; the elements after it on the same line are still read. An unterminated
    /// quoted string ends its line.
    public static func parse(_ headerValues: some Sequence<String>) -> [ExtensionOffer] {
        var offers: [ExtensionOffer] = []
        for value in headerValues {
            _ = Self.parse(value, into: &offers)
        }
        return offers
    }

    /// The elements of one header line, or `nil` if any element is malformed or the line lists
    /// none: the strict reading a client applies to a server's response.
    public static func parseStrictly(_ headerValue: String) -> [ExtensionOffer]? {
        var offers: [ExtensionOffer] = []
        guard Self.parse(headerValue, into: &offers), !offers.isEmpty else { return nil }
        return offers
    }

    /// The element as a header value: `name; param; param=value`.
    public var headerValue: String {
        var text = self.name
        for parameter in self.parameters {
            text += "; " + parameter.name
            if let value = parameter.value { text += "=" + value }
        }
        return text
    }

    // MARK: - Parsing

    /// Appends the well-formed elements of `value` to `offers`; `false` if any element was malformed.
    private static func parse(_ value: String, into offers: inout [ExtensionOffer]) -> Bool {
        var text = value
        return text.withUTF8 { bytes in
            var reader = Reader(bytes: bytes)
            var wellFormed = true
            while true {
                reader.skipWhitespace()
                guard let byte = reader.peek() else { break }
                if byte == UInt8(ascii: ",") {  // an empty list element (RFC 9110 section 5.6.1)
                    reader.index += 1
                    continue
                }
                if let offer = reader.element() {
                    offers.append(offer)
                } else {
                    wellFormed = false
                    reader.skipToNextElement()
                }
            }
            return wellFormed
        }
    }

    /// A cursor over one header line's bytes.
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        func peek() -> UInt8? {
            self.index < self.bytes.count ? self.bytes[self.index] : nil
        }

        mutating func skipWhitespace() {
            while let byte = self.peek(), byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                self.index += 1
            }
        }

        /// `extension *( ";" extension-param )`, up to and including the `,` that ends it.
        mutating func element() -> ExtensionOffer? {
            guard let name = self.token() else { return nil }
            var parameters: [Parameter] = []
            while true {
                self.skipWhitespace()
                guard let byte = self.peek() else { break }
                if byte == UInt8(ascii: ",") {
                    self.index += 1
                    break
                }
                guard byte == UInt8(ascii: ";") else { return nil }
                self.index += 1
                self.skipWhitespace()
                guard let parameterName = self.token() else { return nil }
                self.skipWhitespace()
                var value: String?
                if self.peek() == UInt8(ascii: "=") {
                    self.index += 1
                    self.skipWhitespace()
                    if self.peek() == UInt8(ascii: "\"") {
                        // RFC 6455 section 9.1: once unescaped, a quoted value must still be a token.
                        guard let unquoted = self.quotedString(), ExtensionOffer.isToken(unquoted.utf8) else { return nil }
                        value = unquoted
                    } else {
                        guard let token = self.token(preservingCase: true) else { return nil }
                        value = token
                    }
                }
                parameters.append(Parameter(name: parameterName, value: value))
            }
            return ExtensionOffer(name: name, parameters: parameters)
        }

        /// A non-empty run of `tchar` (RFC 9110 section 5.6.2), lowercased unless `preservingCase`.
        mutating func token(preservingCase: Bool = false) -> String? {
            let start = self.index
            while let byte = self.peek(), ExtensionOffer.isTokenByte(byte) {
                self.index += 1
            }
            guard self.index > start else { return nil }
            let slice = UnsafeBufferPointer(rebasing: self.bytes[start..<self.index])
            if preservingCase { return String(decoding: slice, as: UTF8.self) }
            return String(decoding: slice.lazy.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        }

        /// `DQUOTE *( qdtext / quoted-pair ) DQUOTE` (RFC 9110 section 5.6.4), unescaped; `nil`
        /// if unterminated or holding a control character.
        mutating func quotedString() -> String? {
            self.index += 1  // the opening quote
            var content: [UInt8] = []
            while let byte = self.peek() {
                self.index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: content, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let escaped = self.peek(), escaped == 0x09 || escaped >= 0x20, escaped != 0x7F else { return nil }
                    self.index += 1
                    content.append(escaped)
                default:
                    guard byte == 0x09 || byte >= 0x20, byte != 0x7F else { return nil }
                    content.append(byte)
                }
            }
            return nil
        }

        /// Skips a malformed element: up to and past the next `,` outside a quoted string.
        mutating func skipToNextElement() {
            var inQuotes = false
            while let byte = self.peek() {
                self.index += 1
                if inQuotes {
                    if byte == UInt8(ascii: "\\") {
                        self.index = min(self.index + 1, self.bytes.count)
                    } else if byte == UInt8(ascii: "\"") {
                        inQuotes = false
                    }
                } else if byte == UInt8(ascii: "\"") {
                    inQuotes = true
                } else if byte == UInt8(ascii: ",") {
                    return
                }
            }
        }
    }

    /// `tchar`: `!#$%&'*+-.^_`|~`, digits and letters (RFC 9110 section 5.6.2).
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    static func isToken(_ bytes: some Collection<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy(Self.isTokenByte)
    }
}
