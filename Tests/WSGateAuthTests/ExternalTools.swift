import Foundation
import XCTest

/// Runs the independent JWT implementations the tests compare against: Debian's `python3-jwt`
/// (with `python3-cryptography`) and the `openssl` command line. Every run is bounded in time.
enum ExternalTools {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `executable` with `arguments` and `input` on standard input; its standard output, or
    /// a Failure (non-zero exit, or still running after `timeout` seconds: then it is killed).
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], input: Data = Data(), timeout: TimeInterval = 60) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = FileHandle(forWritingAtPath: "/dev/null")
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-auth-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = (try? FileHandle(forWritingTo: errorFile)) ?? stderr
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        // Read stdout concurrently (from before the input is written) so a large output cannot block the child.
        let output = OutputBox()
        let reader = Thread {
            output.set(stdout.fileHandleForReading.readDataToEndOfFile())
        }
        reader.start()
        stdin.fileHandleForWriting.write(input)
        try? stdin.fileHandleForWriting.close()
        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = done.wait(timeout: .now() + 5)
            throw Failure(description: "\(executable) \(arguments.first ?? "") did not finish within \(timeout) s")
        }
        let deadline = Date().addingTimeInterval(10)
        while !output.isSet, Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        guard process.terminationStatus == 0 else {
            let message = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
            throw Failure(description: "\(executable) exited \(process.terminationStatus): \(message.suffix(1500))")
        }
        return output.get()
    }

    /// Debian's python3 (the one `apt-get install python3-jwt` serves), not a user's pyenv shim.
    static var python: String {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
    }

    static var openssl: String {
        for path in ["/usr/bin/openssl", "/usr/local/bin/openssl"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        return "openssl"
    }

    final class OutputBox: @unchecked Sendable {
        private let lock = NSLock()
        private var data: Data?
        func set(_ value: Data) { lock.lock(); data = value; lock.unlock() }
        var isSet: Bool { lock.lock(); defer { lock.unlock() }; return data != nil }
        func get() -> Data { lock.lock(); defer { lock.unlock() }; return data ?? Data() }
    }
}

/// Keys made once per test run with `openssl genpkey`, in a temporary directory.
final class TestKeys: @unchecked Sendable {
    let directory: URL
    let rsaPrivate: URL, rsaPublic: URL
    let ecPrivate: URL, ecPublic: URL
    let edPrivate: URL, edPublic: URL
    let hmacSecretFile: URL
    /// 64 bytes, enough for HS512; written to `hmacSecretFile` with one trailing newline.
    let hmacSecret: [UInt8] = Array("wsgate-test-secret-0123456789abcdef-0123456789abcdef-0123456789ab".utf8)

    static let shared: Result<TestKeys, Error> = Result { try TestKeys() }

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-auth-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        rsaPrivate = directory.appendingPathComponent("rsa.pem")
        rsaPublic = directory.appendingPathComponent("rsa.pub.pem")
        ecPrivate = directory.appendingPathComponent("ec.pem")
        ecPublic = directory.appendingPathComponent("ec.pub.pem")
        edPrivate = directory.appendingPathComponent("ed.pem")
        edPublic = directory.appendingPathComponent("ed.pub.pem")
        hmacSecretFile = directory.appendingPathComponent("hmac.secret")
        let openssl = ExternalTools.openssl
        try ExternalTools.run(openssl, ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsaPrivate.path])
        try ExternalTools.run(openssl, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ecPrivate.path])
        try ExternalTools.run(openssl, ["genpkey", "-algorithm", "ED25519", "-out", edPrivate.path])
        for (privateKey, publicKey) in [(rsaPrivate, rsaPublic), (ecPrivate, ecPublic), (edPrivate, edPublic)] {
            try ExternalTools.run(openssl, ["pkey", "-in", privateKey.path, "-pubout", "-out", publicKey.path])
        }
        try Data(hmacSecret + [0x0A]).write(to: hmacSecretFile)
    }

    func bytes(_ url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }
}

/// Tokens signed by PyJWT (python3-jwt), an implementation independent of ours.
enum PyJWT {
    /// Signs each `(algorithm, claims JSON, extra header JSON)` with the matching key; one token per request.
    static func sign(_ requests: [(algorithm: String, claims: String, headers: String)], keys: TestKeys) throws -> [String] {
        let script = """
            import sys, json, jwt
            keys = {
                "HS": open(sys.argv[1], "rb").read()[:-1],
                "RS": open(sys.argv[2], "rb").read(),
                "PS": open(sys.argv[2], "rb").read(),
                "ES": open(sys.argv[3], "rb").read(),
                "Ed": open(sys.argv[4], "rb").read(),
            }
            for line in sys.stdin:
                request = json.loads(line)
                algorithm = request["alg"]
                token = jwt.encode(json.loads(request["claims"]), keys[algorithm[:2]], algorithm=algorithm,
                                   headers=json.loads(request["headers"]))
                print(token if isinstance(token, str) else token.decode())
            """
        var input = ""
        for request in requests {
            let object: [String: String] = ["alg": request.algorithm, "claims": request.claims, "headers": request.headers]
            let line = try JSONSerialization.data(withJSONObject: object)
            input += String(decoding: line, as: UTF8.self) + "\n"
        }
        let output = try ExternalTools.run(
            ExternalTools.python,
            ["-c", script, keys.hmacSecretFile.path, keys.rsaPrivate.path, keys.ecPrivate.path, keys.edPrivate.path],
            input: Data(input.utf8)
        )
        let tokens = String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
        guard tokens.count == requests.count else {
            throw ExternalTools.Failure(description: "python3-jwt printed \(tokens.count) tokens for \(requests.count) requests")
        }
        return tokens
    }
}
