import NIOCore
import Testing
import WSGateWire

@Suite struct Base64Tests {
    /// RFC 4648 section 10.
    static let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    @Test(arguments: vectors)
    func encodingMatchesRFC4648Section10(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.encode(ByteBuffer(string: plain)) == encoded)
    }

    @Test(arguments: vectors)
    func decodingMatchesRFC4648Section10(plain: String, encoded: String) {
        #expect(Base64.decode(encoded) == Array(plain.utf8))
        #expect(Base64.decode(Substring(encoded)) == Array(plain.utf8))
        #expect(Base64.decode(ByteBuffer(string: encoded)) == Array(plain.utf8))
    }

    @Test func everyByteValueAndLengthRoundTrips() {
        let bytes = (0...255).map { UInt8($0) } + (0...255).map { UInt8(255 - $0) }
        for length in 0...bytes.count {
            let slice = Array(bytes.prefix(length))
            #expect(Base64.decode(Base64.encode(slice)) == slice)
        }
        #expect(Base64.encode([0xFB, 0xFF, 0xBF]) == "+/+/")
    }

    @Test(arguments: [
        "Zg", "Zg=", "Zm9vY", "Zm9vYmFy=",  // length not a multiple of 4
        "Z===", "====", "Zg==Zg==", "Zm=v", "Z=g=",  // padding out of place
        "Zh==", "Zm9=",  // bits left over by the padding are not zero (section 3.5)
        "Zm9v\r\n", " Zm9v", "Zm 9v", "Zm-_", "Zm9v\0\0\0\0", "Zm9é",  // outside the alphabet
    ])
    func invalidInputIsRefused(text: String) {
        #expect(Base64.decode(text) == nil)
        #expect(Base64.decode(ByteBuffer(string: text)) == nil)
    }
}
