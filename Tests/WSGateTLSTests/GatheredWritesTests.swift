import NIOCore
import Testing
@testable import WSGateTLS

/// `GatheredWrites`: one write kept as it is, several gathered in order.
@Suite struct GatheredWritesTests {
    private let allocator = ByteBufferAllocator()

    @Test func oneWriteIsKeptAsItCame() {
        var writes = GatheredWrites.none
        let message = ByteBuffer(string: "one message")
        writes.append(message, allocator: self.allocator)
        #expect(writes.byteCount == message.readableBytes)
        guard case .single = writes else {
            Issue.record("one write was copied: \(writes)")
            return
        }
        let taken = writes.take()
        #expect(taken == message)
        taken?.withUnsafeReadableBytes { taken in
            message.withUnsafeReadableBytes { original in
                #expect(taken.baseAddress == original.baseAddress, "the same storage, not a copy")
            }
        }
    }

    @Test func severalWritesAreGatheredInOrder() {
        var writes = GatheredWrites.none
        for part in ["a", "bb", "ccc", "dddd"] {
            writes.append(ByteBuffer(string: part), allocator: self.allocator)
        }
        #expect(writes.byteCount == 10)
        #expect(writes.take().map { String(buffer: $0) } == "abbcccdddd")
        #expect(writes.byteCount == 0)
        #expect(writes.take() == nil)
    }

    @Test func gatheringDoesNotChangeTheWritersBuffers() {
        var writes = GatheredWrites.none
        let first = ByteBuffer(string: "first;")
        let second = ByteBuffer(string: "second")
        writes.append(first, allocator: self.allocator)
        writes.append(second, allocator: self.allocator)
        writes.append(ByteBuffer(string: "+"), allocator: self.allocator)
        #expect(String(buffer: first) == "first;")
        #expect(String(buffer: second) == "second")
        #expect(writes.take().map { String(buffer: $0) } == "first;second+")
    }
}
