internal import COpenSSL

/// The OpenSSL the process runs on.
public enum TLSLibrary {
    /// OpenSSL's own version line, e.g. `OpenSSL 3.0.17 1 Jul 2025`.
    public static var version: String {
        String(cString: OpenSSL_version(numericCast(OPENSSL_VERSION)))
    }
}
