import Testing
@testable import WSGateTLS

@Suite struct TLSContextTests {
    @Test func validateAcceptsTheDevelopmentServerCertificate() {
        #expect(TLSContext.validate(certificatePath: TestCertificates.path("server.crt"),
                                    keyPath: TestCertificates.path("server.key")) == [])
    }

    @Test func validateReportsAKeyThatDoesNotMatchTheCertificate() {
        let problems = TLSContext.validate(certificatePath: TestCertificates.path("server.crt"),
                                           keyPath: TestCertificates.path("other.key"))
        #expect(problems.count == 1)
        #expect(problems.first?.contains("does not match") == true)
        #expect(problems.first?.contains("other.key") == true)
    }

    @Test func validateReportsAMissingFileWithItsPath() {
        let missing = TestCertificates.path("no-such.crt")
        let problems = TLSContext.validate(certificatePath: missing, keyPath: TestCertificates.path("server.key"))
        #expect(problems.count == 1)
        #expect(problems.first?.contains(missing) == true)
        #expect(problems.first?.contains("No such file") == true)
    }

    @Test func validateReportsAnExpiredCertificate() {
        let problems = TLSContext.validate(certificatePath: TestCertificates.path("expired.crt"),
                                           keyPath: TestCertificates.path("expired.key"))
        #expect(problems == ["certificate '\(TestCertificates.path("expired.crt"))' expired on Jan  1 00:00:00 2020 GMT"])
    }

    @Test func validateReportsAFileThatIsNotPEM() {
        let script = TestCertificates.path("README.md")
        let problems = TLSContext.validate(certificatePath: script, keyPath: script)
        #expect(problems.count == 2)
        #expect(problems.allSatisfy { $0.contains("holds no PEM") })
    }

    @Test func serverContextNamesAMissingCertificateFile() {
        let missing = TestCertificates.path("no-such.crt")
        #expect {
            try TLSContext(certificatePath: missing, keyPath: TestCertificates.path("server.key"))
        } throws: { error in
            guard case .certificateFile(let path, let reasons)? = error as? TLSError else { return false }
            return path == missing && !reasons.isEmpty
        }
    }

    @Test func serverContextRefusesAMismatchedKey() {
        #expect {
            try TLSContext(certificatePath: TestCertificates.path("server.crt"), keyPath: TestCertificates.path("other.key"))
        } throws: { error in
            guard case .keyMismatch(_, let keyPath, let reasons)? = error as? TLSError else { return false }
            return keyPath.hasSuffix("other.key") && reasons.contains { $0.contains("key values mismatch") }
        }
    }

    @Test func sniEntryWithAMissingKeyFailsTheWholeContext() {
        #expect(throws: TLSError.self) {
            try TLSContext(certificatePath: TestCertificates.path("server.crt"), keyPath: TestCertificates.path("server.key"),
                           sni: [.init(name: "other.test", certificatePath: TestCertificates.path("other.crt"),
                                       keyPath: TestCertificates.path("missing.key"))])
        }
    }

    @Test func clientContextNamesAMissingCAFile() {
        #expect {
            try TLSContext.client(trustedCAPath: "/nonexistent/ca.crt", verifyPeer: true, alpn: [])
        } throws: { error in
            guard case .trustStore(let path, let reasons)? = error as? TLSError else { return false }
            return path == "/nonexistent/ca.crt" && !reasons.isEmpty
        }
    }

    @Test func clientContextRefusesAnEmptyALPNName() {
        #expect(throws: TLSError.self) { try TLSContext.client(trustedCAPath: nil, verifyPeer: false, alpn: [""]) }
    }

    @Test func errorDescriptionsNameTheFileAndTheReason() {
        let error = TLSError.certificateFile(path: "certs/x.crt", reasons: ["error:1:PEM routines::no start line"])
        #expect(error.description == "TLS certificate 'certs/x.crt': error:1:PEM routines::no start line")
    }
}
