import CZlib

/// The zlib the process runs on.
public enum ZlibLibrary {
    /// zlib's version, e.g. `1.2.13`.
    public static var version: String {
        String(cString: zlibVersion())
    }
}
