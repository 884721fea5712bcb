import Foundation
import Testing

/// The demo page stays loadable by the browsers wsgate exists for: its scripts parse as
/// ECMAScript 3 (Safari 5, old WebKit TVs), checked with Debian's acorn (node-acorn).
@Suite(.timeLimit(.minutes(1)))
struct DemoPageTests {
    /// The inline scripts of a page.
    static func scripts(of html: String) -> [String] {
        var scripts: [String] = []
        var rest = Substring(html)
        while let open = rest.range(of: "<script"), let start = rest[open.upperBound...].range(of: ">"),
            let close = rest[start.upperBound...].range(of: "</script>")
        {
            scripts.append(String(rest[start.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return scripts
    }

    private func parse(_ source: String, ecmaVersion: Int) throws -> ProcessResult {
        let program = "const acorn = require('/usr/share/nodejs/acorn'); let src = ''; process.stdin.on('data', d => src += d);"
            + " process.stdin.on('end', () => { try { acorn.parse(src, { ecmaVersion: \(ecmaVersion) }); console.log('ok'); }"
            + " catch (e) { console.log('error: ' + e.message); process.exit(1); } });"
        return try runProcess("/usr/bin/node", ["-e", program], stdin: Data(source.utf8), timeout: 20)
    }

    @Test func theDemoPagesScriptsAreECMAScript3() throws {
        let html = try String(contentsOfFile: repositoryRoot + "/etc/www/index.html", encoding: .utf8)
        let scripts = Self.scripts(of: html)
        #expect(scripts.count == 1)
        for script in scripts {
            let result = try self.parse(script, ecmaVersion: 3)
            #expect(result.stdout.hasPrefix("ok"), "not ECMAScript 3: \(result.stdout) \(result.stderr)")
        }
    }

    @Test func theCheckRefusesWhatECMAScript3Lacks() throws {
        // The check itself: an arrow function and a trailing comma are not ES3.
        #expect(try self.parse("var f = (x) => x;", ecmaVersion: 3).stdout.hasPrefix("error"))
        #expect(try self.parse("var o = { a: 1, };", ecmaVersion: 3).stdout.hasPrefix("error"))
        #expect(try self.parse("var o = { a: 1 };", ecmaVersion: 3).stdout.hasPrefix("ok"))
    }
}
