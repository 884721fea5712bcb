internal import COpenSSL
import NIOCore

/// The ciphertext side of one `SSL*`: a `BIO_METHOD` of our own over `ByteBuffer`s.
///
/// What the peer sent is queued as the `ByteBuffer`s NIO read it into (no copy) and OpenSSL reads
/// records straight out of them; what OpenSSL produces is appended to one outbound `ByteBuffer`, which
/// is handed to the channel as it is (no copy). A pair of memory BIOs would cost a copy more in each
/// direction and clear every byte it grows by (`BUF_MEM_grow_clean`): about a fifth of the CPU of a
/// bulk wss:// echo went there.
final class ByteBufferBIO {
    /// The `BIO*`: one reference owned here, one by the `SSL*` it is attached to.
    private let bio: OpaquePointer
    /// Ciphertext received and not yet read by OpenSSL, oldest first; none of them empty.
    private var inbound = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    /// Ciphertext received and not yet read by OpenSSL, in bytes.
    private(set) var pendingInbound = 0
    /// Ciphertext OpenSSL produced and the channel has not taken yet.
    private var outbound: ByteBuffer?
    private let allocator = ByteBufferAllocator()

    init() throws {
        guard let method = Self.method, let bio = BIO_new(method) else {
            throw TLSError.configurationFailed(reasons: OpenSSLErrorQueue.drain(orElse: "BIO_new failed"))
        }
        self.bio = bio
        BIO_set_data(bio, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        // The SSL* (freed first by its owner) may have been the last user; clear the back pointer anyway.
        BIO_set_data(self.bio, nil)
        BIO_free(self.bio)
    }

    /// Hands the BIO to `ssl` for reading and writing; the SSL takes one reference of its own.
    func attach(to ssl: OpaquePointer) {
        BIO_up_ref(self.bio)
        SSL_set_bio(ssl, self.bio, self.bio)
    }

    // MARK: Inbound

    /// Queues ciphertext received from the peer, in any split, for OpenSSL to read.
    func receive(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0 else { return }
        self.pendingInbound += buffer.readableBytes
        self.inbound.append(buffer)
    }

    /// Copies up to `capacity` queued bytes to `target`; 0 when nothing is queued.
    fileprivate func read(into target: UnsafeMutableRawPointer, capacity: Int) -> Int {
        var copied = 0
        while copied < capacity, var first = self.inbound.first {
            let count = min(capacity - copied, first.readableBytes)
            first.withUnsafeReadableBytes { bytes in
                (target + copied).copyMemory(from: bytes.baseAddress!, byteCount: count)
            }
            first.moveReaderIndex(forwardBy: count)
            copied += count
            if first.readableBytes == 0 {
                self.inbound.removeFirst()
            } else {
                self.inbound[self.inbound.startIndex] = first
            }
        }
        self.pendingInbound -= copied
        return copied
    }

    /// Bytes of storage the queued ciphertext keeps alive (for tests).
    var inboundCapacity: Int { self.inbound.reduce(0) { $0 + $1.storageCapacity } }

    // MARK: Outbound

    /// Ciphertext OpenSSL has produced and not yet taken, in bytes.
    var pendingOutbound: Int { self.outbound?.readableBytes ?? 0 }

    /// Whether OpenSSL has produced ciphertext not yet taken.
    var hasOutbound: Bool { self.pendingOutbound > 0 }

    /// Makes room for `bytes` more ciphertext in one allocation (before encrypting a known amount).
    func reserveOutbound(_ bytes: Int) {
        if self.outbound == nil {
            self.outbound = self.allocator.buffer(capacity: bytes)
        } else {
            self.outbound!.reserveCapacity(minimumWritableBytes: bytes)
        }
    }

    /// All ciphertext OpenSSL has produced so far, as one buffer, or nil if there is none.
    func takeOutbound() -> ByteBuffer? {
        guard let buffer = self.outbound, buffer.readableBytes > 0 else { return nil }
        self.outbound = nil
        return buffer
    }

    fileprivate func write(_ bytes: UnsafeRawBufferPointer) {
        if self.outbound == nil {
            self.outbound = self.allocator.buffer(capacity: max(bytes.count, 4096))
        }
        self.outbound!.writeBytes(bytes)
    }

    // MARK: The BIO_METHOD

    /// The BIO_METHOD pointer: written once while the lazy static initializes (under Swift's
    /// once-only guard), then only read by OpenSSL, so sharing it between threads is safe.
    private struct MethodHandle: @unchecked Sendable {
        let pointer: OpaquePointer?
    }

    /// Created once per process; never freed.
    private static var method: OpaquePointer? { Self.methodHandle.pointer }

    private static let methodHandle = MethodHandle(pointer: {
        let type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK
        guard let method = BIO_meth_new(type, "wsgate ByteBuffer") else { return nil }
        BIO_meth_set_write(method, bioWrite)
        BIO_meth_set_read(method, bioRead)
        BIO_meth_set_ctrl(method, bioControl)
        BIO_meth_set_create(method, bioCreate)
        BIO_meth_set_destroy(method, bioDestroy)
        return method
    }())

    fileprivate static func owner(of bio: OpaquePointer) -> ByteBufferBIO? {
        BIO_get_data(bio).map { Unmanaged<ByteBufferBIO>.fromOpaque($0).takeUnretainedValue() }
    }
}

private func bioWrite(_ bio: OpaquePointer?, _ data: UnsafePointer<CChar>?, _ length: Int32) -> Int32 {
    guard let bio else { return -1 }
    gw_BIO_clear_retry_flags(bio)
    guard let owner = ByteBufferBIO.owner(of: bio) else { return -1 }
    guard length > 0, let data else { return 0 }
    owner.write(UnsafeRawBufferPointer(start: data, count: Int(length)))
    return length
}

private func bioRead(_ bio: OpaquePointer?, _ data: UnsafeMutablePointer<CChar>?, _ length: Int32) -> Int32 {
    guard let bio else { return -1 }
    gw_BIO_clear_retry_flags(bio)
    guard let owner = ByteBufferBIO.owner(of: bio) else { return -1 }
    guard length > 0, let data else { return 0 }
    let copied = owner.read(into: UnsafeMutableRawPointer(data), capacity: Int(length))
    if copied == 0 {
        gw_BIO_set_retry_read(bio)  // nothing yet: OpenSSL reports WANT_READ
        return -1
    }
    return Int32(copied)
}

private func bioControl(_ bio: OpaquePointer?, _ command: Int32, _ argument: Int, _ pointer: UnsafeMutableRawPointer?) -> Int {
    // OpenSSL asks for a flush after every record it writes: answered without looking up the owner.
    switch command {
    case BIO_CTRL_FLUSH, BIO_CTRL_DUP:
        return 1
    case BIO_CTRL_PENDING:
        guard let bio, let owner = ByteBufferBIO.owner(of: bio) else { return 0 }
        return owner.pendingInbound
    case BIO_CTRL_WPENDING:
        guard let bio, let owner = ByteBufferBIO.owner(of: bio) else { return 0 }
        return owner.pendingOutbound
    case BIO_CTRL_GET_CLOSE:
        return Int(BIO_CLOSE)
    case BIO_CTRL_SET_CLOSE:
        return 1
    default:
        return 0  // push/pop, EOF, ktls, reset …: not supported, as a memory BIO answers for most
    }
}

private func bioCreate(_ bio: OpaquePointer?) -> Int32 {
    guard let bio else { return 0 }
    BIO_set_init(bio, 1)
    return 1
}

private func bioDestroy(_ bio: OpaquePointer?) -> Int32 {
    guard let bio else { return 0 }
    BIO_set_data(bio, nil)
    return 1
}
