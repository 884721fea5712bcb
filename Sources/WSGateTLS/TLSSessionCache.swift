internal import COpenSSL
import Synchronization

/// A client-side TLS session cache: for each server name, the newest session that server gave us,
/// offered to the next connection to that name so that its handshake resumes (TLS 1.3: a PSK from the
/// server's session ticket; TLS 1.2: the ticket or session id) instead of running the full key
/// exchange and certificate check.
///
/// Give it to one client context, `TLSContext.client(trustedCAPath:verifyPeer:alpn:sessionCache:)`.
/// Every connection made from that context then offers the newest session stored for its server name
/// (the `serverName` of `TLSHandler.Role.client`, exactly; no name is a name of its own) and stores
/// each new session it receives. A TLS 1.3 server sends its tickets after the handshake, so the first
/// connection's session is stored when the client reads what the server sent after its Finished
/// (typically with the server's first application data, e.g. the WebSocket 101): connections started
/// before that make full handshakes.
///
/// Sessions are kept per server name because a resumed handshake does not check the certificate again:
/// a session stands for the name it was verified for (RFC 8446 §4.6.1). A cache serves one context
/// (the session carries that context's verification result) and is released with it.
///
/// The one session of a name is offered to every connection to it, concurrent ones too. RFC 8446
/// (appendix C.4) asks clients not to reuse a ticket, because a passive observer can link the
/// connections that present it; this cache is for benchmarks and internal hops, where that does not
/// matter. Thread-safe: connections on any event loop share it.
public final class TLSSessionCache: Sendable {
    /// What the connections of the cache's context did, since the cache was made.
    public struct Statistics: Sendable, Equatable {
        /// Client handshakes completed.
        public var handshakes: Int
        /// Of those, the ones that resumed a session (`SSL_session_reused`).
        public var resumed: Int
        /// Connections that offered a cached session (the server may still refuse it: a full handshake).
        public var offered: Int
        /// Sessions received and kept (each replaces the previous one of its server name).
        public var stored: Int

        /// Creates statistics; the cache does this, tests may too.
        public init(handshakes: Int = 0, resumed: Int = 0, offered: Int = 0, stored: Int = 0) {
            self.handshakes = handshakes
            self.resumed = resumed
            self.offered = offered
            self.stored = stored
        }
    }

    /// Server names beyond this many get no session cached (their connections make full handshakes).
    public let maximumServerNames: Int

    /// One slot per server name, never removed while the cache lives: connections point at theirs.
    private let slots = Mutex<[String: TLSSessionSlot]>([:])
    /// Set once the cache is given to a context (it may serve one only).
    private let isAttached = Atomic<Bool>(false)
    private let handshakeCount = Atomic<Int>(0)
    private let resumedCount = Atomic<Int>(0)
    private let offeredCount = Atomic<Int>(0)
    private let storedCount = Atomic<Int>(0)

    /// An empty cache holding sessions for at most `maximumServerNames` names.
    public init(maximumServerNames: Int = 1024) {
        self.maximumServerNames = maximumServerNames
    }

    /// The counts so far (each read on its own: a snapshot taken while connections run may be a
    /// handshake apart between fields).
    public var statistics: Statistics {
        Statistics(
            handshakes: self.handshakeCount.load(ordering: .relaxed), resumed: self.resumedCount.load(ordering: .relaxed),
            offered: self.offeredCount.load(ordering: .relaxed), stored: self.storedCount.load(ordering: .relaxed))
    }

    /// Whether a session is stored for `serverName` (the role's `serverName`; nil: connections without one).
    public func hasSession(forServerName serverName: String?) -> Bool {
        self.existingSlot(for: serverName)?.hasSession ?? false
    }

    /// Forgets every stored session: the next connections make full handshakes (and store new ones).
    public func removeAll() {
        let slots = self.slots.withLock { Array($0.values) }
        for slot in slots { slot.clear() }
    }

    // MARK: Used by the context's connections and callbacks

    /// Claims the cache for one context; false if it already serves one.
    func claim() -> Bool {
        self.isAttached.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
    }

    /// A new client connection: remember its slot (for the sessions it will receive) and offer the
    /// slot's session, if any. Before the handshake starts.
    func prepare(_ ssl: OpaquePointer, serverName: String?) {
        guard let slot = self.slot(for: serverName) else { return }
        // Unretained: the slot lives as long as this cache, which the SSL_CTX holds, which the SSL holds.
        SSL_set_ex_data(ssl, tlsSessionSlotIndex, Unmanaged.passUnretained(slot).toOpaque())
        guard let session = slot.copyOfSession() else { return }
        defer { SSL_SESSION_free(session) }
        if SSL_set_session(ssl, session) == 1 {  // takes its own reference
            self.offeredCount.add(1, ordering: .relaxed)
        }
    }

    /// A session arrived on a connection of `slot`: keep a copy of it (the connection keeps using and
    /// changing its own).
    func store(_ session: OpaquePointer, in slot: TLSSessionSlot) {
        guard let copy = SSL_SESSION_dup(session) else { return }
        slot.replace(with: copy)
        self.storedCount.add(1, ordering: .relaxed)
    }

    /// A client handshake of the context completed.
    func noteHandshake(resumed: Bool) {
        self.handshakeCount.add(1, ordering: .relaxed)
        if resumed { self.resumedCount.add(1, ordering: .relaxed) }
    }

    private func existingSlot(for serverName: String?) -> TLSSessionSlot? {
        self.slots.withLock { $0[serverName ?? ""] }
    }

    private func slot(for serverName: String?) -> TLSSessionSlot? {
        let key = serverName ?? ""
        return self.slots.withLock { slots in
            if let slot = slots[key] { return slot }
            guard slots.count < self.maximumServerNames else { return nil }
            let slot = TLSSessionSlot()
            slots[key] = slot
            return slot
        }
    }
}

/// The newest session of one server name: one `SSL_SESSION` reference, owned, to a copy no connection
/// uses. Connections get copies of it in turn: OpenSSL changes the session a connection holds (during
/// its handshake, and marks it not resumable when the connection is freed without a close_notify), so
/// one session object shared by connections, concurrent ones above all, makes some of them fall back
/// to full handshakes.
final class TLSSessionSlot: Sendable {
    /// An `SSL_SESSION*` whose reference the slot owns. Only read (copied) while the slot has it.
    private struct Reference: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private let session = Mutex<Reference?>(nil)

    deinit {
        if let previous = self.session.withLock({ $0 }) { SSL_SESSION_free(previous.pointer) }
    }

    var hasSession: Bool { self.session.withLock { $0 != nil } }

    /// A copy of the session for one connection (the caller frees its reference), or nil.
    func copyOfSession() -> OpaquePointer? {
        let reference = self.session.withLock { reference -> Reference? in
            guard let reference else { return nil }
            SSL_SESSION_up_ref(reference.pointer)  // so that a replace meanwhile does not free it
            return reference
        }
        guard let reference else { return nil }
        defer { SSL_SESSION_free(reference.pointer) }
        return SSL_SESSION_dup(reference.pointer)
    }

    /// Keeps `session` (whose reference the caller hands over) instead of the previous one.
    func replace(with session: OpaquePointer) {
        self.exchange(Reference(pointer: session))
    }

    /// Forgets the session.
    func clear() {
        self.exchange(nil)
    }

    /// Puts `new` in the slot and frees the reference to the session it held.
    private func exchange(_ new: Reference?) {
        let previous = self.session.withLock { current in
            defer { current = new }
            return current
        }
        if let previous { SSL_SESSION_free(previous.pointer) }
    }
}
