import Testing
import WSGateWire

/// A reference wrapper, so that `#expect` can call the mutating `feed` on it.
private final class ValidatorBox {
    var validator = UTF8Validator()
    func feed(_ bytes: some Sequence<UInt8>) -> Bool { self.validator.feed(bytes) }
    var isComplete: Bool { self.validator.isComplete }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct UTF8ValidatorTests {
    static func valid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { UTF8Validator.isValid($0) } }

    @Test func asciiAndMultiByteTextIsValid() {
        #expect(Self.valid([]))
        #expect(Self.valid(Array("Hello, world! 0123456789 long enough for the fast path".utf8)))
        #expect(Self.valid(Array("héllo €uro 𝄞 κόσμε 日本語".utf8)))
        #expect(Self.valid([0xC2, 0x80]))  // U+0080
        #expect(Self.valid([0xDF, 0xBF]))  // U+07FF
        #expect(Self.valid([0xE0, 0xA0, 0x80]))  // U+0800
        #expect(Self.valid([0xED, 0x9F, 0xBF]))  // U+D7FF
        #expect(Self.valid([0xEE, 0x80, 0x80]))  // U+E000
        #expect(Self.valid([0xEF, 0xBF, 0xBF]))  // U+FFFF
        #expect(Self.valid([0xF0, 0x90, 0x80, 0x80]))  // U+10000
        #expect(Self.valid([0xF4, 0x8F, 0xBF, 0xBF]))  // U+10FFFF
    }

    @Test(arguments: [
        [0xC0, 0x80] as [UInt8], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xF0, 0x80, 0x80, 0x80],
        [0xF0, 0x8F, 0xBF, 0xBF], [0xC0, 0xAF], [0xE0, 0x80, 0xAF],
    ])
    func overlongEncodingsAreInvalid(_ bytes: [UInt8]) {
        #expect(!Self.valid(bytes))
    }

    @Test(arguments: [[0xED, 0xA0, 0x80] as [UInt8], [0xED, 0xBF, 0xBF], [0xED, 0xAD, 0xBF, 0xED, 0xB0, 0x80]])
    func utf16SurrogatesAreInvalid(_ bytes: [UInt8]) {
        #expect(!Self.valid(bytes))
    }

    @Test(arguments: [[0xF4, 0x90, 0x80, 0x80] as [UInt8], [0xF5, 0x80, 0x80, 0x80], [0xF7, 0xBF, 0xBF, 0xBF], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFF], [0xFE]])
    func codePointsAboveU10FFFFAndInvalidLeadBytesAreInvalid(_ bytes: [UInt8]) {
        #expect(!Self.valid(bytes))
    }

    @Test func strayContinuationBytesAndTruncatedSequencesAreInvalid() {
        #expect(!Self.valid([0x80]))
        #expect(!Self.valid(Array("abcdefgh".utf8) + [0xBF]))
        #expect(!Self.valid([0xC3]))  // truncated at the end: not complete
        #expect(!Self.valid([0xE2, 0x82]))
        #expect(!Self.valid([0xC3, 0x41]))  // a lead byte followed by ASCII
        #expect(!Self.valid([0xE2, 0x82, 0xC3, 0xA9]))
    }

    @Test func sequencesSplitAcrossFeedsAreValidatedAsOne() {
        let text = Array("a€b𝄞c é".utf8)
        for split in 0...text.count {
            let validator = ValidatorBox()
            #expect(validator.feed(text[0..<split]))
            #expect(validator.feed(text[split...]))
            #expect(validator.isComplete, "split at \(split)")
        }
    }

    @Test func aSplitSequenceIsIncompleteUntilItsLastByteArrives() {
        let validator = ValidatorBox()
        #expect(validator.feed([0xF0, 0x9D]))
        #expect(!validator.isComplete)
        #expect(validator.feed([0x84]))
        #expect(!validator.isComplete)
        #expect(validator.feed([0x9E]))
        #expect(validator.isComplete)
    }

    @Test func aBadContinuationInALaterFeedFailsThere() {
        let validator = ValidatorBox()
        #expect(validator.feed([0xE0]))
        #expect(!validator.feed([0x80]))  // E0 80 is overlong, known only in the second feed
        let surrogate = ValidatorBox()
        #expect(surrogate.feed([0x41, 0xED]))
        #expect(!surrogate.feed([0xA0, 0x80]))
        let tooHigh = ValidatorBox()
        #expect(tooHigh.feed([0xF4]))
        #expect(!tooHigh.feed([0x90]))
    }

    @Test func anInvalidByteAfterALongAsciiRunIsFound() {
        var bytes = [UInt8](repeating: 0x61, count: 1000)
        bytes[997] = 0xFF
        #expect(!Self.valid(bytes))
        bytes[997] = 0x61
        #expect(Self.valid(bytes))
    }
}
