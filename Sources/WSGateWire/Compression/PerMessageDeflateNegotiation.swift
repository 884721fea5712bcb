/// permessage-deflate negotiation (RFC 7692 section 7.1), both sides, without I/O.
///
/// Server side: `negotiate(offers:policy:)` picks the first acceptable offer and says what to
/// answer. Client side: `clientOffer(_:)` writes the offer and `acceptResponse(_:offered:)`
/// checks the server's answer against it.
///
/// Window bits of 8, valid in RFC 7692, are declined on both sides: zlib (since 1.2.9) refuses a
/// 256-byte window for raw deflate, and older zlib silently used 512 bytes, so a peer that asks
/// for 8 cannot be honoured, and one that claims 8 may really be using 9.
public enum PerMessageDeflateNegotiation {
    /// The extension token, `permessage-deflate` (section 7).
    public static let extensionName = "permessage-deflate"

    // MARK: - Server side

    /// The parameters to answer for the first acceptable permessage-deflate offer, or `nil` to
    /// decline them all (the response then has no `Sec-WebSocket-Extensions`).
    ///
    /// Offers of other extensions are skipped. Section 7 says a server MUST decline an offer with
    /// an unknown parameter, a parameter twice, or an invalid value; it MAY decline one it does not
    /// support (here: window bits of 8). Declining an offer moves on to the client's next one
    /// (section 5.1: the client lists them in its order of preference). For the accepted one:
    /// - `server_no_context_takeover` is answered when offered (7.1.1.1: accepting it means
    ///   answering it) or when the policy forces it (the server may always include it).
    /// - `client_no_context_takeover` is answered when offered (7.1.1.2), so that the client's
    ///   promise binds it and our decompressor may reset per message; never asked unprompted.
    /// - `server_max_window_bits` is min(policy, offered value): 7.1.2.1 asks for the same or a
    ///   smaller value, and lets a server state it even when not offered, which we do whenever it
    ///   is below 15; an offer for 15 is answered with 15 explicitly.
    /// - `client_max_window_bits`: 7.1.2.2 forbids answering it when not offered (the client's
    ///   window is then up to 15). When offered, with no value or value N, we answer
    ///   min(policy, N or 15) when below 15, to keep our decompressor as small as our compressor.
    public static func negotiate(offers: [ExtensionOffer], policy: PerMessageDeflatePolicy) -> PerMessageDeflateParameters? {
        guard policy.isEnabled else { return nil }
        let policyBits = min(max(policy.windowBits, 9), 15)
        for offer in offers where offer.name == Self.extensionName {
            if let parameters = Self.accept(offer, policyBits: policyBits, forceServerNoContextTakeover: policy.forceServerNoContextTakeover) {
                return parameters
            }
        }
        return nil
    }

    /// `negotiate(offers:policy:)` on the request's `Sec-WebSocket-Extensions` header lines.
    public static func negotiate(headerValues: some Sequence<String>, policy: PerMessageDeflatePolicy) -> PerMessageDeflateParameters? {
        Self.negotiate(offers: ExtensionOffer.parse(headerValues), policy: policy)
    }

    /// `negotiate(offers:policy:)` on every `Sec-WebSocket-Extensions` line of a request head (not
    /// `head.tokens(_:)`, which splits inside quoted strings).
    public static func negotiate(head: HTTPRequestHead, policy: PerMessageDeflatePolicy) -> PerMessageDeflateParameters? {
        let lines = head.headers.lazy.filter { $0.name.caseInsensitiveEquals("Sec-WebSocket-Extensions") }.map(\.value)
        return Self.negotiate(headerValues: lines, policy: policy)
    }

    /// The answer to one offer, or `nil` to decline it.
    private static func accept(_ offer: ExtensionOffer, policyBits: Int, forceServerNoContextTakeover: Bool) -> PerMessageDeflateParameters? {
        var seen: Set<String> = []
        var serverNoContextTakeover = false
        var clientNoContextTakeover = false
        var offeredServerBits: Int?
        var offersClientBits = false
        var offeredClientBits: Int?
        for parameter in offer.parameters {
            guard seen.insert(parameter.name).inserted else { return nil }  // section 7: same name twice
            switch parameter.name {
            case "server_no_context_takeover":  // 7.1.1.1: no value
                guard parameter.value == nil else { return nil }
                serverNoContextTakeover = true
            case "client_no_context_takeover":  // 7.1.1.2: no value
                guard parameter.value == nil else { return nil }
                clientNoContextTakeover = true
            case "server_max_window_bits":  // 7.1.2.1: a value is required
                guard let value = parameter.value, let bits = Self.windowBits(value), bits >= 9 else { return nil }
                offeredServerBits = bits
            case "client_max_window_bits":  // 7.1.2.2: no value, or a value
                offersClientBits = true
                if let value = parameter.value {
                    guard let bits = Self.windowBits(value), bits >= 9 else { return nil }
                    offeredClientBits = bits
                }
            default:
                return nil  // section 7: a parameter not defined for an offer
            }
        }
        let serverBits = min(policyBits, offeredServerBits ?? 15)
        let clientBits = offersClientBits ? min(policyBits, offeredClientBits ?? 15) : 15
        return PerMessageDeflateParameters(
            serverNoContextTakeover: serverNoContextTakeover || forceServerNoContextTakeover,
            clientNoContextTakeover: clientNoContextTakeover,
            serverMaxWindowBits: serverBits,
            clientMaxWindowBits: clientBits,
            statesDefaultServerMaxWindowBits: offeredServerBits != nil && serverBits == 15
        )
    }

