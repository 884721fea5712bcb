import NIOCore
import WSGateWire

/// A connection's frame handler as its session writes to it: a direct call on the event loop
/// instead of a pipeline write.
///
/// The frame handler does with the frame what its pipeline `write` does with an `OutboundFrame`
/// (the same closing check, the same framing, in the same order as every other write), but the
/// frame is not boxed into `NIOAny` and unboxed again: for a non-buffer type that box costs
/// several dynamic casts, which was about a tenth of the CPU of a room delivery (200 members at
/// 2,000 msg/s) and of an echo. An enum of the two handlers, one word wide, not an existential
/// (two words, and a witness-table call).
enum FrameWriter {
    case rfc6455(RFC6455FrameHandler)
    case hixie(HixieFrameHandler)

    /// Frames and writes `frame` (not flushed); dropped once the connection can send no more.
    /// On the connection's event loop only.
    func write(_ frame: OutboundFrame) {
        switch self {
        case .rfc6455(let handler): handler.writeFrame(frame)
        case .hixie(let handler): handler.writeFrame(frame)
        }
    }
}

/// The handler at the top of a WebSocket connection (a session, a bridge, a relay) that writes
/// its messages through the connection's `FrameWriter`; the pipeline sets it when it is built.
protocol FrameWriterUser: AnyObject {
    /// The connection's frame handler (nil: write down the pipeline instead).
    var frameWriter: FrameWriter? { get set }
}

extension FrameWriterUser where Self: ChannelInboundHandler, Self.OutboundOut == OutboundFrame {
    /// Writes one frame, directly to the frame handler when there is one (not flushed).
    func writeFrame(_ frame: OutboundFrame, context: ChannelHandlerContext) {
        if let writer = self.frameWriter {
            writer.write(frame)
        } else {
            context.write(Self.wrapOutboundOut(frame), promise: nil)
        }
    }
}
