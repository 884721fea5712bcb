/// The permessage-deflate configuration both ends agreed on (RFC 7692 section 7.1), as the server
/// answers it in `Sec-WebSocket-Extensions` and as a client reads that answer.
///
/// "server" and "client" are the RFC's directions: `server*` parameters govern the messages the
/// server compresses, `client*` the ones the client compresses. `makeDeflater(role:)` and
/// `makeInflater(role:)` pick the right half for each end.
public struct PerMessageDeflateParameters: Equatable, Sendable {
    /// Which end of the connection uses the parameters.
    public enum Role: Sendable {
        /// The gateway as the server its browsers connect to.
        case server
        /// The gateway (or a test) as the client of an RFC 6455 backend.
        case client
    }

    /// `server_no_context_takeover` (section 7.1.1.1): the server resets its compressor after
    /// every message, so the client may reset its decompressor too.
    public var serverNoContextTakeover: Bool
    /// `client_no_context_takeover` (section 7.1.1.2): the client resets its compressor after
    /// every message, so the server may reset its decompressor too.
    public var clientNoContextTakeover: Bool
    /// `server_max_window_bits` (section 7.1.2.1): the server compresses with a window of at most
    /// 2^bits bytes, 9...15. 15, the default, is written only when `statesDefaultServerMaxWindowBits`.
    public var serverMaxWindowBits: Int
    /// `client_max_window_bits` (section 7.1.2.2): the client compresses with a window of at most
    /// 2^bits bytes, 9...15. Written when below 15.
    public var clientMaxWindowBits: Int
    /// Whether `headerValue` states `server_max_window_bits=15` although 15 is the default. RFC 7692
    /// section 7.1.2.1 says a server accepts an offer that has `server_max_window_bits` by including
    /// that parameter, so negotiation sets this when the accepted offer asked for 15 (values below
    /// 15 are always written).
    public var statesDefaultServerMaxWindowBits: Bool

    /// Parameters; the defaults are the RFC's (context takeover both ways, 15-bit windows).
    public init(
        serverNoContextTakeover: Bool = false,
        clientNoContextTakeover: Bool = false,
        serverMaxWindowBits: Int = 15,
        clientMaxWindowBits: Int = 15,
        statesDefaultServerMaxWindowBits: Bool = false
    ) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
        self.statesDefaultServerMaxWindowBits = statesDefaultServerMaxWindowBits
    }

    /// The server's `Sec-WebSocket-Extensions` response value, e.g.
    /// `permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12`.
    public var headerValue: String {
        var text = PerMessageDeflateNegotiation.extensionName
        if self.serverNoContextTakeover { text += "; server_no_context_takeover" }
        if self.clientNoContextTakeover { text += "; client_no_context_takeover" }
        if self.serverMaxWindowBits < 15 || self.statesDefaultServerMaxWindowBits {
            text += "; server_max_window_bits=\(self.serverMaxWindowBits)"
        }
        if self.clientMaxWindowBits < 15 { text += "; client_max_window_bits=\(self.clientMaxWindowBits)" }
        return text
    }

    /// The compressor for the messages `role` sends: its window bits and context takeover.
    ///
    /// Memory: see `Deflater`; about 150 KiB at 12 bits and memLevel 8, 30 KiB at 12 and 4.
    public func makeDeflater(role: Role, memLevel: Int = Deflater.defaultMemLevel, level: Int = Deflater.defaultLevel) -> Deflater {
        switch role {
        case .server:
            return Deflater(windowBits: self.serverMaxWindowBits, memLevel: memLevel, level: level, noContextTakeover: self.serverNoContextTakeover)
        case .client:
            return Deflater(windowBits: self.clientMaxWindowBits, memLevel: memLevel, level: level, noContextTakeover: self.clientNoContextTakeover)
        }
    }

    /// The decompressor for the messages `role` receives: the peer's window bits, and a reset
    /// after each message when the peer promised not to take over context.
    public func makeInflater(role: Role) -> Inflater {
        switch role {
        case .server:
            return Inflater(windowBits: self.clientMaxWindowBits, noContextTakeover: self.clientNoContextTakeover)
        case .client:
            return Inflater(windowBits: self.serverMaxWindowBits, noContextTakeover: self.serverNoContextTakeover)
        }
    }
}

/// What a route allows when the gateway, as a server, answers a client's offers.
public struct PerMessageDeflatePolicy: Equatable, Sendable {
    /// Whether to accept permessage-deflate at all; when `false` every offer is declined.
    public var isEnabled: Bool
    /// Always answer `server_no_context_takeover` (room routes: one compressed copy of a message
    /// can then go to every member, and no member keeps a window of the server's past output).
    public var forceServerNoContextTakeover: Bool
    /// The route's `compression_window_bits`, 9...15 (values outside are clamped): the largest
    /// window the server compresses with, and the limit it asks of clients that support
    /// `client_max_window_bits` (so its decompressors stay as small).
    public var windowBits: Int

    /// A policy; by default enabled, context takeover allowed, 12-bit (4 KiB) windows.
    public init(isEnabled: Bool = true, forceServerNoContextTakeover: Bool = false, windowBits: Int = 12) {
        self.isEnabled = isEnabled
        self.forceServerNoContextTakeover = forceServerNoContextTakeover
        self.windowBits = windowBits
    }
}

/// What the gateway, as a client, offers a server (RFC 7692 section 7.1), kept to check the answer
/// with `PerMessageDeflateNegotiation.acceptResponse(_:offered:)`.
public struct PerMessageDeflateClientOffer: Equatable, Sendable {
    /// Sends `server_no_context_takeover`: the server must then reset its compressor per message.
    public var serverNoContextTakeover: Bool
    /// Sends `client_no_context_takeover`: a promise that our compressor resets per message.
    public var clientNoContextTakeover: Bool
    /// Sends `server_max_window_bits=N` (9...15) to limit the server's window; `nil` sends nothing.
    public var serverMaxWindowBits: Int?
    /// `client_max_window_bits`: `nil` does not send it (the server may then not limit our window);
    /// 15 sends it without a value (we accept a limit); 9...14 sends the value (we use no more).
    public var clientMaxWindowBits: Int?

    /// An offer; the default is what browsers send: `permessage-deflate; client_max_window_bits`.
    /// Window bits must be in 9...15 (8 is declined by zlib's raw deflate).
    public init(
        serverNoContextTakeover: Bool = false,
        clientNoContextTakeover: Bool = false,
        serverMaxWindowBits: Int? = nil,
        clientMaxWindowBits: Int? = 15
    ) {
        precondition(serverMaxWindowBits.map { (9...15).contains($0) } ?? true, "server_max_window_bits must be 9...15")
        precondition(clientMaxWindowBits.map { (9...15).contains($0) } ?? true, "client_max_window_bits must be 9...15")
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
    }

    /// The request's `Sec-WebSocket-Extensions` value.
    public var headerValue: String {
        var text = PerMessageDeflateNegotiation.extensionName
        if self.serverNoContextTakeover { text += "; server_no_context_takeover" }
        if self.clientNoContextTakeover { text += "; client_no_context_takeover" }
        if let bits = self.serverMaxWindowBits { text += "; server_max_window_bits=\(bits)" }
        if let bits = self.clientMaxWindowBits {
            text += bits < 15 ? "; client_max_window_bits=\(bits)" : "; client_max_window_bits"
        }
        return text
    }
}
