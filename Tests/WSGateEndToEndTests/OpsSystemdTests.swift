import Foundation
import Testing

/// wsgate under systemd (`Type=notify`): the notifications on `$NOTIFY_SOCKET`, in order, through
/// start, a valid reload, an invalid reload and SIGTERM; and the unit file passes systemd's checks.
@Suite(.timeLimit(.minutes(1)))
struct OpsSystemdTests {
    /// A unix datagram socket standing in for systemd's notification socket.
    private final class NotifySocket {
        let path: String
        private let fd: Int32

        init(directory: String) throws {
            self.path = directory + "/notify.sock"
            self.fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(self.path.utf8)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(self.fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { throw OpsError("cannot bind \(self.path)") }
        }

        deinit { close(self.fd) }

        /// The next datagram, or nil after `timeout`.
        func next(timeout: TimeInterval = 10) -> String? {
            var descriptor = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(timeout * 1000)) > 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(self.fd, &buffer, buffer.count, 0)
            return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
        }

        /// The next datagram that is not a periodic status line, within `timeout` in all.
        func nextEvent(timeout: TimeInterval = 10) -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            while deadline.timeIntervalSinceNow > 0, let message = self.next(timeout: deadline.timeIntervalSinceNow) {
                if !message.hasPrefix("STATUS=") { return message }
            }
            return nil
        }
    }

    @Test func notificationsFollowStartReloadAndStopInOrder() throws {
        let directory = try opsTemporaryDirectory()
        let notify = try NotifySocket(directory: directory)
        let port = try OpsSocket.freePort()
        let config = directory + "/wsgate.yaml"
        let valid = "listeners:\n  - bind: 127.0.0.1:\(port)\nroutes:\n  - path: /echo\n    echo: true\n"
        try valid.write(toFile: config, atomically: true, encoding: .utf8)
        let gateway = try OpsGatewayProcess(configPath: config, waitForPorts: [port], environment: ["NOTIFY_SOCKET": notify.path])
        defer { gateway.kill() }

        let ready = notify.nextEvent()
        #expect(ready?.hasPrefix("READY=1\nSTATUS=") == true, "\(ready ?? "nothing")")
        #expect(ready?.contains("connections open") == true)

        gateway.signal(SIGHUP)  // a valid reload
        let reloading = notify.nextEvent()
        #expect(reloading?.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true, "\(reloading ?? "nothing")")
        #expect(reloading.flatMap { UInt64($0.components(separatedBy: "MONOTONIC_USEC=").last ?? "") }.map { $0 > 0 } == true)
        #expect(notify.nextEvent()?.hasPrefix("READY=1") == true)

        try "listeners:\n  - bind: 127.0.0.1:\(port)\nroutes:\n  - path: /echo\n    ecko: true\n".write(toFile: config, atomically: true, encoding: .utf8)
        gateway.signal(SIGHUP)  // an invalid one: refused, still ready with the old configuration
        #expect(notify.nextEvent()?.hasPrefix("RELOADING=1") == true)
        #expect(notify.nextEvent()?.hasPrefix("READY=1") == true)
        let ws = try OpsWebSocket(port: port, path: "/echo")
        ws.sendText("still serving")
        #expect(ws.readFrame()?.payload == Array("still serving".utf8))

        gateway.signal(SIGTERM)
        #expect(notify.nextEvent() == "STOPPING=1")
        #expect(gateway.waitForExit(timeout: 10) == 0)
    }

    @Test func systemdAnalyzeAcceptsTheUnit() throws {
        let unit = repositoryRoot + "/etc/systemd/wsgate.service"
        let text = try String(contentsOfFile: unit, encoding: .utf8)
        #expect(text.contains("Type=notify"))
        #expect(text.contains("ExecReload=/bin/kill -HUP $MAINPID"))
        // systemd-analyze checks the binary named in ExecStart exists: verify a copy naming ours.
        let directory = try opsTemporaryDirectory()
        let copy = directory + "/wsgate.service"
        try text.replacingOccurrences(of: "/usr/local/bin/wsgate", with: OpsGatewayProcess.binaryPath)
            .write(toFile: copy, atomically: true, encoding: .utf8)
        let result = try runProcess("/usr/bin/systemd-analyze", ["verify", copy], timeout: 30)
        #expect(result.status == 0, "systemd-analyze: \(result.stdout)\n\(result.stderr)")
        #expect(!result.stderr.contains("wsgate.service:"), "warnings about the unit: \(result.stderr)")
    }
}
