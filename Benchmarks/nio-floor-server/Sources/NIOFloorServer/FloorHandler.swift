// NIO floor: the least a SwiftNIO server can spend per WebSocket echo message, for Benchmarks/run.sh's
// echo scenario (64 connections × 64 B, one in flight each, closed loop), peer name `nio-floor`.
//
// Why: Benchmarks/peers/c-epoll-ws-echo.c is the floor any server can reach here (one read() and one
// write() per message). This one is the floor a server on SwiftNIO can reach: NIOPosix's event loops
// and channel machinery (selector, recv buffer allocator, pipeline, pending writes) and nothing else,
// so that wsgate's server CPU per message can be split into what NIO itself costs and what wsgate
// adds on top. Like the C one it is NOT a peer, does not count for any target, and is NOT a
// conforming WebSocket server: no fragmentation rules, no UTF-8 check, no extensions, no limits
// beyond a 16 MiB frame.
//
// What it does, one handler per connection and no other handler in the pipeline:
//  - reads the HTTP upgrade request by hand up to "\r\n\r\n" (at most 8 KiB; any path, no other
//    header checked), takes Sec-WebSocket-Key and answers 101 with Sec-WebSocket-Accept =
//    base64(SHA-1(key + GUID)) (SHA1.swift); no key: 400 and closed;
//  - then for every read ByteBuffer parses the RFC 6455 client frames in place (7/16/64-bit
//    lengths, masked), unmasks each payload straight into one per-connection output ByteBuffer
//    (from the channel's allocator, kept and cleared, so no allocation per message once it has
//    grown) and answers: text/binary/continuation -> the same frame back unmasked (same FIN and
//    opcode, so fragments are echoed frame by frame), ping -> pong, pong -> nothing, close -> close
//    back (same payload) and then the channel is closed. As the C floor: RSV bits, an unmasked
//    frame, an unknown opcode or a control frame longer than 125 bytes or fragmented close the
//    connection. A partial frame is kept (copied) in a per-connection buffer until the rest comes;
//  - what one channelRead produced is written with one context.write of a slice of the output
//    buffer, and channelReadComplete does the one context.flush() (then the output buffer, whose
//    slice NIO has released once the write went through, is cleared in place).
import NIOCore

