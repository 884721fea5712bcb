import NIOCore

/// What timed messages look like.
enum BenchPayloadKind: String, CaseIterable, Sendable {
    /// `sender sequence sentAtNanoseconds ` then `x` padding: ASCII, so that every dialect carries the
    /// same bytes, and as compressible as a message can be.
    case plain
    /// Chat-like JSON text, `{"sender":S,"seq":Q,"ts":T,"user":"uS","text":"..."}`, the text made of
    /// common words picked per message: compresses roughly as real chat messages do.
    case json
}

/// The payload of a timed message: the sender, its sequence number and the send time, which the
/// receiver reads back with `read(_:)`, padded to the message size.
enum BenchPayload {
    static func make(
        sender: Int, sequence: UInt64, size: Int, kind: BenchPayloadKind = .plain, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: max(size, 96))
        let now = NIODeadline.now().uptimeNanoseconds
        switch kind {
        case .plain:
            buffer.writeString("\(sender) \(sequence) \(now) ")
            if size > buffer.readableBytes { buffer.writeRepeatingByte(UInt8(ascii: "x"), count: size - buffer.readableBytes) }
        case .json:
            buffer.writeString("{\"sender\":\(sender),\"seq\":\(sequence),\"ts\":\(now),\"user\":\"u\(sender)\",\"text\":\"")
            Self.writeWords(into: &buffer, upTo: size - 2, seed: UInt64(sender) &* 0x9E37_79B9_7F4A_7C15 ^ sequence)
            buffer.writeString("\"}")
        }
        return buffer
    }

    /// Common chat words (a few hundred most frequent English words would do as well).
    static let words: [String] = [
        "the", "be", "to", "of", "and", "a", "in", "that", "have", "I", "it", "for", "not", "on", "with", "he", "as",
        "you", "do", "at", "this", "but", "his", "by", "from", "they", "we", "say", "her", "she", "or", "an", "will",
        "my", "one", "all", "would", "there", "their", "what", "so", "up", "out", "if", "about", "who", "get", "which",
        "go", "me", "when", "make", "can", "like", "time", "no", "just", "him", "know", "take", "people", "into",
        "year", "your", "good", "some", "could", "them", "see", "other", "than", "then", "now", "look", "only",
        "come", "its", "over", "think", "also", "back", "after", "use", "two", "how", "our", "work", "first", "well",
        "way", "even", "new", "want", "because", "any", "these", "give", "day", "most", "us", "meeting", "tomorrow",
        "deploy", "build", "release", "thanks", "sounds", "great", "lunch", "review", "merged", "ticket", "server",
        "coffee", "weekend", "sorry", "later", "ok", "sure", "yes", "maybe", "today", "morning", "afternoon",
    ]

    /// Words chosen by a small linear congruential generator, separated by spaces, up to `end`
    /// bytes in all (the last word cut or padded with spaces to land exactly).
    static func writeWords(into buffer: inout ByteBuffer, upTo end: Int, seed: UInt64) {
        var state = seed | 1
        while buffer.readableBytes < end {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let word = Self.words[Int((state >> 33) % UInt64(Self.words.count))]
            let room = end - buffer.readableBytes
            if word.utf8.count + 1 <= room {
                buffer.writeString(word)
                buffer.writeInteger(UInt8(ascii: state >> 61 == 0 ? "." : " "))
            } else {
                buffer.writeRepeatingByte(UInt8(ascii: " "), count: room)
            }
        }
    }

    /// Reads the three numbers back; `nil` if the payload is not one of ours.
    static func read(_ buffer: ByteBuffer) -> (sender: Int, sequence: UInt64, sentAt: UInt64)? {
        var numbers: [UInt64] = []
        var current: UInt64 = 0
        var hasDigits = false
        let view = buffer.readableBytesView
        if view.first == UInt8(ascii: "{") {
            // JSON: the first three numbers, each ended by a comma; the keys before them have no digits.
            for byte in view {
                if byte >= 0x30 && byte <= 0x39 {
                    current = current &* 10 &+ UInt64(byte - 0x30)
                    hasDigits = true
                } else if hasDigits {
                    guard byte == UInt8(ascii: ",") else { return nil }
                    numbers.append(current)
                    if numbers.count == 3 { break }
                    current = 0
                    hasDigits = false
                }
            }
        } else {
            for byte in view {
                if byte >= 0x30 && byte <= 0x39 {
                    current = current &* 10 &+ UInt64(byte - 0x30)
                    hasDigits = true
                } else if byte == 0x20 && hasDigits {
                    numbers.append(current)
                    if numbers.count == 3 { break }
                    current = 0
                    hasDigits = false
                } else {
                    return nil
                }
            }
        }
        guard numbers.count == 3 else { return nil }
        return (Int(numbers[0]), numbers[1], numbers[2])
    }
}
