/// Everything that can go wrong in `WSGateTLS`. Each case carries OpenSSL's own reason strings
/// (e.g. `error:0A00010B:SSL routines::wrong version number`) and, for files, the path.
public enum TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The certificate (chain) file could not be read or is not a PEM certificate.
    case certificateFile(path: String, reasons: [String])
    /// The private key file could not be read or is not a PEM private key.
    case privateKeyFile(path: String, reasons: [String])
    /// The private key does not belong to the certificate.
    case keyMismatch(certificatePath: String, keyPath: String, reasons: [String])
    /// The trusted CA file (client side) could not be loaded; `nil` means the system default paths.
    case trustStore(path: String?, reasons: [String])
    /// OpenSSL refused a setting while the context was built (protocol range, ALPN list, …).
    case configurationFailed(reasons: [String])
    /// The TLS handshake failed: a bad ClientHello, an unsupported protocol version, an untrusted peer, …
    case handshakeFailed(reasons: [String])
    /// A record after the handshake could not be decrypted or was otherwise invalid.
    case protocolFailure(reasons: [String])

    /// One line, for logs: what failed, where, and OpenSSL's reasons.
    public var description: String {
        switch self {
        case .certificateFile(let path, let reasons):
            return "TLS certificate '\(path)': \(Self.join(reasons))"
        case .privateKeyFile(let path, let reasons):
            return "TLS private key '\(path)': \(Self.join(reasons))"
        case .keyMismatch(let certificatePath, let keyPath, let reasons):
            return "TLS private key '\(keyPath)' does not match certificate '\(certificatePath)': \(Self.join(reasons))"
        case .trustStore(let path, let reasons):
            return "TLS trusted CAs '\(path ?? "system default")': \(Self.join(reasons))"
        case .configurationFailed(let reasons):
            return "TLS configuration failed: \(Self.join(reasons))"
        case .handshakeFailed(let reasons):
            return "TLS handshake failed: \(Self.join(reasons))"
        case .protocolFailure(let reasons):
            return "TLS protocol failure: \(Self.join(reasons))"
        }
    }

    /// OpenSSL's reason strings, whichever the case.
    public var reasons: [String] {
        switch self {
        case .certificateFile(_, let reasons), .privateKeyFile(_, let reasons), .keyMismatch(_, _, let reasons),
            .trustStore(_, let reasons), .configurationFailed(let reasons), .handshakeFailed(let reasons),
            .protocolFailure(let reasons):
            return reasons
        }
    }

    private static func join(_ reasons: [String]) -> String {
        reasons.isEmpty ? "no reason given by OpenSSL" : reasons.joined(separator: "; ")
    }
}
