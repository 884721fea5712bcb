import Foundation
import WSGateAuth
import XCTest

final class JWTVerifierTests: XCTestCase {
    // RFC 7515 Appendix A.1 (the same token is RFC 7519 §3.1's example JWT).
    static let rfcKey = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
    static let rfcToken =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    static let rfcExp: Double = 1_300_819_380

    private func rfcVerifier(now: Double, algorithms: [JWTAlgorithm] = [.hs256], leeway: Double = 30) throws -> JWTVerifier {
        let key = try JWTKey(hmacSecret: XCTUnwrap(Base64URL.decode(Self.rfcKey)))
        return try JWTVerifier(algorithms: algorithms, key: key, leeway: leeway, clock: { now })
    }

    private func keys() throws -> TestKeys { try TestKeys.shared.get() }

    private func assertRefused(
        _ verifier: JWTVerifier, _ token: String, _ expected: JWTError, file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            let claims = try verifier.verify(token: token)
            XCTFail("accepted, claims \(claims.raw), expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
            XCTAssertFalse(error.reason.contains(token), file: file, line: line)
            if let signature = token.split(separator: ".").last, signature.count > 8 {
                XCTAssertFalse(error.reason.contains(signature), file: file, line: line)
            }
        }
    }

    /// A token with our own header and claims, unsigned or signed with an HMAC secret by OpenSSL's CLI.
    private func handMade(header: String, claims: String, hmacSecret: [UInt8]? = nil, algorithm: String = "sha256") throws -> String {
        let input = Self.b64url(Data(header.utf8)) + "." + Self.b64url(Data(claims.utf8))
        guard let hmacSecret else { return input + "." }
        let hexKey = hmacSecret.map { String(format: "%02x", $0) }.joined()
        let mac = try ExternalTools.run(
            ExternalTools.openssl, ["dgst", "-\(algorithm)", "-mac", "HMAC", "-macopt", "hexkey:\(hexKey)", "-binary"],
            input: Data(input.utf8))
        return input + "." + Self.b64url(mac)
    }

