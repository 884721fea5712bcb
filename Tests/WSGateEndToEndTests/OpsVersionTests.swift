import Foundation
import Testing

/// `wsgate --version` names wsgate's version and the OpenSSL and zlib it runs on.
struct OpsVersionTests {
    @Test func versionNamesTheGatewayOpenSSLAndZlib() throws {
        let result = try runProcess(try OpsGatewayProcess.requireBinary(), ["--version"], timeout: 10)
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("wsgate ") == true, "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("OpenSSL: OpenSSL 3.") }, "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("zlib: 1.") }, "\(result.stdout)")
    }
}
