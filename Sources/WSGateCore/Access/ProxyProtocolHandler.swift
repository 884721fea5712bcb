import NIOCore
import WSGateAuth

/// The first handler on a `proxy_protocol: true` listener: reads the PROXY v1 or v2 header a load
/// balancer sends first (HAProxy's proxy-protocol.txt), takes its source address as the client's,
/// then installs the listener's usual handlers and hands them what followed the header.
///
/// A peer outside `trusted_proxies`, a connection without a valid header, or one that sends none
/// before the handshake deadline, is closed with no answer (SPEC "Auth fine print").
final class ProxyProtocolHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var info: ConnectionInfo
    private let security: ListenerSecurity
    private var parser = ProxyProtocolParser()
    private var deadline: Scheduled<Void>?
    private var isDone = false

    init(info: ConnectionInfo, security: ListenerSecurity) {
        self.info = info
        self.security = security
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard self.info.runtime.trustedProxies.contains(self.info.peerIP) else {
            self.drop(context: context, reason: "PROXY header expected from an untrusted peer")
            return
        }
        self.deadline = HandshakeDeadline.arm(context: context, info: self.info, stage: "PROXY header")
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.deadline?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.isDone else { return }
        var incoming = Self.unwrapInboundIn(data)
        do {
            switch try self.parser.feed(&incoming) {
            case .needMore:
                return
            case .header(let header, _):
                self.isDone = true
                self.deadline?.cancel()
                if let source = header.source, !header.isLocal, header.family != .unknown {
                    self.info.peer = source.address
                    self.info.clientPort = Int(source.port)
                }
                try self.security.install(on: context.channel, info: self.info)
                if incoming.readableBytes > 0 {
                    // The handlers installed after this one get what followed the header.
                    context.fireChannelRead(Self.wrapInboundOut(incoming))
                }
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
        } catch {
            self.drop(context: context, reason: "bad PROXY header: \(error)")
        }
    }

    private func drop(context: ChannelHandlerContext, reason: String) {
        self.isDone = true
        self.info.logger.info("connection dropped", metadata: ["wsgate.peer": "\(self.info.peerIP)", "wsgate.reason": "\(reason)"])
        self.info.runtime.metrics.countRefusal("proxy_protocol")
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ProxyProtocolHandler: Sendable {}
