import Logging
import NIOCore
import WSGateTLS

/// Looks at the first byte of a connection on a TLS listener and never consumes it: `0x16` (a TLS
/// record) or `0x80` (an SSLv2-style hello) installs the TLS handler; anything else is plain HTTP,
/// served when the listener says `plain: accept` and dropped otherwise.
final class TLSSniffHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let tlsContext: TLSContext
    private let acceptsPlain: Bool
    private var info: ConnectionInfo
    private var timeout: Scheduled<Void>?

    init(tlsContext: TLSContext, acceptsPlain: Bool, info: ConnectionInfo) {
        self.tlsContext = tlsContext
        self.acceptsPlain = acceptsPlain
        self.info = info
    }

    /// A client that sends nothing at all is dropped after `handshake_timeout_ms`, like one that
    /// stops mid-handshake (the next handler arms the same deadline, once the first byte is in).
    func handlerAdded(context: ChannelHandlerContext) {
        self.timeout = HandshakeDeadline.arm(context: context, info: self.info, stage: "first byte")
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timeout?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
        let handlers: [ChannelHandler]
        switch TLSSniffer.classify(first) {
        case .tls:
            self.info.isTLS = true
            handlers = [TLSHandler(context: self.tlsContext, role: .server), HTTPRequestHandler(info: self.info)]
        case .plain:
            guard self.acceptsPlain else {
                self.info.logger.info("plaintext on a TLS-only listener, dropped", metadata: ["wsgate.peer": "\(self.info.peer)", "wsgate.tls": "false"])
                self.info.runtime.metrics.countRefusal("plaintext_on_tls")
                context.close(promise: nil)
                return
            }
            handlers = [HTTPRequestHandler(info: self.info)]
        }
        do {
            try context.pipeline.syncOperations.addHandlers(handlers, position: .after(self))
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

@available(*, unavailable)
extension TLSSniffHandler: Sendable {}