    /// Foundation's base64, made url-safe and unpadded: independent of `Base64URL`.
    static func b64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static let now: Double = 1_800_000_000
    private var now: Double { Self.now }
    private var validClaims: String { #"{"sub":"alice","exp":1800000600,"iat":1800000000,"target":"vm1","rooms":["a","b"]}"# }

    // MARK: RFC examples

    func testRFC7515AppendixA1VerifiesBeforeItsExpiry() throws {
        let claims = try rfcVerifier(now: Self.rfcExp - 100).verify(token: Self.rfcToken)
        XCTAssertEqual(claims.exp, Self.rfcExp)
        XCTAssertEqual(claims.iss, "joe")
        XCTAssertEqual(claims["http://example.com/is_root"], .bool(true))
        XCTAssertEqual(claims.header["typ"], .string("JWT"))
    }

    func testRFC7515AppendixA1IsExpiredAfterExpPlusLeeway() throws {
        // Inside the leeway it still passes; past it, expired.
        XCTAssertNoThrow(try rfcVerifier(now: Self.rfcExp + 29).verify(token: Self.rfcToken))
        assertRefused(try rfcVerifier(now: Self.rfcExp + 30), Self.rfcToken, .expired)
        assertRefused(try rfcVerifier(now: Self.rfcExp + 1, leeway: 0), Self.rfcToken, .expired)
        assertRefused(try rfcVerifier(now: 2_000_000_000), Self.rfcToken, .expired)
    }

    func testRFC7519Section3Point1ExampleClaims() throws {
        let claims = try rfcVerifier(now: Self.rfcExp - 1, leeway: 0).verify(token: Self.rfcToken)
        XCTAssertEqual(claims.raw.count, 3)
        XCTAssertEqual(claims["exp"], .integer(1_300_819_380))
        XCTAssertNil(claims.aud)
        XCTAssertNil(claims.target)
        XCTAssertNil(claims.rooms)
        XCTAssertTrue(claims.allowsRoom("anything"))  // no rooms claim: no limit
    }

    func testRFC7519Section6Point1UnsecuredJWTIsRefused() throws {
        let unsecured = "eyJhbGciOiJub25lIn0"
            + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
        assertRefused(try rfcVerifier(now: Self.rfcExp - 100), unsecured, .algorithmNotAllowed("none"))
    }

    // MARK: every algorithm, signed by independent implementations

    func testEveryAlgorithmSignedByPyJWTVerifies() throws {
        let keys = try keys()
        let algorithms: [(JWTAlgorithm, JWTKey)] = [
            (.hs256, try JWTKey(file: keys.hmacSecretFile.path)), (.hs384, try JWTKey(file: keys.hmacSecretFile.path)),
            (.hs512, try JWTKey(file: keys.hmacSecretFile.path)), (.rs256, try JWTKey(file: keys.rsaPublic.path)),
            (.es256, try JWTKey(file: keys.ecPublic.path)), (.edDSA, try JWTKey(file: keys.edPublic.path)),
        ]
        let tokens = try PyJWT.sign(algorithms.map { ($0.0.rawValue, validClaims, #"{"kid":"k1"}"#) }, keys: keys)
        for ((algorithm, key), token) in zip(algorithms, tokens) {
            let verifier = try JWTVerifier(algorithms: [algorithm], key: key, clock: { JWTVerifierTests.now })
            let claims = try verifier.verify(token: token)
            XCTAssertEqual(claims.sub, "alice", "\(algorithm)")
            XCTAssertEqual(claims.target, "vm1", "\(algorithm)")
            XCTAssertEqual(claims.rooms, ["a", "b"], "\(algorithm)")
            XCTAssertTrue(claims.allowsRoom("b"))
            XCTAssertFalse(claims.allowsRoom("c"))
            XCTAssertEqual(claims.iat, 1_800_000_000, "\(algorithm)")
            XCTAssertEqual(verifier.deadline(for: claims), 1_800_000_630, "\(algorithm)")
            XCTAssertFalse(verifier.isExpired(claims, now: 1_800_000_629))
            XCTAssertTrue(verifier.isExpired(claims, now: 1_800_000_630))
            // Tampering with the payload or signature fails for every algorithm.
            let parts = token.split(separator: ".").map(String.init)
            let otherPayload = Self.b64url(Data(#"{"sub":"mallory","exp":1800000600}"#.utf8))
            assertRefused(verifier, parts[0] + "." + otherPayload + "." + parts[2], .invalidSignature)
            assertRefused(verifier, parts[0] + "." + parts[1] + "." + Self.flipFirstCharacter(parts[2]), .invalidSignature)
            assertRefused(verifier, parts[0] + "." + parts[1] + "." + Self.truncated(parts[2], byBytes: 1), .invalidSignature)
            assertRefused(verifier, parts[0] + "." + parts[1] + "." + Self.truncated(parts[2], byBytes: 16), .invalidSignature)
        }
    }

    func testTokensSignedWithTheOpenSSLCommandLineVerify() throws {
        let keys = try keys()
        let header = { (alg: String) in Self.b64url(Data(#"{"alg":"\#(alg)","typ":"JWT"}"#.utf8)) }
        let payload = Self.b64url(Data(validClaims.utf8))
        let openssl = ExternalTools.openssl
        let directory = keys.directory

        // HS256 with `openssl dgst -mac HMAC`, the secret read from the file (newline stripped).
        let hs = try handMade(header: #"{"alg":"HS256"}"#, claims: validClaims, hmacSecret: keys.hmacSecret)
        XCTAssertNoThrow(try JWTVerifier(algorithms: [.hs256], key: JWTKey(file: keys.hmacSecretFile.path), clock: { JWTVerifierTests.now }).verify(token: hs))
        let hs512 = try handMade(header: #"{"alg":"HS512"}"#, claims: validClaims, hmacSecret: keys.hmacSecret, algorithm: "sha512")
        XCTAssertNoThrow(try JWTVerifier(algorithms: [.hs512], key: JWTKey(file: keys.hmacSecretFile.path), clock: { JWTVerifierTests.now }).verify(token: hs512))

        // RS256: PKCS#1 v1.5 over SHA-256.
        let rsInput = header("RS256") + "." + payload
        let rsSignature = try ExternalTools.run(openssl, ["dgst", "-sha256", "-sign", keys.rsaPrivate.path], input: Data(rsInput.utf8))
        XCTAssertEqual(rsSignature.count, 256)
        let rsVerifier = try JWTVerifier(algorithms: [.rs256], key: JWTKey(file: keys.rsaPublic.path), clock: { JWTVerifierTests.now })
        XCTAssertEqual(try rsVerifier.verify(token: rsInput + "." + Self.b64url(rsSignature)).sub, "alice")

        // ES256: OpenSSL writes DER; JOSE wants r || s, 32 bytes each.
        let esInput = header("ES256") + "." + payload
        let der = try ExternalTools.run(openssl, ["dgst", "-sha256", "-sign", keys.ecPrivate.path], input: Data(esInput.utf8))
        let raw = try XCTUnwrap(Self.rawECDSA(fromDER: Array(der)))
        let esVerifier = try JWTVerifier(algorithms: [.es256], key: JWTKey(file: keys.ecPublic.path), clock: { JWTVerifierTests.now })
        XCTAssertEqual(try esVerifier.verify(token: esInput + "." + Self.b64url(Data(raw))).sub, "alice")
        // The DER form itself is not a JOSE signature.
        assertRefused(esVerifier, esInput + "." + Self.b64url(der), .invalidSignature)

        // EdDSA: Ed25519 over the raw input (`pkeyutl -rawin`).
        let edInput = header("EdDSA") + "." + payload
        let inputFile = directory.appendingPathComponent("ed-input-\(UUID().uuidString)")
        try Data(edInput.utf8).write(to: inputFile)
        defer { try? FileManager.default.removeItem(at: inputFile) }
        let edSignature = try ExternalTools.run(openssl, ["pkeyutl", "-sign", "-inkey", keys.edPrivate.path, "-rawin", "-in", inputFile.path])
        XCTAssertEqual(edSignature.count, 64)
        let edVerifier = try JWTVerifier(algorithms: [.edDSA], key: JWTKey(file: keys.edPublic.path), clock: { JWTVerifierTests.now })
        XCTAssertEqual(try edVerifier.verify(token: edInput + "." + Self.b64url(edSignature)).sub, "alice")
    }

    // MARK: attacks

    func testAlgNoneIsRefusedWithAndWithoutASignature() throws {
        let keys = try keys()
        let verifier = try JWTVerifier(algorithms: [.hs256], key: JWTKey(hmacSecret: keys.hmacSecret), clock: { JWTVerifierTests.now })
        let unsigned = try handMade(header: #"{"alg":"none"}"#, claims: validClaims)
        assertRefused(verifier, unsigned, .algorithmNotAllowed("none"))
        let signed = try handMade(header: #"{"alg":"none"}"#, claims: validClaims, hmacSecret: keys.hmacSecret)
        assertRefused(verifier, signed, .algorithmNotAllowed("none"))
        for variant in ["None", "NONE", "nOnE"] {
            assertRefused(verifier, try handMade(header: #"{"alg":"\#(variant)"}"#, claims: validClaims), .algorithmNotAllowed(variant))
        }
        // A pinned alg with an empty signature (the `none` shape) is refused too.
        assertRefused(verifier, try handMade(header: #"{"alg":"HS256"}"#, claims: validClaims), .invalidSignature)
    }

    func testHS256SignedWithTheRSAPublicKeyPEMIsRefused() throws {
        // The algorithm-confusion attack: the public key's PEM bytes used as an HMAC secret.
        let keys = try keys()
        let pem = try keys.bytes(keys.rsaPublic)
        let forged = try handMade(header: #"{"alg":"HS256","typ":"JWT"}"#, claims: validClaims, hmacSecret: pem)
        let verifier = try JWTVerifier(algorithms: [.rs256], key: JWTKey(file: keys.rsaPublic.path), clock: { JWTVerifierTests.now })
        assertRefused(verifier, forged, .algorithmNotAllowed("HS256"))
        // Even a careless list that pins HS256 beside RS256 cannot be built with a public key...
        XCTAssertThrowsError(try JWTVerifier(algorithms: [.rs256, .hs256], key: JWTKey(file: keys.rsaPublic.path))) {
            XCTAssertEqual($0 as? JWTKeyError, .algorithmDoesNotMatchKey(.hs256))
        }
        // ...and the same forged token fails against the EC and Ed25519 keys too.
        for file in [keys.ecPublic, keys.edPublic] {
            let pemSecret = try keys.bytes(file)
            let forgedToo = try handMade(header: #"{"alg":"HS256"}"#, claims: validClaims, hmacSecret: pemSecret)
            let algorithm: JWTAlgorithm = file == keys.ecPublic ? .es256 : .edDSA
            let other = try JWTVerifier(algorithms: [algorithm], key: JWTKey(file: file.path), clock: { JWTVerifierTests.now })
            assertRefused(other, forgedToo, .algorithmNotAllowed("HS256"))
        }
    }

    func testRS256TokenAgainstAnHMACKeyIsRefused() throws {
        let keys = try keys()
        let token = try PyJWT.sign([("RS256", validClaims, "{}")], keys: keys)[0]
        let verifier = try JWTVerifier(algorithms: [.hs256], key: JWTKey(hmacSecret: keys.hmacSecret), clock: { JWTVerifierTests.now })
        assertRefused(verifier, token, .algorithmNotAllowed("RS256"))
        XCTAssertThrowsError(try JWTVerifier(algorithms: [.rs256], key: JWTKey(hmacSecret: keys.hmacSecret))) {
            XCTAssertEqual($0 as? JWTKeyError, .algorithmDoesNotMatchKey(.rs256))
        }
    }

    func testAnAlgorithmOutsideThePinnedListIsRefused() throws {
        let keys = try keys()
        let tokens = try PyJWT.sign([("HS384", validClaims, "{}"), ("PS256", validClaims, "{}"), ("RS512", validClaims, "{}")], keys: keys)
        let hmac = try JWTVerifier(algorithms: [.hs256], key: JWTKey(hmacSecret: keys.hmacSecret), clock: { JWTVerifierTests.now })
        assertRefused(hmac, tokens[0], .algorithmNotAllowed("HS384"))
        let rsa = try JWTVerifier(algorithms: [.rs256], key: JWTKey(file: keys.rsaPublic.path), clock: { JWTVerifierTests.now })
        assertRefused(rsa, tokens[1], .algorithmNotAllowed("PS256"))
        assertRefused(rsa, tokens[2], .algorithmNotAllowed("RS512"))
        // An alg that is not a string, or none at all.
        assertRefused(hmac, try handMade(header: #"{"alg":256}"#, claims: validClaims), .missingAlgorithm)
        assertRefused(hmac, try handMade(header: #"{"typ":"JWT"}"#, claims: validClaims), .missingAlgorithm)
    }

    func testTimeClaims() throws {
        let keys = try keys()
        let verifier = { (now: Double) in
            try JWTVerifier(algorithms: [.hs256], key: JWTKey(hmacSecret: keys.hmacSecret), leeway: 30, clock: { now })
        }
        let sign = { (claims: String) in try self.handMade(header: #"{"alg":"HS256"}"#, claims: claims, hmacSecret: keys.hmacSecret) }
        // exp required and numeric; fractional NumericDate allowed.
        assertRefused(try verifier(now), try sign(#"{"sub":"a"}"#), .missingClaim("exp"))
        assertRefused(try verifier(now), try sign(#"{"exp":"1800000600"}"#), .invalidClaim("exp"))
        assertRefused(try verifier(now), try sign(#"{"exp":true}"#), .invalidClaim("exp"))
        XCTAssertEqual(try verifier(now).verify(token: try sign(#"{"exp":1800000000.5}"#)).exp, 1_800_000_000.5)
        assertRefused(try verifier(now), try sign(#"{"exp":1799999970}"#), .expired)
        // nbf in the future (past the leeway) refused; within the leeway admitted.
        assertRefused(try verifier(now), try sign(#"{"exp":1800000600,"nbf":1800000031}"#), .notYetValid)
        XCTAssertNoThrow(try verifier(now).verify(token: try sign(#"{"exp":1800000600,"nbf":1800000030}"#)))
        assertRefused(try verifier(now), try sign(#"{"exp":1800000600,"nbf":"soon"}"#), .invalidClaim("nbf"))
        // iat in the future refused the same way.
        assertRefused(try verifier(now), try sign(#"{"exp":1800000600,"iat":1800000100}"#), .issuedInFuture)
        XCTAssertNoThrow(try verifier(now).verify(token: try sign(#"{"exp":1800000600,"iat":1800000020}"#)))
    }

    func testIssuerAndAudience() throws {
        let keys = try keys()
        let key = try JWTKey(hmacSecret: keys.hmacSecret)
        let sign = { (claims: String) in try PyJWT.sign([("HS256", claims, "{}")], keys: keys)[0] }
        let verifier = try JWTVerifier(algorithms: [.hs256], key: key, issuer: "https://idp", audience: "wsgate", clock: { JWTVerifierTests.now })
        XCTAssertEqual(try verifier.verify(token: sign(#"{"exp":1800000600,"iss":"https://idp","aud":"wsgate"}"#)).aud, ["wsgate"])
        XCTAssertEqual(
            try verifier.verify(token: sign(#"{"exp":1800000600,"iss":"https://idp","aud":["other","wsgate"]}"#)).aud, ["other", "wsgate"])
        assertRefused(verifier, try sign(#"{"exp":1800000600,"iss":"https://evil","aud":"wsgate"}"#), .issuerMismatch)
        assertRefused(verifier, try sign(#"{"exp":1800000600,"aud":"wsgate"}"#), .missingClaim("iss"))
        assertRefused(verifier, try sign(#"{"exp":1800000600,"iss":"https://idp","aud":"other"}"#), .audienceMismatch)
        assertRefused(verifier, try sign(#"{"exp":1800000600,"iss":"https://idp","aud":["a","b"]}"#), .audienceMismatch)
        assertRefused(verifier, try sign(#"{"exp":1800000600,"iss":"https://idp"}"#), .missingClaim("aud"))
        assertRefused(verifier, try sign(#"{"exp":1800000600,"iss":"https://idp","aud":["wsgate",1]}"#), .invalidClaim("aud"))
        // Without issuer/audience configured, neither is checked.
        let open = try JWTVerifier(algorithms: [.hs256], key: key, clock: { JWTVerifierTests.now })
        XCTAssertNoThrow(try open.verify(token: sign(#"{"exp":1800000600,"iss":"anyone","aud":"anything"}"#)))
    }

    func testCustomClaimTypesAreChecked() throws {
        let keys = try keys()
        let verifier = try JWTVerifier(algorithms: [.hs256], key: JWTKey(hmacSecret: keys.hmacSecret), clock: { JWTVerifierTests.now })
        let sign = { (claims: String) in try self.handMade(header: #"{"alg":"HS256"}"#, claims: claims, hmacSecret: keys.hmacSecret) }
        assertRefused(verifier, try sign(#"{"exp":1800000600,"rooms":"lobby"}"#), .invalidClaim("rooms"))
        assertRefused(verifier, try sign(#"{"exp":1800000600,"rooms":["a",2]}"#), .invalidClaim("rooms"))
        assertRefused(verifier, try sign(#"{"exp":1800000600,"target":5}"#), .invalidClaim("target"))
        assertRefused(verifier, try sign(#"{"exp":1800000600,"sub":null}"#), .invalidClaim("sub"))
        let claims = try verifier.verify(token: try sign(#"{"exp":1800000600,"rooms":[],"n":1.5,"big":12345678901234,"o":{"k":[null]}}"#))
        XCTAssertEqual(claims.rooms, [])
        XCTAssertEqual(claims["n"], .double(1.5))
        XCTAssertEqual(claims["big"], .integer(12_345_678_901_234))
        XCTAssertEqual(claims["o"], .object(["k": .array([.null])]))
        // Duplicate claim names, trailing garbage and non-objects are refused.
        assertRefused(verifier, try sign(#"{"exp":1800000600,"exp":1900000000}"#), .invalidJSON(part: "payload"))
        assertRefused(verifier, try sign(#"{"exp":1800000600} x"#), .invalidJSON(part: "payload"))
        assertRefused(verifier, try sign(#"[1800000600]"#), .invalidJSON(part: "payload"))
        assertRefused(verifier, try handMade(header: #"{"alg":"HS256","crit":["b64"],"b64":false}"#, claims: validClaims, hmacSecret: keys.hmacSecret), .unsupportedCriticalHeader)
    }

    func testStructureAndBase64URL() throws {
        let keys = try keys()
        let verifier = try JWTVerifier(algorithms: [.hs256], key: JWTKey(hmacSecret: keys.hmacSecret), clock: { JWTVerifierTests.now })
        let good = try PyJWT.sign([("HS256", validClaims, "{}")], keys: keys)[0]
        XCTAssertNoThrow(try verifier.verify(token: good))
        let parts = good.split(separator: ".").map(String.init)
        assertRefused(verifier, "", .malformed)
        assertRefused(verifier, "abc", .malformed)
        assertRefused(verifier, parts[0] + "." + parts[1], .malformed)
        assertRefused(verifier, good + ".x.y", .malformed)
        assertRefused(verifier, "." + parts[1] + "." + parts[2], .malformed)
        // Padding, standard-alphabet characters, spaces and impossible lengths are not base64url.
        assertRefused(verifier, parts[0] + "=." + parts[1] + "." + parts[2], .invalidBase64URL(part: "header"))
        assertRefused(verifier, parts[0] + "." + parts[1] + "." + parts[2] + "=", .invalidBase64URL(part: "signature"))
        assertRefused(verifier, parts[0] + "." + parts[1] + "." + parts[2].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "+", .invalidBase64URL(part: "signature"))
        assertRefused(verifier, parts[0] + "." + parts[1] + "." + parts[2] + "AA", .invalidBase64URL(part: "signature"))
        assertRefused(verifier, " " + good, .invalidBase64URL(part: "header"))
        assertRefused(verifier, parts[0] + "." + parts[1] + "==." + parts[2], .invalidSignature)  // the payload is signed as written
        XCTAssertNil(Base64URL.decode("QQ=="))
        XCTAssertNil(Base64URL.decode("QR"))  // non-zero unused bits: not canonical
        XCTAssertEqual(Base64URL.decode("QQ"), [0x41])
        XCTAssertEqual(Base64URL.encode([0xFB, 0xFF]), "-_8")
        XCTAssertEqual(Base64URL.decode("-_8"), [0xFB, 0xFF])
    }

    func testA100KilobyteTokenIsRefusedCheaply() throws {
        let keys = try keys()
        let verifier = try JWTVerifier(algorithms: [.hs256], key: JWTKey(hmacSecret: keys.hmacSecret), clock: { JWTVerifierTests.now })
        let huge = try handMade(header: #"{"alg":"HS256"}"#, claims: #"{"exp":1800000600,"pad":"\#(String(repeating: "x", count: 100_000))"}"#, hmacSecret: keys.hmacSecret)
        XCTAssertGreaterThan(huge.utf8.count, 100_000)
        let start = ContinuousClock.now
        assertRefused(verifier, huge, .tooLarge)
        for _ in 0..<1000 {
            do {
                _ = try verifier.verify(token: huge)
                XCTFail("accepted")
            } catch {
                XCTAssertEqual(error, .tooLarge)
            }
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2), "1000 refusals of a 100 KB token")
        // The cap is configurable; a token right at it is parsed.
        let small = try JWTVerifier(algorithms: [.hs256], key: JWTKey(hmacSecret: keys.hmacSecret), maximumTokenBytes: 64, clock: { JWTVerifierTests.now })
        assertRefused(small, try PyJWT.sign([("HS256", validClaims, "{}")], keys: keys)[0], .tooLarge)
    }

    func testErrorReasonsNeverHoldTheToken() throws {
        let keys = try keys()
        let verifier = try JWTVerifier(algorithms: [.hs256], key: JWTKey(hmacSecret: keys.hmacSecret), clock: { JWTVerifierTests.now })
        let longAlg = #"\u0001\n"# + String(repeating: "A", count: 200)
        let token = try handMade(header: #"{"alg":"\#(longAlg)"}"#, claims: validClaims)
        do {
            _ = try verifier.verify(token: token)
            XCTFail("accepted")
        } catch {
            guard case .algorithmNotAllowed(let shown) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(shown, "??" + String(repeating: "A", count: 14) + "...")
            XCTAssertFalse(error.reason.contains("\n"))
        }
    }

    // MARK: keys

    func testKeyFiles() throws {
        let keys = try keys()
        // One trailing newline is not part of the secret; a second one is.
        let fromFile = try JWTKey(fileContents: keys.hmacSecret + [0x0A])
        XCTAssertEqual(fromFile.kind, .hmac)
        let rs = try PyJWT.sign([("HS256", validClaims, "{}")], keys: keys)[0]
        XCTAssertNoThrow(try JWTVerifier(algorithms: [.hs256], key: fromFile, clock: { JWTVerifierTests.now }).verify(token: rs))
        let twoNewlines = try JWTKey(fileContents: keys.hmacSecret + [0x0A, 0x0A])
        assertRefused(try JWTVerifier(algorithms: [.hs256], key: twoNewlines, clock: { JWTVerifierTests.now }), rs, .invalidSignature)
        XCTAssertNoThrow(try JWTVerifier(algorithms: [.hs256], key: JWTKey(fileContents: keys.hmacSecret + [0x0D, 0x0A]), clock: { JWTVerifierTests.now }).verify(token: rs))

        XCTAssertEqual(try JWTKey(file: keys.rsaPublic.path).kind, .rsa)
        XCTAssertEqual(try JWTKey(file: keys.ecPublic.path).kind, .ecP256)
        XCTAssertEqual(try JWTKey(file: keys.edPublic.path).kind, .ed25519)
        XCTAssertThrowsError(try JWTKey(file: "/nonexistent/key.pem")) { XCTAssertEqual($0 as? JWTKeyError, .unreadableFile("/nonexistent/key.pem")) }
        XCTAssertThrowsError(try JWTKey(fileContents: [0x0A])) { XCTAssertEqual($0 as? JWTKeyError, .emptySecret) }
        XCTAssertThrowsError(try JWTKey(hmacSecret: [UInt8](repeating: 1, count: (1 << 20) + 1))) { XCTAssertEqual($0 as? JWTKeyError, .keyTooLarge) }
        // A private key is not a public key.
        XCTAssertThrowsError(try JWTKey(file: keys.rsaPrivate.path)) {
            guard case .invalidPEM? = $0 as? JWTKeyError else { return XCTFail("\($0)") }
        }
        // A short HMAC secret for HS256 is a configuration error (RFC 7518 §3.2).
        XCTAssertThrowsError(try JWTVerifier(algorithms: [.hs256], key: JWTKey(hmacSecret: Array("short".utf8)))) {
            XCTAssertEqual($0 as? JWTKeyError, .secretTooShort(.hs256, minimum: 32))
        }
        XCTAssertThrowsError(try JWTVerifier(algorithms: [], key: fromFile)) { XCTAssertEqual($0 as? JWTKeyError, .noAlgorithms) }
        // RSA under 2048 bits and curves other than P-256 are refused.
        let weak = keys.directory.appendingPathComponent("rsa1024.pem"), weakPublic = keys.directory.appendingPathComponent("rsa1024.pub.pem")
        try ExternalTools.run(ExternalTools.openssl, ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", weak.path])
        try ExternalTools.run(ExternalTools.openssl, ["pkey", "-in", weak.path, "-pubout", "-out", weakPublic.path])
        XCTAssertThrowsError(try JWTKey(file: weakPublic.path)) { XCTAssertEqual($0 as? JWTKeyError, .rsaKeyTooSmall(bits: 1024)) }
        let p384 = keys.directory.appendingPathComponent("p384.pem"), p384Public = keys.directory.appendingPathComponent("p384.pub.pem")
        try ExternalTools.run(ExternalTools.openssl, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", p384.path])
        try ExternalTools.run(ExternalTools.openssl, ["pkey", "-in", p384.path, "-pubout", "-out", p384Public.path])
        XCTAssertThrowsError(try JWTKey(file: p384Public.path)) {
            guard case .unsupportedKeyType? = $0 as? JWTKeyError else { return XCTFail("\($0)") }
        }
    }

    func testAVerifierIsUsableFromManyThreads() throws {
        let keys = try keys()
        let verifier = try JWTVerifier(algorithms: [.es256], key: JWTKey(file: keys.ecPublic.path), clock: { JWTVerifierTests.now })
        let token = try PyJWT.sign([("ES256", validClaims, "{}")], keys: keys)[0]
        let failures = ExternalTools.OutputBox()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<50 where (try? verifier.verify(token: token)) == nil { failures.set(Data([1])) }
        }
        XCTAssertFalse(failures.isSet)
    }

    // MARK: helpers

    /// The signature with its last `byBytes` bytes dropped, re-encoded canonically.
    static func truncated(_ signature: String, byBytes count: Int) -> String {
        var standard = signature.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        let bytes = Data(base64Encoded: standard)!
        return b64url(bytes.dropLast(count))
    }

    static func flipFirstCharacter(_ text: String) -> String {
        let first = text.first!
        return String(first == "A" ? "B" : "A") + text.dropFirst()
    }

    /// DER `SEQUENCE { INTEGER r, INTEGER s }` to JOSE's 64-byte r || s (test side, independent of the verifier).
    static func rawECDSA(fromDER der: [UInt8]) -> [UInt8]? {
        guard der.count > 8, der[0] == 0x30 else { return nil }
        var index = 2
        var out: [UInt8] = []
        for _ in 0..<2 {
            guard der[index] == 0x02 else { return nil }
            let length = Int(der[index + 1])
            var value = Array(der[(index + 2)..<(index + 2 + length)])
            while value.count > 32, value.first == 0 { value.removeFirst() }
            out += [UInt8](repeating: 0, count: 32 - value.count) + value
            index += 2 + length
        }
        return out
    }
}
