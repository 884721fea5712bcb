internal import COpenSSL

/// Message digests from the system's OpenSSL, for the handshakes (no second crypto library).
enum Digest {
    /// SHA-1 (RFC 6455 section 4.2.2, `Sec-WebSocket-Accept`).
    static func sha1(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        _ = bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                SHA1(input.baseAddress, input.count, output.baseAddress)
            }
        }
        return out
    }
}