    // MARK: - Client side

    /// The request's `Sec-WebSocket-Extensions` value for `offer`.
    public static func clientOffer(_ offer: PerMessageDeflateClientOffer = PerMessageDeflateClientOffer()) -> String {
        offer.headerValue
    }

    /// Checks the server's `Sec-WebSocket-Extensions` answer (several header lines joined with
    /// `, `) against what was `offered`, and returns the parameters to compress and decompress
    /// with. Call it only when the response has the header; without it, no extension is in use.
    ///
    /// Rules (RFC 7692 section 7.1; RFC 6455 section 9.1 for the syntax):
    /// - only permessage-deflate, once; no unknown or repeated parameter;
    /// - `server_no_context_takeover` / `client_no_context_takeover` have no value and may come
    ///   unasked (7.1.1.1, 7.1.1.2); one we asked for must come back;
    /// - `server_max_window_bits` needs a value in 9...15, not above what we offered, and must
    ///   come back if we offered it (7.1.2.1);
    /// - `client_max_window_bits` only if we offered it (7.1.2.2), with a value in 9...15 not above
    ///   our offered value; without a value it is read as no limit. When absent, we keep to the
    ///   value we offered (or 15).
    public static func acceptResponse(
        _ headerValue: String,
        offered: PerMessageDeflateClientOffer
    ) throws(PerMessageDeflateResponseError) -> PerMessageDeflateParameters {
        guard let elements = ExtensionOffer.parseStrictly(headerValue) else { throw .malformed }
        if let other = elements.first(where: { $0.name != Self.extensionName }) { throw .extensionNotOffered(other.name) }
        guard elements.count == 1 else { throw .multipleAcceptances }
        var seen: Set<String> = []
        var result = PerMessageDeflateParameters(clientMaxWindowBits: offered.clientMaxWindowBits ?? 15)
        var answeredServerBits = false
        for parameter in elements[0].parameters {
            guard seen.insert(parameter.name).inserted else { throw .duplicateParameter(parameter.name) }
            switch parameter.name {
            case "server_no_context_takeover":
                guard parameter.value == nil else { throw .invalidValue(parameter: parameter.name, value: parameter.value) }
                result.serverNoContextTakeover = true
            case "client_no_context_takeover":
                guard parameter.value == nil else { throw .invalidValue(parameter: parameter.name, value: parameter.value) }
                result.clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let value = parameter.value, let bits = Self.windowBits(value), bits >= 9 else {
                    throw .invalidValue(parameter: parameter.name, value: parameter.value)
                }
                if let limit = offered.serverMaxWindowBits, bits > limit {
                    throw .notAllowedByOffer(parameter: parameter.name, reason: "\(bits) is above the offered \(limit)")
                }
                result.serverMaxWindowBits = bits
                result.statesDefaultServerMaxWindowBits = bits == 15
                answeredServerBits = true
            case "client_max_window_bits":
                guard let offeredBits = offered.clientMaxWindowBits else {
                    throw .notAllowedByOffer(parameter: parameter.name, reason: "not offered, so it must not be answered")
                }
                guard let value = parameter.value else { break }  // no value: no limit beyond our own
                guard let bits = Self.windowBits(value), bits >= 9 else { throw .invalidValue(parameter: parameter.name, value: value) }
                guard bits <= offeredBits else {
                    throw .notAllowedByOffer(parameter: parameter.name, reason: "\(bits) is above the offered \(offeredBits)")
                }
                result.clientMaxWindowBits = bits
            default:
                throw .unknownParameter(parameter.name)
            }
        }
        if offered.serverNoContextTakeover && !result.serverNoContextTakeover {
            throw .notAllowedByOffer(parameter: "server_no_context_takeover", reason: "offered but not answered")
        }
        if offered.serverMaxWindowBits != nil && !answeredServerBits {
            throw .notAllowedByOffer(parameter: "server_max_window_bits", reason: "offered but not answered")
        }
        return result
    }

    // MARK: - Values

    /// A window-bits value: "a decimal integer value without leading zeroes between 8 to 15,
    /// inclusive" (sections 7.1.2.1 and 7.1.2.2); `nil` for anything else.
    static func windowBits(_ value: String) -> Int? {
        switch value {
        case "8", "9", "10", "11", "12", "13", "14", "15": return Int(value)
        default: return nil
        }
    }
}
