import WSGateTLS
import WSGateWire

/// wsgate's version, and the libraries it runs on (`wsgate --version`).
public enum WSGateVersion {
    /// This release.
    public static let current = "0.4.0"

    /// `wsgate 0.4.0`, then the OpenSSL and zlib lines.
    public static var description: String {
        "wsgate \(Self.current)\nOpenSSL: \(TLSLibrary.version)\nzlib: \(ZlibLibrary.version)"
    }
}
