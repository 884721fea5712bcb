import Foundation

/// Keys and tokens for the auth tests, made by independent tools: `openssl` for the keys, Debian's
/// python3-jwt (PyJWT) for the tokens.
final class AuthFixture: @unchecked Sendable {  // written once in init, then only read
    let directory: String
    let secretPath: String
    let secret: String
    let rsaPrivatePath: String
    let rsaPublicPath: String

    init() throws {
        self.directory = try opsTemporaryDirectory()
        self.secret = (0..<48).map { _ in String("abcdefghijklmnopqrstuvwxyz0123456789".randomElement()!) }.joined()
        self.secretPath = self.directory + "/hmac.secret"
        try (self.secret + "\n").write(toFile: self.secretPath, atomically: true, encoding: .utf8)  // one trailing newline: not part of it
        self.rsaPrivatePath = self.directory + "/rsa.key"
        self.rsaPublicPath = self.directory + "/rsa.pub.pem"
        _ = try runProcess("/usr/bin/openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", self.rsaPrivatePath])
        _ = try runProcess("/usr/bin/openssl", ["pkey", "-in", self.rsaPrivatePath, "-pubout", "-out", self.rsaPublicPath])
    }

    /// A token from PyJWT. `claims` is a Python dict literal; `now` is available in it.
    func token(_ algorithm: String, claims: String, key: String? = nil) throws -> String {
        let keyExpression: String
        switch algorithm {
        case "HS256", "HS384", "HS512": keyExpression = key ?? "open(\(self.pythonString(self.secretPath))).read().rstrip('\\n')"
        case "none": keyExpression = "None"
        default: keyExpression = key ?? "open(\(self.pythonString(self.rsaPrivatePath))).read()"
        }
        let script = """
            import jwt, time, sys
            now = int(time.time())
            sys.stdout.write(jwt.encode(\(claims), \(keyExpression), algorithm=\(self.pythonString(algorithm))))
            """
        let result = try runProcess("/usr/bin/python3", ["-c", script], timeout: 20)
        guard result.status == 0 else { throw OpsError("PyJWT failed: \(result.stderr)") }
        return result.stdout
    }

    /// An HS256 token whose HMAC key is a file's bytes (the algorithm-confusion attack: the RSA
    /// public key's PEM as the secret), made by hand since PyJWT refuses to.
    func hmacSignedWithFile(_ path: String, claims: String) throws -> String {
        let script = """
            import base64, hashlib, hmac, json, time, sys
            now = int(time.time())
            b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()
            signing = b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode()) + '.' + b64(json.dumps(\(claims)).encode())
            key = open(\(self.pythonString(path)), 'rb').read()
            sys.stdout.write(signing + '.' + b64(hmac.new(key, signing.encode(), hashlib.sha256).digest()))
            """
        let result = try runProcess("/usr/bin/python3", ["-c", script], timeout: 20)
        guard result.status == 0 else { throw OpsError("python failed: \(result.stderr)") }
        return result.stdout
    }

    func pythonString(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "\\'") + "'" }
}

/// One HTTP exchange on the gateway's port: the status and head of its answer.
func authExchange(port: Int, path: String, headers: [String] = [], sourceAddress: String? = nil) throws -> (status: Int, head: String) {
    let request = rfcUpgradeRequest(path: path, port: port, headers: headers)
    let reply: [UInt8]
    if let sourceAddress {
        reply = try rawExchangeFrom(sourceAddress, port: port, Array(request.utf8))
    } else {
        reply = try rawExchange(port: port, [Array(request.utf8)], timeout: 5)
    }
    let text = String(decoding: reply, as: UTF8.self)
    let head = text.components(separatedBy: "\r\n\r\n").first ?? text
    let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
    return (status, head)
}

/// Like `rawExchange`, from a chosen loopback source address (127.0.0.x).
func rawExchangeFrom(_ source: String, port: Int, _ bytes: [UInt8], timeout: TimeInterval = 5) throws -> [UInt8] {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var local = sockaddr_in()
    local.sin_family = sa_family_t(AF_INET)
    inet_pton(AF_INET, source, &local.sin_addr)
    _ = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var remote = OpsSocket.loopback(port: port)
    let connected = withUnsafePointer(to: &remote) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw OpsError("connect from \(source) failed: errno \(errno)") }
    _ = OpsSocket.sendAll(fd, bytes)
    var out: [UInt8] = []
    let deadline = Date().addingTimeInterval(timeout)
    while deadline.timeIntervalSinceNow > 0 {
        guard let chunk = OpsSocket.receive(fd, timeout: deadline.timeIntervalSinceNow), !chunk.isEmpty else { break }
        out += chunk
        if let text = String(bytes: out, encoding: .utf8), text.contains("\r\n\r\n") { break }
    }
    return out
}
