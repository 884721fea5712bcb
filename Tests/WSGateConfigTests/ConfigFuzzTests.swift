import Foundation
import Testing

@testable import WSGateConfig

/// SplitMix64: a tiny deterministic generator, so that a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct ConfigFuzzTests {
    static let alphabet: [Character] = Array(" \t\n-:#'\"[]{},&*!|>?.%@`\\/~abcz019_é")

    static func mutate(_ base: [Character], _ random: inout SplitMix64) -> String {
        var text = base
        switch Int.random(in: 0..<5, using: &random) {
        case 0:
            text = Array(text.prefix(Int.random(in: 0...text.count, using: &random)))
        case 1:
            for _ in 0..<Int.random(in: 1...8, using: &random) where !text.isEmpty {
                text[Int.random(in: 0..<text.count, using: &random)] = Self.alphabet.randomElement(using: &random)!
            }
        case 2:
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                let index = Int.random(in: 0...text.count, using: &random)
                text.insert(Self.alphabet.randomElement(using: &random)!, at: index)
            }
        case 3:
            var lines = String(text).split(separator: "\n", omittingEmptySubsequences: false)
            for _ in 0..<Int.random(in: 1...4, using: &random) where lines.count > 1 {
                lines.swapAt(Int.random(in: 0..<lines.count, using: &random),
                             Int.random(in: 0..<lines.count, using: &random))
            }
            text = Array(lines.joined(separator: "\n"))
        default:
            text = (0..<Int.random(in: 0...200, using: &random)).map { _ in
                Self.alphabet.randomElement(using: &random)!
            }
        }
        return String(text)
    }

    @Test(.timeLimit(.minutes(1)))
    func fiveThousandMutatedConfigurationsNeverCrashOrHang() {
        var random = SplitMix64(state: 0x5EED_0F_C0FF)
        let base = Array(exampleConfiguration)
        var accepted = 0
        var refused = 0
        for _ in 0..<5000 {
            let text = Self.mutate(base, &random)
            do {
                _ = try parse(text)
                accepted += 1
            } catch {
                refused += 1
                // Every error names a real position.
                #expect(error.errors.allSatisfy { $0.location.line >= 1 && $0.location.column >= 1 })
                #expect(!error.errors.isEmpty)
            }
        }
        #expect(accepted + refused == 5000)
        #expect(refused > 0)
    }
}
