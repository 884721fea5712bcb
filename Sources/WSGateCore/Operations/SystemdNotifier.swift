import Foundation

/// Tells systemd (a `Type=notify` unit) what the gateway is doing: `READY=1` once every listener is
/// open, `RELOADING=1` with `MONOTONIC_USEC` then `READY=1` around a reload, `STOPPING=1` when it
/// starts draining, and `STATUS=` lines — datagrams to the unix socket in `$NOTIFY_SOCKET`, as
/// sd_notify(3) sends them, without libsystemd. With no `NOTIFY_SOCKET` it does nothing.
public struct SystemdNotifier: Sendable {
    private let socketPath: String?

    /// Reads `NOTIFY_SOCKET` from `environment` (an `@` first is Linux's abstract namespace).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether systemd is listening.
    public var isEnabled: Bool { self.socketPath != nil }

    /// Every listener is open.
    public func ready(status: String) {
        self.send("READY=1\nSTATUS=\(status)")
    }

    /// A reload starts (systemd's `Type=notify-reload` protocol: the monotonic clock in µs).
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        self.send("RELOADING=1\nMONOTONIC_USEC=\(microseconds)")
    }

    /// Draining for shutdown.
    public func stopping() {
        self.send("STOPPING=1")
    }

    /// A free-form status line (`systemctl status` shows it).
    public func status(_ text: String) {
        self.send("STATUS=\(text)")
    }

    /// Sends one datagram; failures are ignored, as sd_notify's callers do.
    func send(_ message: String) {
        guard let path = self.socketPath else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract socket
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let payload = Array(message.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                payload.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length) }
            }
        }
    }
}
