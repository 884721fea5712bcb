import CZlib

// zlib's allocator hooks for `Deflater` and `Inflater`: plain Swift allocations with the size in a
// 16-byte header, so that each stream knows how many bytes its zlib state holds (`zlibMemoryBytes`).
// `opaque` points at that stream's counter. An allocation failure traps, as any Swift allocation.

private let zlibHeaderBytes = 16

/// `alloc_func`: `items * size` bytes, added to the counter at `opaque`.
func zlibAllocate(_ opaque: UnsafeMutableRawPointer?, _ items: UInt32, _ size: UInt32) -> UnsafeMutableRawPointer? {
    let bytes = Int(items) * Int(size)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes + zlibHeaderBytes, alignment: zlibHeaderBytes)
    raw.storeBytes(of: bytes, as: Int.self)
    opaque?.assumingMemoryBound(to: Int.self).pointee += bytes
    return raw + zlibHeaderBytes
}

/// `free_func`: releases a block of `zlibAllocate` and takes it off the counter.
func zlibFree(_ opaque: UnsafeMutableRawPointer?, _ address: UnsafeMutableRawPointer?) {
    guard let address else { return }
    let raw = address - zlibHeaderBytes
    opaque?.assumingMemoryBound(to: Int.self).pointee -= raw.load(as: Int.self)
    raw.deallocate()
}

/// A zeroed `z_stream` at a fixed address (zlib keeps a pointer back to it), using the hooks
/// above with `counter` as their `opaque`.
func makeZlibStream(counter: UnsafeMutablePointer<Int>) -> UnsafeMutablePointer<z_stream> {
    let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    stream.pointee.zalloc = zlibAllocate
    stream.pointee.zfree = zlibFree
    stream.pointee.opaque = UnsafeMutableRawPointer(counter)
    return stream
}

/// The largest count handed to zlib at once (its `avail_in` / `avail_out` are 32-bit).
let zlibMaximumChunk = 1 << 30
