import NIOCore
import WSGateWire

/// A connection's frame handler as its session writes to it: a direct call on the event loop
/// instead of a pipeline write.
///
/// The frame handler does with the frame what its pipeline `write` does with an `OutboundFrame`
/// (the same closing check, the same framing, in the same order as every other write), but the
/// frame is not boxed into `NIOAny` and unboxed again: for a non-buffer type that box costs
/// several dynamic casts, which was about a tenth of the CPU of a room delivery (200 members at
/// 2,000 msg/s) and of an echo.
protocol FrameWriter: AnyObject {
    /// Frames and writes `frame` (not flushed); dropped once the connection can send no more.
    /// On the connection's event loop only.
    func writeFrame(_ frame: OutboundFrame)
}
