import NIOCore
import WSGateConfig

/// How a listener treats the first bytes of a connection: plain only for now.
/// (TLS termination lands with the WSGateTLS module.)
struct ListenerSecurity: Sendable {
    init(configuration: TLSListenerConfiguration?) throws {}

    /// Checks everything a configuration's listeners need before any is opened.
    static func prepare(_ configuration: WSGateConfiguration) throws {}

    /// Problems with the TLS files of a configuration.
    static func problems(in configuration: WSGateConfiguration) -> [String] { [] }

    /// Installs the first handlers of an accepted connection.
    func install(on channel: Channel, info: ConnectionInfo) throws {
        try channel.pipeline.syncOperations.addHandler(HTTPRequestHandler(info: info))
    }
}
