internal import COpenSSL
import NIOCore

/// The ciphertext side of one `SSL*`: what the peer sent goes in, what OpenSSL produced comes out, as
/// `ByteBuffer`s. Today a pair of memory BIOs; a `BIO_meth_new` method over `ByteBuffer`s could replace it
/// behind the same interface.
final class ByteBufferBIO {
    /// Ciphertext from the network, read by OpenSSL (the SSL's rbio). One reference owned here.
    private let inbound: OpaquePointer
    /// Ciphertext produced by OpenSSL (the SSL's wbio). One reference owned here.
    private let outbound: OpaquePointer

    init() throws {
        guard let inbound = BIO_new(BIO_s_mem()) else {
            throw TLSError.configurationFailed(reasons: OpenSSLErrorQueue.drain(orElse: "BIO_new failed"))
        }
        guard let outbound = BIO_new(BIO_s_mem()) else {
            BIO_free(inbound)
            throw TLSError.configurationFailed(reasons: OpenSSLErrorQueue.drain(orElse: "BIO_new failed"))
        }
        self.inbound = inbound
        self.outbound = outbound
    }

    deinit {
        BIO_free(self.inbound)
        BIO_free(self.outbound)
    }

    /// Hands both BIOs to `ssl`, which takes a reference of its own to each.
    func attach(to ssl: OpaquePointer) {
        BIO_up_ref(self.inbound)
        BIO_up_ref(self.outbound)
        SSL_set_bio(ssl, self.inbound, self.outbound)
    }

    /// Queues ciphertext received from the peer, in any split, for OpenSSL to read.
    /// Ciphertext received and not yet decrypted, in bytes (an upper bound of the plaintext in it).
    var pendingInbound: Int { Int(gw_BIO_ctrl_pending(self.inbound)) }

    func receive(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let chunk = Int32(min(bytes.count - offset, Int(Int32.max)))
                // A memory BIO grows as needed: every write is complete.
                let written = BIO_write(self.inbound, bytes.baseAddress! + offset, chunk)
                precondition(written == chunk, "Internal inconsistency: memory BIO refused \(chunk) bytes")
                offset += Int(written)
            }
        }
    }

    /// Whether OpenSSL has produced ciphertext not yet taken.
    var hasOutbound: Bool { gw_BIO_ctrl_pending(self.outbound) > 0 }

    /// All ciphertext OpenSSL has produced so far, as one buffer, or nil if there is none.
    func takeOutbound(allocator: ByteBufferAllocator) -> ByteBuffer? {
        let pending = Int(gw_BIO_ctrl_pending(self.outbound))
        guard pending > 0 else { return nil }
        var buffer = allocator.buffer(capacity: pending)
        while true {
            let left = Int(gw_BIO_ctrl_pending(self.outbound))
            if left == 0 { break }
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: left) { target in
                Int(max(0, BIO_read(self.outbound, target.baseAddress!, Int32(min(left, Int(Int32.max))))))
            }
            if read == 0 { break }
        }
        return buffer
    }
}
