import Foundation
import Testing
import WSGateConfig

@Suite struct ReadmeReferenceTests {
    @Test func readmeCarriesTheReferenceGeneratedFromTheKeyTable() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let readme = try String(contentsOf: url.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains(ConfigurationReference.referenceMarkdown()))
    }
}
