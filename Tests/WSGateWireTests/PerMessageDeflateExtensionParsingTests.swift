import Testing
import WSGateWire

/// `Sec-WebSocket-Extensions` parsing (RFC 6455 section 9.1).
@Suite(.serialized, .timeLimit(.minutes(1)))
struct PerMessageDeflateExtensionParsingTests {
    typealias P = ExtensionOffer.Parameter

    @Test func oneOfferWithAParameterWithoutValue() {
        #expect(ExtensionOffer.parse(["permessage-deflate; client_max_window_bits"])
            == [ExtensionOffer(name: "permessage-deflate", parameters: [P(name: "client_max_window_bits")])])
    }

    @Test func severalHeaderLinesAndCommaSeparatedOffersKeepTheirOrder() {
        let offers = ExtensionOffer.parse([
            "permessage-deflate; server_max_window_bits=10, permessage-deflate",
            "x-webkit-deflate-frame",
        ])
        #expect(offers == [
            ExtensionOffer(name: "permessage-deflate", parameters: [P(name: "server_max_window_bits", value: "10")]),
            ExtensionOffer(name: "permessage-deflate"),
            ExtensionOffer(name: "x-webkit-deflate-frame"),
        ])
    }

    @Test func quotedValuesAreUnescaped() {
        #expect(ExtensionOffer.parse([#"permessage-deflate; client_max_window_bits="10""#])[0].parameters == [P(name: "client_max_window_bits", value: "10")])
        #expect(ExtensionOffer.parse([#"permessage-deflate; client_max_window_bits="1\0""#])[0].parameters == [P(name: "client_max_window_bits", value: "10")])
    }

    @Test func whitespaceAroundSeparatorsAndEmptyElementsAreAccepted() {
        let offers = ExtensionOffer.parse([" , permessage-deflate ;client_max_window_bits = 10 ;\tserver_no_context_takeover ,, foo ,"])
        #expect(offers == [
            ExtensionOffer(name: "permessage-deflate", parameters: [P(name: "client_max_window_bits", value: "10"), P(name: "server_no_context_takeover")]),
            ExtensionOffer(name: "foo"),
        ])
    }

    @Test func namesAreLowercasedAndValuesKeptAsSent() {
        #expect(ExtensionOffer.parse(["PerMessage-Deflate; Client_Max_Window_Bits=Ab"])
            == [ExtensionOffer(name: "permessage-deflate", parameters: [P(name: "client_max_window_bits", value: "Ab")])])
    }

    @Test func aMalformedOfferIsDroppedAndTheNextOneKept() {
        let cases: [String] = [
            "permessage-deflate; =1, permessage-deflate",  // no parameter name
            "permessage-deflate;, permessage-deflate",  // ";" without a parameter
            #"permessage-deflate; a="1 0", permessage-deflate"#,  // quoted value that is not a token
            #"permessage-deflate; a="", permessage-deflate"#,  // empty quoted value
            "permessage-deflate; a=, permessage-deflate",  // "=" without a value
            #"permessage-deflate; a="x,y", permessage-deflate"#,  // a comma inside quotes does not split
            "permessage-deflate a, permessage-deflate",  // two tokens without ";"
            "permessage-deflate; a=b=c, permessage-deflate",
            #""permessage-deflate", permessage-deflate"#,  // a quoted extension name
            "permessage-défláte, permessage-deflate",  // not a token
        ]
        for header in cases {
            #expect(ExtensionOffer.parse([header]) == [ExtensionOffer(name: "permessage-deflate")], "\(header)")
        }
    }

    @Test func anUnterminatedQuoteEndsItsLineButNotTheNextLine() {
        let offers = ExtensionOffer.parse([#"foo; a="unterminated, permessage-deflate"#, "permessage-deflate; client_max_window_bits"])
        #expect(offers == [ExtensionOffer(name: "permessage-deflate", parameters: [P(name: "client_max_window_bits")])])
    }

    @Test func strictParsingRefusesAnyMalformedElementOrAnEmptyList() {
        #expect(ExtensionOffer.parseStrictly("permessage-deflate; server_max_window_bits=10") != nil)
        #expect(ExtensionOffer.parseStrictly("permessage-deflate; server_max_window_bits=10, foo;") == nil)
        #expect(ExtensionOffer.parseStrictly("") == nil)
        #expect(ExtensionOffer.parseStrictly(" , ") == nil)
    }

    @Test func headerValueRendersAnOffer() {
        let offer = ExtensionOffer(name: "permessage-deflate", parameters: [P(name: "server_no_context_takeover"), P(name: "client_max_window_bits", value: "10")])
        #expect(offer.headerValue == "permessage-deflate; server_no_context_takeover; client_max_window_bits=10")
        #expect(ExtensionOffer.parse([offer.headerValue]) == [offer])
    }

    @Test func garbageNeverCrashesAndEveryResultIsMadeOfTokens() {
        var random = SeededGenerator(state: 0x7692)
        let alphabet = Array(#"permessage-deflate;=,"\ \#tclient_max_window_bits15"#.utf8) + [0x00, 0x7F, 0xC3, 0xA9, 0xFF]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0..<40, using: &random)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &random)! }
            let header = String(decoding: bytes, as: UTF8.self)
            let isToken: (String) -> Bool = { text in
                !text.isEmpty && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !Array(#"",;=\"#.utf8).contains($0) }
            }
            for offer in ExtensionOffer.parse([header, header]) {
                let wellFormed = isToken(offer.name) && offer.parameters.allSatisfy { isToken($0.name) && ($0.value.map(isToken) ?? true) }
                if !wellFormed { Issue.record("\(header) -> \(offer)") }
            }
            _ = ExtensionOffer.parseStrictly(header)
            if let parameters = PerMessageDeflateNegotiation.negotiate(headerValues: [header], policy: PerMessageDeflatePolicy()),
                !(9...12).contains(parameters.serverMaxWindowBits) || !(9...15).contains(parameters.clientMaxWindowBits)
            {
                Issue.record("\(header) -> \(parameters)")
            }
        }
    }
}
