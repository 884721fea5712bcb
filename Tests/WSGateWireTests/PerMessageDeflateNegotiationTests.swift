import Testing
import WSGateWire

/// The server side of RFC 7692 section 7.1: `PerMessageDeflateNegotiation.negotiate(offers:policy:)`.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct PerMessageDeflateNegotiationTests {
    static let policy = PerMessageDeflatePolicy()  // enabled, context takeover allowed, 12 bits
    static let room = PerMessageDeflatePolicy(forceServerNoContextTakeover: true)

    static func answer(_ headers: [String], _ policy: PerMessageDeflatePolicy = Self.policy) -> String? {
        PerMessageDeflateNegotiation.negotiate(headerValues: headers, policy: policy)?.headerValue
    }

    static func answer(_ header: String, _ policy: PerMessageDeflatePolicy = Self.policy) -> String? {
        Self.answer([header], policy)
    }

    // MARK: What browsers send

    @Test func chromeOffersClientMaxWindowBitsAndIsAskedForTheRoutesWindow() {
        let parameters = PerMessageDeflateNegotiation.negotiate(headerValues: ["permessage-deflate; client_max_window_bits"], policy: Self.policy)
        #expect(parameters == PerMessageDeflateParameters(serverMaxWindowBits: 12, clientMaxWindowBits: 12))
        #expect(parameters?.headerValue == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12")
    }

    @Test func firefoxAndSafariOfferNoParameterSoTheClientWindowIsNotAnswered() {
        // Section 7.1.2.2: without client_max_window_bits in the offer, the response MUST NOT have it.
        let parameters = PerMessageDeflateNegotiation.negotiate(headerValues: ["permessage-deflate"], policy: Self.policy)
        #expect(parameters == PerMessageDeflateParameters(serverMaxWindowBits: 12, clientMaxWindowBits: 15))
        #expect(parameters?.headerValue == "permessage-deflate; server_max_window_bits=12")
    }

    @Test func withA15BitPolicyTheAnswerIsBare() {
        let policy = PerMessageDeflatePolicy(windowBits: 15)
        #expect(Self.answer("permessage-deflate; client_max_window_bits", policy) == "permessage-deflate")
        #expect(Self.answer("permessage-deflate", policy) == "permessage-deflate")
    }

    @Test func roomsAlwaysAnswerServerNoContextTakeover() {
        #expect(Self.answer("permessage-deflate; client_max_window_bits", Self.room)
            == "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12")
        #expect(Self.answer("permessage-deflate", Self.room) == "permessage-deflate; server_no_context_takeover; server_max_window_bits=12")
        #expect(PerMessageDeflateNegotiation.negotiate(headerValues: ["permessage-deflate"], policy: Self.room)?.serverNoContextTakeover == true)
    }

    @Test func aDisabledPolicyDeclinesEverything() {
        #expect(Self.answer("permessage-deflate", PerMessageDeflatePolicy(isEnabled: false)) == nil)
    }

    @Test func otherExtensionsAreSkipped() {
        #expect(Self.answer("x-webkit-deflate-frame") == nil)
        #expect(Self.answer("x-webkit-deflate-frame, permessage-deflate") == "permessage-deflate; server_max_window_bits=12")
        #expect(Self.answer([]) == nil)
    }

    // MARK: RFC 7692 section 7.1

    @Test func theSection7ExampleOfTwoOffersTakesTheFirst() {
        let header = "permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits"
        #expect(Self.answer(header) == "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12")
        #expect(Self.answer(header, PerMessageDeflatePolicy(windowBits: 9)) == "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9")
    }

    @Test func serverMaxWindowBitsIsHonouredAndNeverRaised() {
        // 7.1.2.1: the same or a smaller value than offered; we also never go above the policy.
        #expect(Self.answer("permessage-deflate; server_max_window_bits=14") == "permessage-deflate; server_max_window_bits=12")
        #expect(Self.answer("permessage-deflate; server_max_window_bits=9") == "permessage-deflate; server_max_window_bits=9")
        #expect(Self.answer("permessage-deflate; server_max_window_bits=11", PerMessageDeflatePolicy(windowBits: 15)) == "permessage-deflate; server_max_window_bits=11")
    }

    @Test func anOfferOfServerMaxWindowBits15IsAnsweredExplicitly() {
        // 7.1.2.1: "A server accepts an extension negotiation offer with this parameter by including
        // the server_max_window_bits extension parameter in the extension negotiation response".
        let parameters = PerMessageDeflateNegotiation.negotiate(headerValues: ["permessage-deflate; server_max_window_bits=15"], policy: PerMessageDeflatePolicy(windowBits: 15))
        #expect(parameters?.serverMaxWindowBits == 15)
        #expect(parameters?.headerValue == "permessage-deflate; server_max_window_bits=15")
    }

    @Test func clientMaxWindowBitsWithAValueIsAnsweredWithTheSameOrSmaller() {
        #expect(Self.answer("permessage-deflate; client_max_window_bits=10") == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10")
        #expect(Self.answer("permessage-deflate; client_max_window_bits=14") == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12")
        #expect(Self.answer("permessage-deflate; client_max_window_bits=15", PerMessageDeflatePolicy(windowBits: 15)) == "permessage-deflate")
        #expect(Self.answer(#"permessage-deflate; client_max_window_bits="10""#) == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10")
    }

    @Test func contextTakeoverParametersAreEchoed() {
        #expect(Self.answer("permessage-deflate; server_no_context_takeover") == "permessage-deflate; server_no_context_takeover; server_max_window_bits=12")
        #expect(Self.answer("permessage-deflate; client_no_context_takeover") == "permessage-deflate; client_no_context_takeover; server_max_window_bits=12")
        #expect(Self.answer("permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits", Self.room)
            == "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12")
    }

    @Test func windowBitsOf8AreDeclinedAndTheNextOfferIsTaken() {
        #expect(Self.answer("permessage-deflate; server_max_window_bits=8") == nil)
        #expect(Self.answer("permessage-deflate; client_max_window_bits=8") == nil)
        #expect(Self.answer("permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits")
            == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12")
        #expect(Self.answer(["permessage-deflate; client_max_window_bits=8", "permessage-deflate; server_max_window_bits=10"])
            == "permessage-deflate; server_max_window_bits=10")
    }

    @Test func duplicateParametersAreDeclined() {
        #expect(Self.answer("permessage-deflate; client_max_window_bits; client_max_window_bits") == nil)
        #expect(Self.answer("permessage-deflate; server_no_context_takeover; server_no_context_takeover") == nil)
        #expect(Self.answer("permessage-deflate; server_max_window_bits=10; server_max_window_bits=10") == nil)
        #expect(Self.answer("permessage-deflate; Server_Max_Window_Bits=10; server_max_window_bits=11, permessage-deflate") == "permessage-deflate; server_max_window_bits=12")
    }

    @Test func unknownParametersAreDeclined() {
        #expect(Self.answer("permessage-deflate; foo") == nil)
        #expect(Self.answer("permessage-deflate; x=1, permessage-deflate; client_max_window_bits") == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12")
        #expect(Self.answer("permessage-deflate; client_max_window") == nil)
    }

    @Test func invalidValuesAreDeclined() {
        let invalid = [
            "server_max_window_bits", "server_max_window_bits=16", "server_max_window_bits=7", "server_max_window_bits=010",
            "server_max_window_bits=09", "server_max_window_bits=abc", "server_max_window_bits=+9", "server_max_window_bits=-9",
            "server_max_window_bits=1e1", "server_max_window_bits=99999999999999999999999", "client_max_window_bits=0",
            "client_max_window_bits=16", "client_max_window_bits=x", "server_no_context_takeover=1", #"client_no_context_takeover="true""#,
        ]
        for parameter in invalid {
            #expect(Self.answer("permessage-deflate; \(parameter)") == nil, "\(parameter)")
            #expect(Self.answer("permessage-deflate; \(parameter), permessage-deflate") == "permessage-deflate; server_max_window_bits=12", "\(parameter)")
        }
    }

    @Test func aMalformedOfferFallsThroughToTheNextLine() {
        #expect(Self.answer(["permessage-deflate; client_max_window_bits=\"10", "permessage-deflate"]) == "permessage-deflate; server_max_window_bits=12")
    }

    @Test func everyExtensionsLineOfARequestHeadIsRead() {
        let head = HTTPRequestHead(method: "GET", target: "/chat", minorVersion: 1, headers: [
            ("Host", "example.com"),
            ("Sec-WebSocket-Extensions", #"permessage-deflate; client_max_window_bits="8", x-foo"#),
            ("sec-websocket-extensions", "permessage-deflate; server_max_window_bits=10"),
        ])
        #expect(PerMessageDeflateNegotiation.negotiate(head: head, policy: Self.policy)?.headerValue == "permessage-deflate; server_max_window_bits=10")
        let none = HTTPRequestHead(method: "GET", target: "/chat", minorVersion: 1, headers: [("Host", "example.com")])
        #expect(PerMessageDeflateNegotiation.negotiate(head: none, policy: Self.policy) == nil)
    }

    @Test func policyWindowBitsAreClampedTo9Through15() {
        #expect(Self.answer("permessage-deflate; client_max_window_bits", PerMessageDeflatePolicy(windowBits: 3))
            == "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9")
        #expect(Self.answer("permessage-deflate; client_max_window_bits", PerMessageDeflatePolicy(windowBits: 99)) == "permessage-deflate")
    }

    @Test func theServersAnswerIsAcceptedByOurClientSide() throws {
        // Every combination the client side can offer, against a few policies: what the server
        // answers is what the client then reads back.
        for policy in [Self.policy, Self.room, PerMessageDeflatePolicy(windowBits: 15), PerMessageDeflatePolicy(windowBits: 9)] {
            for serverNoContextTakeover in [false, true] {
                for clientNoContextTakeover in [false, true] {
                    for serverBits in [nil, 9, 10, 12, 15] as [Int?] {
                        for clientBits in [nil, 9, 11, 15] as [Int?] {
                            let offer = PerMessageDeflateClientOffer(
                                serverNoContextTakeover: serverNoContextTakeover, clientNoContextTakeover: clientNoContextTakeover,
                                serverMaxWindowBits: serverBits, clientMaxWindowBits: clientBits
                            )
                            let header = PerMessageDeflateNegotiation.clientOffer(offer)
                            let server = try #require(PerMessageDeflateNegotiation.negotiate(headerValues: [header], policy: policy), "\(header)")
                            let client = try PerMessageDeflateNegotiation.acceptResponse(server.headerValue, offered: offer)
                            #expect(client == server, "\(header) -> \(server.headerValue)")
                            #expect(server.serverMaxWindowBits <= (serverBits ?? 15))
                            #expect(server.clientMaxWindowBits <= (clientBits ?? 15))
                        }
                    }
                }
            }
        }
    }
}

