import NIOCore

/// Writes hixie-75/76 frames (draft-hixie-thewebsocketprotocol-76 section 5.2 / 4.2, sending data).
///
/// It does not check that text is UTF-8: callers pass validated text (valid UTF-8 never holds
/// `0xFF`, the terminator). Binary data has no hixie frame: send it as base64 text (`Base64`).
public enum HixieFrameEncoder {
    /// `0x00`, the UTF-8 bytes of the text, `0xFF`.
    public static func textFrame(_ utf8: some Collection<UInt8>) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(utf8.count + 2)
        buffer.writeInteger(0x00 as UInt8)
        buffer.writeBytes(utf8)
        buffer.writeInteger(0xFF as UInt8)
        return buffer
    }

    /// `0x00`, the UTF-8 bytes of `string`, `0xFF`.
    public static func textFrame(_ string: String) -> ByteBuffer {
        Self.textFrame(string.utf8)
    }

    /// `0xFF 0x00`, the hixie-76 closing handshake. Hixie-75 has none: close the connection instead.
    public static let closeFrame = ByteBuffer(bytes: [0xFF, 0x00])
}
