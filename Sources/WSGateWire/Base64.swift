import NIOCore

/// Standard base64 (RFC 4648 section 4: alphabet `A–Z a–z 0–9 + /`, `=` padding).
///
/// Used for bridges that carry bytes as text and for binary messages sent to hixie clients.
/// Decoding is strict: the length must be a multiple of 4, `=` may only end the text (at most two),
/// the bits that padding leaves over must be zero (section 3.5), and nothing else is allowed — no
/// line breaks, spaces or URL-safe alphabet (section 5).
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let padding = UInt8(ascii: "=")
    /// The 6-bit value of each alphabet byte; `0xFF` for every other byte.
    private static let values: [UInt8] = {
        var values = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in Base64.alphabet.enumerated() {
            values[Int(character)] = UInt8(value)
        }
        return values
    }()

    /// The base64 text of `bytes`, padded.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = second == nil ? nil : iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(Self.alphabet[Int(group >> 18 & 0x3F)])
            output.append(Self.alphabet[Int(group >> 12 & 0x3F)])
            output.append(second == nil ? Self.padding : Self.alphabet[Int(group >> 6 & 0x3F)])
            output.append(third == nil ? Self.padding : Self.alphabet[Int(group & 0x3F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The base64 text of the readable bytes of `buffer`, padded.
    public static func encode(_ buffer: ByteBuffer) -> String {
        Self.encode(buffer.readableBytesView)
    }

    /// The bytes that `text` encodes, or `nil` if it is not strict, padded base64.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        Self.decodeBytes(text.utf8)
    }

    /// The bytes that the readable bytes of `bytes` encode, or `nil` if they are not strict, padded base64.
    public static func decode(_ bytes: ByteBuffer) -> [UInt8]? {
        Self.decodeBytes(bytes.readableBytesView)
    }

    private static func decodeBytes(_ input: some Collection<UInt8>) -> [UInt8]? {
        let count = input.count
        guard count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(count / 4 * 3)
        var group: UInt32 = 0
        var inGroup = 0
        var paddingCount = 0
        for (position, character) in input.enumerated() {
            var value: UInt8 = 0
            if character == Self.padding {
                guard position >= count - 2 else { return nil }  // only the last two characters
                paddingCount += 1
            } else {
                value = Self.values[Int(character)]
                guard value != 0xFF, paddingCount == 0 else { return nil }
            }
            group = group << 6 | UInt32(value)
            inGroup += 1
            if inGroup == 4 {
                output.append(UInt8(truncatingIfNeeded: group >> 16))
                output.append(UInt8(truncatingIfNeeded: group >> 8))
                output.append(UInt8(truncatingIfNeeded: group))
                group = 0
                inGroup = 0
            }
        }
        guard paddingCount > 0 else { return output }
        // The bytes that padding stands for must be zero, and so must the bits left over before them.
        guard output.suffix(paddingCount).allSatisfy({ $0 == 0 }) else { return nil }
        output.removeLast(paddingCount)
        return output
    }
}
