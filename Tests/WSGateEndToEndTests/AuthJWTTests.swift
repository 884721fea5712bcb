import Foundation
import Testing

/// `auth.jwt` on a real gateway, with tokens made by PyJWT: every token source, every refusal the
/// SPEC names, the attacks the issue lists, the `rooms` claim, named targets, and expiry during a
/// connection. The gateway keeps serving everyone else throughout.
@Suite(.serialized, .timeLimit(.minutes(2)))
final class AuthJWTTests {
    let fixture: AuthFixture
    let echo: OpsTCPServer
    let harness: GatewayHarness
    var port: Int { self.harness.port }

    init() throws {
        self.fixture = try AuthFixture()
        self.echo = try OpsTCPServer.echo()
        let targets = self.fixture.directory + "/targets.yaml"
        try "vm1: tcp://127.0.0.1:\(self.echo.port)\n".write(toFile: targets, atomically: true, encoding: .utf8)
        let secret = self.fixture.secretPath
        self.harness = try GatewayHarness(yaml: GatewayHarness.yaml(routes: """
              - path: /hs
                echo: true
                auth: { jwt: { algorithms: [HS256], key: \(secret), audience: wsgate, issuer: tests } }
              - path: /rs
                echo: true
                auth: { jwt: { algorithms: [RS256], key: \(self.fixture.rsaPublicPath) } }
              - path: /short
                echo: true
                auth: { jwt: { algorithms: [HS256], key: \(secret), leeway_s: 0 } }
              - path: /rooms/*
                room: "*"
                auth: { jwt: { algorithms: [HS256], key: \(secret) } }
              - path: /vnc
                targets: \(targets)
                auth: { jwt: { algorithms: [HS256], key: \(secret) } }
              - path: /tok
                targets: \(targets)
              - path: /cookie
                echo: true
                origins: [http://good.example]
                auth: { jwt: { algorithms: [HS256], key: \(secret) } }

            """, admin: true))
    }

    deinit {
        self.harness.stop()
        self.echo.stop()
    }

    private var good: String { "{'exp': now + 600, 'aud': 'wsgate', 'iss': 'tests'}" }

    @Test func noTokenIs401WithABareBearerChallenge() throws {
        let answer = try authExchange(port: self.port, path: "/hs")
        #expect(answer.status == 401)
        #expect(answer.head.contains("WWW-Authenticate: Bearer\r\n"), "\(answer.head)")
    }

    @Test func aValidTokenIsAdmittedFromTheHeaderTheQueryOrTheCookie() throws {
        let token = try self.fixture.token("HS256", claims: self.good)
        #expect(try authExchange(port: self.port, path: "/hs", headers: ["Authorization: Bearer \(token)"]).status == 101)
        #expect(try authExchange(port: self.port, path: "/hs?access_token=\(token)").status == 101)
        #expect(try authExchange(port: self.port, path: "/hs", headers: ["Cookie: theme=dark; wsgate_token=\(token)"]).status == 101)
        #expect(try authExchange(port: self.port, path: "/rs", headers: ["Authorization: Bearer \(try self.fixture.token("RS256", claims: "{'exp': now + 600}"))"]).status == 101)
    }

    @Test func theFirstSourcePresentIsJudged() throws {
        let good = try self.fixture.token("HS256", claims: self.good)
        let answer = try authExchange(port: self.port, path: "/hs", headers: ["Authorization: Bearer not.a.token", "Cookie: wsgate_token=\(good)"])
        #expect(answer.status == 401, "an invalid header token does not fall through to the cookie")
        #expect(answer.head.contains(#"WWW-Authenticate: Bearer error="invalid_token""#))
    }

    @Test(arguments: ["expired", "audience", "issuer", "none", "confusion", "truncated", "tampered", "tooLarge", "rsOnHMAC", "notBefore"])
    func attacksAndBadTokensAre401(_ kind: String) throws {
        var path = "/hs"
        var token: String
        switch kind {
        case "expired": token = try self.fixture.token("HS256", claims: "{'exp': now - 120, 'aud': 'wsgate', 'iss': 'tests'}")
        case "audience": token = try self.fixture.token("HS256", claims: "{'exp': now + 600, 'aud': 'other', 'iss': 'tests'}")
        case "issuer": token = try self.fixture.token("HS256", claims: "{'exp': now + 600, 'aud': 'wsgate', 'iss': 'evil'}")
        case "notBefore": token = try self.fixture.token("HS256", claims: "{'exp': now + 600, 'nbf': now + 300, 'aud': 'wsgate', 'iss': 'tests'}")
        case "none": token = try self.fixture.token("none", claims: self.good)
        case "confusion":  // HS256 signed with the RSA public key's PEM, sent to the RS256 route
            path = "/rs"
            token = try self.fixture.hmacSignedWithFile(self.fixture.rsaPublicPath, claims: "{'exp': now + 600}")
        case "rsOnHMAC": token = try self.fixture.token("RS256", claims: self.good)
        case "truncated": token = String(try self.fixture.token("HS256", claims: self.good).dropLast(5))
        case "tampered":
            let parts = try self.fixture.token("HS256", claims: self.good).split(separator: ".").map(String.init)
            let forged = Data("{\"exp\":9999999999,\"aud\":\"wsgate\",\"iss\":\"tests\",\"admin\":true}".utf8).base64EncodedString()
                .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            token = [parts[0], forged, parts[2]].joined(separator: ".")
        default: token = String(repeating: "A", count: 12_000) + "." + String(repeating: "B", count: 100) + ".C"  // 12 KB, within the head limit
        }
        let answer = try authExchange(port: self.port, path: path, headers: ["Authorization: Bearer \(token)"])
        #expect(answer.status == 401, "\(kind): \(answer.head)")
        #expect(answer.head.contains(#"error="invalid_token""#), "\(kind)")
    }