final class FloorHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let handshakeMax = 8192
    private static let frameMax = 16 << 20
    private static let guid = Array("258EAFA5-E914-47DA-95CA-C5AB0DC85B11".utf8)
    private static let keyHeader = Array("sec-websocket-key:".utf8)

    /// Bytes not yet parsed: the upgrade request until it is complete, later a partial frame.
    private var pending: ByteBuffer
    /// Every reply goes here; a slice of it is written per channelRead.
    private var out: ByteBuffer
    private var open = false
    /// Close once what is written is flushed (a close frame answered, a protocol error, a 400).
    private var closing = false

    init(allocator: ByteBufferAllocator) {
        self.pending = allocator.buffer(capacity: 256)
        self.out = allocator.buffer(capacity: 1024)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.closing else { return }
        var input = self.unwrapInboundIn(data)
        if !self.open || self.pending.readableBytes > 0 {
            self.pending.writeBuffer(&input)
            if !self.open {
                self.handshake()
            }
            if self.open && !self.closing && self.pending.readableBytes > 0 {
                self.frames(&self.pending)
            }
            if self.pending.readableBytes == 0 {
                self.pending.clear()
            } else if self.pending.readerIndex > 0 {
                self.pending.discardReadBytes()
            }
        } else {
            // The usual case: whole frames in the read buffer, parsed where they are.
            self.frames(&input)
            if input.readableBytes > 0 {
                self.pending.writeBuffer(&input)
            }
        }
        if self.out.readableBytes > 0 {
            context.write(self.wrapOutboundOut(self.out.readSlice(length: self.out.readableBytes)!), promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        // The written slices are released once the socket took them: clear() then reuses the storage
        // (were a write still pending, it would get fresh storage instead of touching the queued bytes).
        self.out.clear()
        if self.closing {
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: - the upgrade request

    private func handshake() {
        let request = self.pending.readableBytesView
        guard let end = Self.find([13, 10, 13, 10], in: request) else {
            if request.count >= Self.handshakeMax { self.closing = true }
            return
        }
        var key: ArraySlice<UInt8>? = nil
        var line = request.startIndex
        while line < end, let eol = Self.find([13, 10], in: request[line..<end + 2]) {
            let bytes = request[line..<eol]
            if bytes.count > Self.keyHeader.count,
                zip(bytes, Self.keyHeader).allSatisfy({ ($0 | 0x20) == $1 || $0 == $1 })
            {
                var value = Array(bytes.dropFirst(Self.keyHeader.count))[...]
                while let c = value.first, c == 32 || c == 9 { value = value.dropFirst() }
                while let c = value.last, c == 32 || c == 9 { value = value.dropLast() }
                key = value
                break
            }
            line = eol + 2
        }
        self.pending.moveReaderIndex(to: end + 4)
        guard let key, !key.isEmpty, key.count <= 128 else {
            self.out.writeString("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.closing = true
            return
        }
        let accept = base64(sha1(Array(key) + Self.guid))
        self.out.writeString(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n"
        )
        self.open = true
    }

    /// The absolute index of needle's first byte in haystack (a view's indices are the buffer's).
    private static func find(_ needle: [UInt8], in haystack: ByteBufferView) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.startIndex
        while i <= haystack.endIndex - needle.count {
            if haystack[i] == needle[0] && haystack[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    // MARK: - frames

    /// Parses every complete frame at the front of `buffer`, appends the replies to `self.out` and
    /// consumes what it parsed; a partial frame stays in `buffer`.
    private func frames(_ buffer: inout ByteBuffer) {
        var consumed = 0
        var stop = false
        _ = buffer.withUnsafeReadableBytes { src in
            // A reply is never longer than its frame (a server header is at most the client's minus
            // the 4 mask bytes), so the output needs no more room than the input holds.
            self.out.writeWithUnsafeMutableBytes(minimumWritableBytes: src.count) { dst in
                var i = 0
                var o = 0
                while !stop {
                    let avail = src.count - i
                    if avail < 2 { break }
                    let b0 = src[i]
                    let b1 = src[i + 1]
                    let opcode = b0 & 0x0f
                    // RSV set (no extensions) or an unmasked client frame
                    if b0 & 0x70 != 0 || b1 & 0x80 == 0 {
                        stop = true
                        break
                    }
                    var length = Int(b1 & 0x7f)
                    var h = 2
                    if length == 126 {
                        if avail < 4 { break }
                        length = Int(src[i + 2]) << 8 | Int(src[i + 3])
                        h = 4
                    } else if length == 127 {
                        if avail < 10 { break }
                        var l: UInt64 = 0
                        for k in 2..<10 { l = l << 8 | UInt64(src[i + k]) }
                        if l > UInt64(Self.frameMax) {
                            stop = true
                            break
                        }
                        length = Int(l)
                        h = 10
                    }
                    if length > Self.frameMax || (opcode >= 8 && (length > 125 || b0 & 0x80 == 0)) {
                        stop = true
                        break
                    }
                    let total = h + 4 + length
                    if avail < total { break }
                    let replyB0: UInt8
                    switch opcode {
                    case 0x0, 0x1, 0x2: replyB0 = b0
                    case 0x9: replyB0 = 0x8a  // ping -> pong
                    case 0xa:  // pong: nothing
                        i += total
                        continue
                    case 0x8: replyB0 = 0x88
                    default:
                        stop = true
                        continue
                    }
                    dst[o] = replyB0
                    if length < 126 {
                        dst[o + 1] = UInt8(length)
                        o += 2
                    } else if length <= 0xffff {
                        dst[o + 1] = 126
                        dst[o + 2] = UInt8(length >> 8)
                        dst[o + 3] = UInt8(length & 0xff)
                        o += 4
                    } else {
                        dst[o + 1] = 127
                        for k in 0..<8 { dst[o + 2 + k] = UInt8(truncatingIfNeeded: length >> (8 * (7 - k))) }
                        o += 10
                    }
                    unmask(
                        src.baseAddress! + i + h + 4, count: length, mask: src.baseAddress! + i + h,
                        into: dst.baseAddress! + o)
                    o += length
                    i += total
                    if opcode == 0x8 { stop = true }  // close answered: nothing after it
                }
                consumed = i
                return o
            }
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        if stop {
            self.closing = true
        }
    }
}

/// dst[k] = src[k] ^ mask[k % 4], eight bytes at a time.
@inline(__always)
private func unmask(_ src: UnsafeRawPointer, count: Int, mask: UnsafeRawPointer, into dst: UnsafeMutableRawPointer) {
    let m32 = mask.loadUnaligned(as: UInt32.self)
    let m64 = UInt64(m32) | UInt64(m32) << 32  // the 4 mask bytes twice, in memory order either way
    var k = 0
    while k + 8 <= count {
        dst.storeBytes(of: src.loadUnaligned(fromByteOffset: k, as: UInt64.self) ^ m64, toByteOffset: k, as: UInt64.self)
        k += 8
    }
    while k < count {
        dst.storeBytes(
            of: src.load(fromByteOffset: k, as: UInt8.self) ^ mask.load(fromByteOffset: k & 3, as: UInt8.self),
            toByteOffset: k, as: UInt8.self)
        k += 1
    }
}
