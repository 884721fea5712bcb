import Foundation
import Testing
import WSGateConfig

/// Certificates renewed in place (certbot rewrites the files at the same paths, then reloads): a
/// SIGHUP-style reload reads them again; new handshakes get the new certificate, a connection
/// opened before keeps working; an unusable new pair is refused and the old one stays.
@Suite(.timeLimit(.minutes(1)))
struct TLSRenewalTests {
    /// The SHA-256 fingerprint of the certificate the listener serves now, seen by `openssl s_client`.
    private func servedFingerprint(port: Int) throws -> String {
        let handshake = try runProcess(
            "/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost"],
            stdin: Data(), timeout: 10)
        let pem = handshake.stdout.components(separatedBy: "-----BEGIN CERTIFICATE-----").dropFirst().first
            .flatMap { $0.components(separatedBy: "-----END CERTIFICATE-----").first }
            .map { "-----BEGIN CERTIFICATE-----" + $0 + "-----END CERTIFICATE-----\n" } ?? ""
        return try self.fingerprint(pem: pem)
    }

    private func fingerprint(pem: String) throws -> String {
        let result = try runProcess("/usr/bin/openssl", ["x509", "-noout", "-fingerprint", "-sha256"], stdin: Data(pem.utf8), timeout: 10)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func fileFingerprint(_ path: String) throws -> String {
        try self.fingerprint(pem: try String(contentsOfFile: path, encoding: .utf8))
    }

    @Test func aReloadServesACertificateRenewedAtTheSamePaths() throws {
        let folder = NSTemporaryDirectory() + "wsgate-renewal-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let certificate = folder + "/live.crt"
        let key = folder + "/live.key"
        let certs = repositoryRoot + "/certs-dev/"
        try FileManager.default.copyItem(atPath: certs + "server.crt", toPath: certificate)
        try FileManager.default.copyItem(atPath: certs + "server.key", toPath: key)
        let yaml = """
            listeners:
              - bind: 127.0.0.1:0
                tls: { cert: \(certificate), key: \(key) }
            routes:
              - path: /echo
                echo: true
            """
        let harness = try GatewayHarness(yaml: yaml)
        defer { harness.stop() }
        let before = try self.servedFingerprint(port: harness.port)
        #expect(before == (try self.fileFingerprint(certs + "server.crt")))
        let openBefore = try OpsWebSocketOverTLSProbe(port: harness.port)

        // The renewal: other files written over the same paths, then the reload.
        try Data(contentsOf: URL(fileURLWithPath: certs + "other.crt")).write(to: URL(fileURLWithPath: certificate))
        try Data(contentsOf: URL(fileURLWithPath: certs + "other.key")).write(to: URL(fileURLWithPath: key))
        try harness.gateway.reload(try ConfigLoader.parse(yaml, file: "renewal.yaml"))
        let after = try self.servedFingerprint(port: harness.port)
        #expect(after == (try self.fileFingerprint(certs + "other.crt")), "new handshakes get the renewed certificate")
        #expect(after != before)
        #expect(openBefore.isStillOpen(), "a connection from before the renewal keeps its session")

        // A broken renewal: a certificate with a key that does not match it. Refused; the last good one stays.
        try Data(contentsOf: URL(fileURLWithPath: certs + "server.crt")).write(to: URL(fileURLWithPath: certificate))
        #expect(throws: (any Error).self) { try harness.gateway.reload(try ConfigLoader.parse(yaml, file: "renewal.yaml")) }
        #expect(try self.servedFingerprint(port: harness.port) == after)
    }
}

/// A TLS connection held open across a reload, through `openssl s_client` kept running.
private final class OpsWebSocketOverTLSProbe {
    private let process = Process()
    private let input = Pipe()

    init(port: Int) throws {
        self.process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        self.process.arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-quiet"]
        self.process.standardInput = self.input
        self.process.standardOutput = FileHandle.nullDevice
        self.process.standardError = FileHandle.nullDevice
        try self.process.run()
        usleep(300_000)
    }

    func isStillOpen() -> Bool {
        defer {
            self.process.terminate()
            self.process.waitUntilExit()
        }
        return self.process.isRunning
    }
}