    @Test func a100KBTokenIsRefusedBeforeAnythingIsVerifiedAndOthersAreStillServed() throws {
        // It does not fit a request head at all (431); in the query, neither.
        let huge = String(repeating: "A", count: 100_000)
        #expect(try authExchange(port: self.port, path: "/hs", headers: ["Authorization: Bearer \(huge)"]).status == 431)
        #expect(try authExchange(port: self.port, path: "/hs?access_token=\(huge)").status == 431)
        #expect(try authExchange(port: self.port, path: "/hs", headers: ["Authorization: Bearer \(try self.fixture.token("HS256", claims: self.good))"]).status == 101)
    }

    @Test func theRoomsClaimLimitsWhichRoomsATokenMayJoin() throws {
        let token = try self.fixture.token("HS256", claims: "{'exp': now + 600, 'rooms': ['a']}")
        #expect(try authExchange(port: self.port, path: "/rooms/a", headers: ["Authorization: Bearer \(token)"]).status == 101)
        #expect(try authExchange(port: self.port, path: "/rooms/b", headers: ["Authorization: Bearer \(token)"]).status == 403)
    }

    @Test func aNamedTargetComesFromTheTokenOrTheTokenParameterNeverFromTheClient() throws {
        let vm1 = try self.fixture.token("HS256", claims: "{'exp': now + 600, 'target': 'vm1'}")
        let ws = try OpsWebSocket(port: self.port, path: "/vnc", headers: ["Authorization: Bearer \(vm1)"])
        ws.send(opcode: 0x2, Array("through vm1".utf8))
        #expect(ws.readFrame()?.payload == Array("through vm1".utf8), "bridged to the named target")
        let other = try self.fixture.token("HS256", claims: "{'exp': now + 600, 'target': 'vm9'}")
        #expect(try authExchange(port: self.port, path: "/vnc", headers: ["Authorization: Bearer \(other)"]).status == 403)
        #expect(try authExchange(port: self.port, path: "/vnc?token=vm1", headers: ["Authorization: Bearer \(other)"]).status == 403,
                "with auth, the claim names the target, not the query")
        #expect(try authExchange(port: self.port, path: "/tok?token=vm1").status == 101)
        #expect(try authExchange(port: self.port, path: "/tok?token=nope").status == 403)
        #expect(try authExchange(port: self.port, path: "/tok").status == 403)
    }

    @Test func aCrossSitePageWithAValidCookieIsRefused() throws {
        let token = try self.fixture.token("HS256", claims: "{'exp': now + 600}")
        #expect(try authExchange(port: self.port, path: "/cookie", headers: ["Origin: http://good.example", "Cookie: wsgate_token=\(token)"]).status == 101)
        #expect(try authExchange(port: self.port, path: "/cookie", headers: ["Origin: http://evil.example", "Cookie: wsgate_token=\(token)"]).status == 403,
                "cross-site WebSocket hijacking: the Origin check comes first")
    }

    @Test func aTokenThatExpiresDuringTheConnectionClosesItWith1008() throws {
        let token = try self.fixture.token("HS256", claims: "{'exp': now + 2}")
        let ws = try OpsWebSocket(port: self.port, path: "/short", headers: ["Authorization: Bearer \(token)"])
        ws.sendText("before")
        #expect(ws.readFrame()?.payload == Array("before".utf8))
        var close: OpsWebSocket.Frame?
        let deadline = Date().addingTimeInterval(6)
        while Date() < deadline, close == nil {
            if let frame = ws.readFrame(timeout: 0.5), frame.opcode == 0x8 { close = frame }
        }
        #expect(close?.closeCode == 1008)
        #expect(close.map { String(decoding: $0.payload.dropFirst(2), as: UTF8.self) } == "token expired")
    }

    @Test func refusalsAreCountedByReasonInMetrics() throws {
        _ = try authExchange(port: self.port, path: "/hs")
        _ = try authExchange(port: self.port, path: "/hs", headers: ["Authorization: Bearer x.y.z"])
        let metrics = try opsHTTPGet(port: try #require(self.harness.adminPort), path: "/metrics").body
        #expect(metrics.contains(#"wsgate_handshake_refusals_total{reason="no_token"}"#), "\(metrics)")
        #expect(metrics.contains(#"wsgate_handshake_refusals_total{reason="token_invalid"}"#))
    }
}
