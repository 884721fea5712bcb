import NIOCore
import NIOWebSocket
import WSGateWire

/// A handler that reads RFC 6455 frames from its channel's bytes with its own `RFC6455FrameReader`
/// (the gateway's frame handler, and the backend hop's `UpstreamFrameHandler`): the one loop that
/// cuts frames and hands them over, and turns a framing error into its close code.
protocol RFC6455FrameReading: AnyObject {
    /// Its reader's `append`, `next` and `discard` (direct calls on the handler's own reader: going
    /// through a `{ get set }` requirement instead costs a coroutine frame per access in debug builds).
    func appendRead(_ bytes: ByteBuffer)
    func nextFrame() throws(NIOWebSocketError) -> RFC6455Frame?
    func discardRead()
    /// Whether the connection is closed (nothing more is read).
    var isClosed: Bool { get }
    /// One frame, in order.
    func received(_ frame: RFC6455Frame, context: ChannelHandlerContext)
    /// The bytes broke the framing (a frame over the limit: 1009; a bad control frame: 1002).
    func framingFailed(_ close: WebSocketClose, context: ChannelHandlerContext)
}

extension RFC6455FrameReading {
    /// Reads `bytes` (after any kept from before) and hands over every whole frame in them.
    func readFrames(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        if self.isClosed { return }
        self.appendRead(bytes)
        do {
            while let frame = try self.nextFrame() {
                self.received(frame, context: context)
                if self.isClosed { break }
            }
        } catch {
            self.discardRead()
            return self.framingFailed(WebSocketClose(code: WebSocketCloseCode(error), reason: "\(error)"), context: context)
        }
        if self.isClosed { self.discardRead() }
    }
}
