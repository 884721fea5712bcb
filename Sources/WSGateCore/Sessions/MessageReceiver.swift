import NIOCore
import WSGateWire

/// The handler above a connection's frame handler (a session, a bridge, a relay, or the
/// `messages_per_s` limiter before one of them) as the frame handler hands it messages: a direct
/// call instead of `fireChannelRead`, whose `NIOAny` boxes a `GatewayMessage` (a heap allocation
/// and dynamic casts per message). The pipeline sets it when it is built.
///
/// Messages come in the order they were read, before the read's `channelReadComplete` and before
/// the connection's end (`WebSocketClose`), exactly as through the pipeline. On the event loop.
protocol MessageReceiver: AnyObject {
    /// One message from the peer; dropped if the receiver has left its pipeline.
    func receiveMessage(_ message: GatewayMessage)
}

extension ChannelInboundHandler where InboundOut == GatewayMessage {
    /// Hands `message` to `receiver` by a direct call, or up the pipeline when there is none (a
    /// handler on its own in a test's pipeline).
    func passOn(_ message: GatewayMessage, to receiver: MessageReceiver?, context: ChannelHandlerContext) {
        if let receiver {
            receiver.receiveMessage(message)
        } else {
            context.fireChannelRead(Self.wrapInboundOut(message))
        }
    }
}
