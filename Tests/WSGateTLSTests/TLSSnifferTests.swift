import Testing
import WSGateTLS

@Suite struct TLSSnifferTests {
    @Test(arguments: [
        (UInt8(0x16), TLSSniffer.Kind.tls),  // TLS handshake record
        (0x80, .tls),  // SSLv2-style ClientHello
        (UInt8(ascii: "G"), .plain),  // GET
        (UInt8(ascii: "H"), .plain),  // HEAD
        (0x15, .plain),  // a TLS alert never opens a connection
        (0x00, .plain),
        (0xFF, .plain),
    ])
    func firstByteTellsTLSFromPlain(byte: UInt8, kind: TLSSniffer.Kind) {
        #expect(TLSSniffer.classify(byte) == kind)
    }
}
