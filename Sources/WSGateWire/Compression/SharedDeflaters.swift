import NIOCore
import Synchronization

/// The compressors that encode a message once for every connection of a compressed family: one
/// per window size, for the whole process, each used under its own lock (rooms answer
/// `server_no_context_takeover`, so every message is compressed on its own and any of them can
/// encode it). Their zlib state is allocated on first use and kept: a few tens of KiB in all,
/// instead of a compressor per connection.
public enum SharedDeflaters {
    /// The memLevel of the gateway's compressors for a window: `windowBits - 9` (at least 1),
    /// which costs little compression on chat-like messages and a fraction of zlib's default
    /// memory (window 12: 26 KiB instead of 150 KiB).
    public static func memLevel(windowBits: Int) -> Int {
        max(1, min(9, windowBits - 9))
    }

    private final class Slot: Sendable {
        let deflater: Mutex<Deflater>
        init(windowBits: Int) {
            self.deflater = Mutex(Deflater(windowBits: windowBits, memLevel: SharedDeflaters.memLevel(windowBits: windowBits), noContextTakeover: true))
        }
    }

    private static let slots: [Slot] = (9...15).map { Slot(windowBits: $0) }

    /// One unmasked frame (FIN and RSV1) carrying `message` compressed on its own with a window
    /// of `windowBits` (9...15).
    public static func compressedFrame(opcode: RFC6455FrameEncoder.Opcode, message: ByteBuffer, windowBits: Int) -> ByteBuffer {
        Self.slots[windowBits - 9].deflater.withLock {
            RFC6455FrameEncoder.compressedMessageFrame(opcode: opcode, message: message, deflater: $0)
        }
    }
}
