import NIOConcurrencyHelpers
import NIOCore
import WSGateConfig
import WSGateTLS

/// How a listener treats the first bytes of a connection: plain HTTP, TLS, or either (told apart
/// by the first byte, docs/SPEC.md "TLS is told from plain by the first byte").
///
/// The `TLSContext` is built when the listener is bound (off the event loops) and shared by every
/// connection of that listener. A reload builds it again from the files, even at unchanged paths
/// (renewal tools rewrite certificates in place), and `replace` swaps it in: new handshakes get
/// the new certificate, open connections keep the context they started with.
final class ListenerSecurity: Sendable {
    private let tlsContext: NIOLockedValueBox<TLSContext?>
    private let acceptsPlain: Bool

    /// Builds the TLS context of a listener, if it has one.
    init(configuration: TLSListenerConfiguration?) throws {
        self.tlsContext = NIOLockedValueBox(try configuration.map(Self.makeContext))
        self.acceptsPlain = configuration.map { $0.plain == .accept } ?? true
    }

    /// Reads a listener's certificate, key and SNI entries from their files now.
    static func makeContext(_ tls: TLSListenerConfiguration) throws -> TLSContext {
        try TLSContext(
            certificatePath: tls.certificatePath, keyPath: tls.keyPath,
            sni: tls.sni.map { .init(name: $0.name, certificatePath: $0.certificatePath, keyPath: $0.keyPath) })
    }

    /// New TLS handshakes on this listener use `context` from now on.
    func replace(_ context: TLSContext) {
        self.tlsContext.withLockedValue { $0 = context }
    }

    /// The certificate new handshakes get now (for logs and tests).
    var currentContext: TLSContext? { self.tlsContext.withLockedValue { $0 } }

    /// Problems with the TLS files of a configuration, each naming its file.
    static func problems(in configuration: WSGateConfiguration) -> [String] {
        var problems: [String] = []
        for listener in configuration.listeners {
            guard let tls = listener.tls else { continue }
            problems += TLSContext.validate(certificatePath: tls.certificatePath, keyPath: tls.keyPath)
            for entry in tls.sni {
                problems += TLSContext.validate(certificatePath: entry.certificatePath, keyPath: entry.keyPath)
            }
        }
        // JWT keys and named-target files are read like certificates: a reload with a bad one is refused.
        problems += RouteAccess.build(configuration).problems
        return problems
    }

    /// Refuses a configuration whose TLS files are not usable.
    static func prepare(_ configuration: WSGateConfiguration) throws {
        let problems = Self.problems(in: configuration)
        if !problems.isEmpty { throw PreflightError(problems: problems) }
    }

    /// Installs the first handlers of an accepted connection.
    func install(on channel: Channel, info: ConnectionInfo) throws {
        guard let tlsContext = self.currentContext else {
            try channel.pipeline.syncOperations.addHandler(HTTPRequestHandler(info: info))
            return
        }
        try channel.pipeline.syncOperations.addHandler(
            TLSSniffHandler(tlsContext: tlsContext, acceptsPlain: self.acceptsPlain, info: info))
    }
}

/// A configuration that names certificate or key files that cannot be used.
public struct PreflightError: Error, CustomStringConvertible {
    /// One line per problem.
    public var problems: [String]
    public var description: String { self.problems.joined(separator: "\n") }
}
