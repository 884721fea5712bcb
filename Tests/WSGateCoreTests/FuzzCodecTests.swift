import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
import WSGateConfig
import WSGateWire

@testable import WSGateCore

/// SplitMix64: deterministic, so a failure replays from its seed.
struct FuzzRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random, truncated and mutated inputs into every parser: nothing crashes, nothing hangs (each
/// input is consumed with a bounded number of calls), and the time for the whole suite is bounded.
@Suite(.timeLimit(.minutes(1)))
struct FuzzCodecTests {
    static func mutate(_ seed: [UInt8], _ random: inout FuzzRandom, alphabet: [UInt8]) -> [UInt8] {
        var bytes = seed
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            switch Int.random(in: 0..<6, using: &random) {
            case 0: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
            case 1:
                if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &random)] = alphabet.randomElement(using: &random)! }
            case 2: bytes.insert(alphabet.randomElement(using: &random)!, at: Int.random(in: 0...bytes.count, using: &random))
            case 3:
                if !bytes.isEmpty { bytes.remove(at: Int.random(in: 0..<bytes.count, using: &random)) }
            case 4: bytes += (0..<Int.random(in: 0...32, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            default:
                if bytes.count > 2 {
                    let a = Int.random(in: 0..<bytes.count, using: &random)
                    let b = Int.random(in: a..<bytes.count, using: &random)
                    bytes.insert(contentsOf: bytes[a..<b], at: Int.random(in: 0...bytes.count, using: &random))
                }
            }
        }
        return bytes
    }

    /// Splits `bytes` into 1–4 chunks at random points.
    static func chunks(_ bytes: [UInt8], _ random: inout FuzzRandom) -> [[UInt8]] {
        var cuts = (0..<Int.random(in: 0...3, using: &random)).map { _ in Int.random(in: 0...bytes.count, using: &random) }.sorted()
        cuts.append(bytes.count)
        var start = 0
        return cuts.map { cut in
            defer { start = cut }
            return Array(bytes[start..<cut])
        }
    }

    @Test func httpHeadParser() {
        var random = FuzzRandom(state: 0x5EED_0001)
        let seeds = [
            "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            "GET / HTTP/1.0\r\n\r\n",
            "GET /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nOrigin: http://example.com\r\n\r\n^n:ds[4U",
        ].map { Array($0.utf8) }
        let alphabet = Array(" :\r\n\t/GETHP1.0\u{7f}".utf8) + [0, 0x80, 0xFF, 0xC3]
        var heads = 0
        var errors = 0
        for _ in 0..<4000 {
            let input = Self.mutate(seeds.randomElement(using: &random)!, &random, alphabet: alphabet)
            var parser = HTTPHeadParser(maxHeadSize: Int.random(in: 16...4096, using: &random))
            var buffer = ByteBuffer()
            outer: for chunk in Self.chunks(input, &random) {
                buffer.writeBytes(chunk)
                do {
                    if try parser.next(from: &buffer) != nil {
                        heads += 1
                        break outer
                    }
                } catch {
                    errors += 1
                    break outer
                }
            }
        }
        #expect(heads > 100 && errors > 100, "heads \(heads), errors \(errors)")
    }

    @Test(arguments: [HixieDialect.hixie75, .hixie76])
    func hixieFrameParser(dialect: HixieDialect) {
        var random = FuzzRandom(state: dialect == .hixie75 ? 0x5EED_0075 : 0x5EED_0076)
        let seeds: [[UInt8]] = [
            [0x00] + Array("hello".utf8) + [0xFF],
            [0x00] + Array("héllo €".utf8) + [0xFF, 0x00, 0xFF],
            [0x80, 0x03, 1, 2, 3, 0x00, 0x41, 0xFF],
            [0x81, 0x81, 0x01] + [UInt8](repeating: 7, count: 129) + [0xFF, 0x00],
            [0x05, 0x41, 0xFF],
        ]
        let alphabet: [UInt8] = [0x00, 0xFF, 0x80, 0x81, 0x41, 0xC3, 0xA9, 0xE2, 0xED, 0xF0, 0x7F]
        var frames = 0
        for _ in 0..<5000 {
            let input = Self.mutate(seeds.randomElement(using: &random)!, &random, alphabet: alphabet)
            var parser = HixieFrameParser(dialect: dialect, maxMessageSize: Int.random(in: 0...64, using: &random))
            var buffer = ByteBuffer()
            outer: for chunk in Self.chunks(input, &random) {
                buffer.writeBytes(chunk)
                // Bounded: every call either returns nil (needs more), a frame (consumed bytes) or throws.
                for _ in 0...(input.count + 1) {
                    let before = buffer.readerIndex
                    do {
                        guard let frame = try parser.next(from: &buffer) else { break }
                        frames += 1
                        if case .text(let bytes) = frame {
                            #expect(String(validating: bytes.readableBytesView, as: UTF8.self) != nil)
                        }
                        #expect(buffer.readerIndex > before, "a frame consumes input")
                        if frame == .close { break outer }
                    } catch {
                        break outer
                    }
                }
            }
        }
        #expect(frames > 100)
    }

    /// Random frames through NIO's `WebSocketFrameDecoder` in an `EmbeddedChannel`, then the
    /// assembler: every decoded frame gets an action; no crash, no unbounded growth.
    @Test func rfc6455DecoderAndAssembler() throws {
        var random = FuzzRandom(state: 0x5EED_6455)
        let alphabet: [UInt8] = [0x00, 0x01, 0x02, 0x08, 0x09, 0x0A, 0x80, 0x81, 0x82, 0x88, 0x89, 0x8A, 0xC1, 0x7E, 0x7F, 0xFF, 0xC3, 0xE2]
        func frame(_ b0: UInt8, _ payload: [UInt8], masked: Bool = true) -> [UInt8] {
            var out: [UInt8] = [b0, (masked ? 0x80 : 0) | UInt8(payload.count)]
            if masked { out += [0x11, 0x22, 0x33, 0x44] }
            let key: [UInt8] = [0x11, 0x22, 0x33, 0x44]
            out += payload.enumerated().map { masked ? $0.element ^ key[$0.offset % 4] : $0.element }
            return out
        }
        let seeds: [[UInt8]] = [
            frame(0x81, Array("hello".utf8)),
            frame(0x01, Array("hé".utf8)) + frame(0x89, [1, 2]) + frame(0x80, Array("llo".utf8)),
            frame(0x82, [0, 1, 2, 3, 255]),
            frame(0x88, [0x03, 0xE8] + Array("bye".utf8)),
            frame(0x8A, []),
            frame(0x81, [0xC3, 0x28]),
            frame(0x81, Array("unmasked".utf8), masked: false),
        ]
        var actions = 0
        for round in 0..<2500 {
            let channel = EmbeddedChannel()
            let maxSize = Int.random(in: 1...256, using: &random)
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxSize)))
            var assembler = RFC6455MessageAssembler(maxMessageSize: maxSize)
            var input: [UInt8] = []
            for _ in 0..<Int.random(in: 1...3, using: &random) { input += seeds.randomElement(using: &random)! }
            input = Self.mutate(input, &random, alphabet: alphabet)
            var failed = false
            for chunk in Self.chunks(input, &random) where !failed {
                do {
                    try channel.writeInbound(ByteBuffer(bytes: chunk))
                } catch {
                    failed = true  // a decoder error: the gateway closes 1002/1009
                }
                while let decoded = try? channel.readInbound(as: WebSocketFrame.self) {
                    actions += 1
                    switch assembler.receive(decoded) {
                    case .fail, .peerClosed: failed = true
                    case .message(let message):
                        if case .text(let bytes) = message {
                            #expect(String(validating: bytes.readableBytesView, as: UTF8.self) != nil, "round \(round)")
                        }
                        #expect(message.payload.readableBytes <= maxSize)
                    default: break
                    }
                    if failed { break }
                }
            }
            _ = try? channel.finish()
        }
        #expect(actions > 1000, "actions \(actions)")
    }

    /// `RFC6455FrameReader` (the gateway's decoder) against NIO's `WebSocketFrameDecoder` on the
    /// same random streams cut into the same random reads: the same frames (bits, key, payload) in
    /// the same order, and an error exactly where NIO's decoder has one, of the same kind.
    @Test func rfc6455FrameReaderAgreesWithNIOsDecoder() throws {
        var random = FuzzRandom(state: 0x5EED_F4A3)
        let alphabet: [UInt8] = [0x00, 0x01, 0x02, 0x08, 0x09, 0x0A, 0x7D, 0x7E, 0x7F, 0x80, 0x81, 0x82, 0x88, 0x89, 0x8A, 0xFE, 0xFF]
        func frame(_ b0: UInt8, _ payload: [UInt8], masked: Bool = true) -> [UInt8] {
            var out: [UInt8] = [b0]
            let maskBit: UInt8 = masked ? 0x80 : 0
            if payload.count < 126 {
                out.append(maskBit | UInt8(payload.count))
            } else {
                out += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
            }
            if masked { out += [0x11, 0x22, 0x33, 0x44] }
            return out + payload
        }
        let seeds: [[UInt8]] = [
            frame(0x81, Array("hello".utf8)), frame(0x01, [1, 2, 3]) + frame(0x80, [4]), frame(0x89, []),
            frame(0x82, [UInt8](repeating: 9, count: 300)), frame(0x88, [0x03, 0xE8]), frame(0x82, [1], masked: false),
        ]
        struct Seen: Equatable {
            var firstByte: UInt8
            var key: [UInt8]?
            var payload: [UInt8]
        }
        var compared = 0
        for round in 0..<2000 {
            let maxSize = Int.random(in: 1...400, using: &random)
            var input: [UInt8] = []
            for _ in 0..<Int.random(in: 1...4, using: &random) { input += seeds.randomElement(using: &random)! }
            input = Self.mutate(input, &random, alphabet: alphabet)
            let chunks = Self.chunks(input, &random)

            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxSize)))
            var theirs: [Seen] = []
            var theirError: NIOWebSocketError?
            for chunk in chunks where theirError == nil {
                do {
                    try channel.writeInbound(ByteBuffer(bytes: chunk))
                } catch let error as NIOWebSocketError {
                    theirError = error
                }
                while let decoded = try? channel.readInbound(as: WebSocketFrame.self) {
                    let ours = RFC6455Frame(decoded)
                    theirs.append(Seen(firstByte: ours.firstByte, key: decoded.maskKey.map { Array($0) }, payload: Array(decoded.data.readableBytesView)))
                }
            }
            _ = try? channel.finish()

            var reader = RFC6455FrameReader(maxFrameSize: maxSize)
            var ours: [Seen] = []
            var ourError: NIOWebSocketError?
            reading: for chunk in chunks {
                reader.append(ByteBuffer(bytes: chunk))
                do {
                    while let next = try reader.next() {
                        ours.append(Seen(firstByte: next.firstByte, key: next.maskKey.map { [$0.0, $0.1, $0.2, $0.3] }, payload: Array(next.data.readableBytesView)))
                    }
                } catch {
                    ourError = error
                    break reading
                }
            }
            #expect(ours == theirs, "round \(round)")
            #expect(ourError == theirError, "round \(round): \(String(describing: ourError)) vs \(String(describing: theirError))")
            compared += ours.count
        }
        #expect(compared > 1000, "frames compared: \(compared)")
    }

    @Test func configLoaderParse() {
        var random = FuzzRandom(state: 0x5EED_C0F1)
        let seed = Array("""
            listeners:
              - bind: 127.0.0.1:8080
              - bind: 127.0.0.1:9000
                tls: { cert: certs-dev/server.crt, key: certs-dev/server.key, plain: accept }
            admin:
              bind: 127.0.0.1:9901
            limits:
              max_connections: 10
              ping_interval_s: 0
            routes:
              - path: /chat
                room: lobby
                origins: [http://a, "https://b"]
              - path: /up
                upstream: tcp://127.0.0.1:7000
                encoding: text
                connect_timeout_ms: 100
            """.utf8)
        let alphabet = Array(" \t\n-:#'\"[]{},&*!|>?%@`\\/~az09_".utf8) + [0xC3, 0xA9]
        var valid = 0
        for _ in 0..<1500 {
            let text = String(decoding: Self.mutate(seed, &random, alphabet: alphabet), as: UTF8.self)
            do {
                _ = try ConfigLoader.parse(text, file: "fuzz.yaml", baseDirectory: "/")
                valid += 1
            } catch {
                #expect(!error.errors.isEmpty)
                for problem in error.errors { #expect(problem.description.hasPrefix("fuzz.yaml:")) }
            }
        }
        #expect(valid > 0)
    }
}