/// The client side: `clientOffer(_:)` and `acceptResponse(_:offered:)`.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct PerMessageDeflateClientNegotiationTests {
    static let browserLike = PerMessageDeflateClientOffer()

    static func reject(_ response: String, offered: PerMessageDeflateClientOffer = Self.browserLike) -> PerMessageDeflateResponseError? {
        do throws(PerMessageDeflateResponseError) {
            _ = try PerMessageDeflateNegotiation.acceptResponse(response, offered: offered)
            return nil
        } catch {
            return error
        }
    }

    @Test func theDefaultOfferIsWhatChromeSends() {
        #expect(PerMessageDeflateNegotiation.clientOffer() == "permessage-deflate; client_max_window_bits")
    }

    @Test func anOfferWithEveryParameter() {
        let offer = PerMessageDeflateClientOffer(serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12)
        #expect(PerMessageDeflateNegotiation.clientOffer(offer)
            == "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12")
        #expect(PerMessageDeflateNegotiation.clientOffer(PerMessageDeflateClientOffer(clientMaxWindowBits: nil)) == "permessage-deflate")
    }

    @Test func aBareAnswerMeansTheDefaults() throws {
        #expect(try PerMessageDeflateNegotiation.acceptResponse("permessage-deflate", offered: Self.browserLike) == PerMessageDeflateParameters())
    }

    @Test func answeredWindowsAreUsed() throws {
        let parameters = try PerMessageDeflateNegotiation.acceptResponse("permessage-deflate; server_max_window_bits=12; client_max_window_bits=10", offered: Self.browserLike)
        #expect(parameters == PerMessageDeflateParameters(serverMaxWindowBits: 12, clientMaxWindowBits: 10))
    }

    @Test func withoutAnAnsweredClientWindowWeKeepToTheOfferedOne() throws {
        let offer = PerMessageDeflateClientOffer(clientMaxWindowBits: 10)
        #expect(try PerMessageDeflateNegotiation.acceptResponse("permessage-deflate", offered: offer).clientMaxWindowBits == 10)
        #expect(try PerMessageDeflateNegotiation.acceptResponse("permessage-deflate; client_max_window_bits", offered: offer).clientMaxWindowBits == 10)
        #expect(try PerMessageDeflateNegotiation.acceptResponse("permessage-deflate; client_max_window_bits=9", offered: offer).clientMaxWindowBits == 9)
    }

    @Test func contextTakeoverParametersMayComeUnasked() throws {
        let parameters = try PerMessageDeflateNegotiation.acceptResponse("Permessage-Deflate; server_no_context_takeover; client_no_context_takeover", offered: Self.browserLike)
        #expect(parameters.serverNoContextTakeover && parameters.clientNoContextTakeover)
    }

    @Test func serverMaxWindowBitsMayComeUnasked() throws {
        #expect(try PerMessageDeflateNegotiation.acceptResponse("permessage-deflate; server_max_window_bits=9", offered: Self.browserLike).serverMaxWindowBits == 9)
    }

    @Test func quotedValuesAreRead() throws {
        #expect(try PerMessageDeflateNegotiation.acceptResponse(#"permessage-deflate; client_max_window_bits="11""#, offered: Self.browserLike).clientMaxWindowBits == 11)
    }

    @Test func malformedOrForeignAnswersAreRejected() {
        #expect(Self.reject("permessage-deflate;") == .malformed)
        #expect(Self.reject("") == .malformed)
        #expect(Self.reject("permessage-deflate, x-webkit-deflate-frame") == .extensionNotOffered("x-webkit-deflate-frame"))
        #expect(Self.reject("permessage-deflate, permessage-deflate") == .multipleAcceptances)
    }

    @Test func unknownDuplicateAndInvalidParametersAreRejected() {
        #expect(Self.reject("permessage-deflate; foo=1") == .unknownParameter("foo"))
        #expect(Self.reject("permessage-deflate; server_no_context_takeover; server_no_context_takeover") == .duplicateParameter("server_no_context_takeover"))
        #expect(Self.reject("permessage-deflate; server_no_context_takeover=1") == .invalidValue(parameter: "server_no_context_takeover", value: "1"))
        #expect(Self.reject("permessage-deflate; client_no_context_takeover=x") == .invalidValue(parameter: "client_no_context_takeover", value: "x"))
        #expect(Self.reject("permessage-deflate; server_max_window_bits") == .invalidValue(parameter: "server_max_window_bits", value: nil))
        #expect(Self.reject("permessage-deflate; server_max_window_bits=16") == .invalidValue(parameter: "server_max_window_bits", value: "16"))
        #expect(Self.reject("permessage-deflate; server_max_window_bits=8") == .invalidValue(parameter: "server_max_window_bits", value: "8"))
        #expect(Self.reject("permessage-deflate; client_max_window_bits=8") == .invalidValue(parameter: "client_max_window_bits", value: "8"))
        #expect(Self.reject("permessage-deflate; client_max_window_bits=012") == .invalidValue(parameter: "client_max_window_bits", value: "012"))
    }

    @Test func answersBeyondTheOfferAreRejected() {
        let limited = PerMessageDeflateClientOffer(serverNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11)
        #expect(Self.reject("permessage-deflate; server_no_context_takeover; server_max_window_bits=10", offered: limited) == nil)
        #expect(Self.reject("permessage-deflate; server_no_context_takeover; server_max_window_bits=11", offered: limited)
            == .notAllowedByOffer(parameter: "server_max_window_bits", reason: "11 is above the offered 10"))
        #expect(Self.reject("permessage-deflate; server_no_context_takeover", offered: limited)
            == .notAllowedByOffer(parameter: "server_max_window_bits", reason: "offered but not answered"))
        #expect(Self.reject("permessage-deflate; server_max_window_bits=10", offered: limited)
            == .notAllowedByOffer(parameter: "server_no_context_takeover", reason: "offered but not answered"))
        #expect(Self.reject("permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=12", offered: limited)
            == .notAllowedByOffer(parameter: "client_max_window_bits", reason: "12 is above the offered 11"))
        let noClientWindow = PerMessageDeflateClientOffer(clientMaxWindowBits: nil)
        #expect(Self.reject("permessage-deflate; client_max_window_bits=10", offered: noClientWindow)
            == .notAllowedByOffer(parameter: "client_max_window_bits", reason: "not offered, so it must not be answered"))
    }

    @Test func parametersMakeTheRightCodecForEachRole() {
        let parameters = PerMessageDeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 10, clientMaxWindowBits: 13)
        let serverDeflater = parameters.makeDeflater(role: .server)
        let serverInflater = parameters.makeInflater(role: .server)
        let clientDeflater = parameters.makeDeflater(role: .client, memLevel: 4, level: 1)
        let clientInflater = parameters.makeInflater(role: .client)
        #expect(serverDeflater.windowBits == 10 && serverDeflater.noContextTakeover)
        #expect(serverInflater.windowBits == 13 && !serverInflater.noContextTakeover)
        #expect(clientDeflater.windowBits == 13 && !clientDeflater.noContextTakeover && clientDeflater.memLevel == 4 && clientDeflater.level == 1)
        #expect(clientInflater.windowBits == 10 && clientInflater.noContextTakeover)
    }
}
