import NIOCore
import NIOPosix
import Testing
import WSGateConfig
import WSGateWire

@testable import WSGateCore

/// The byte rules of bridges, without I/O (SPEC "Upstream bridges").
@Suite struct BridgeCodecTests {
    @Test func encodingChoice() {
        #expect(BridgeCodec.encoding(route: .binary, dialect: .rfc6455(version: 13), subprotocol: nil) == .binary)
        #expect(BridgeCodec.encoding(route: .text, dialect: .rfc6455(version: 13), subprotocol: nil) == .text)
        #expect(BridgeCodec.encoding(route: .binary, dialect: .rfc6455(version: 13), subprotocol: "base64") == .base64)
        #expect(BridgeCodec.encoding(route: .text, dialect: .rfc6455(version: 13), subprotocol: "base64") == .base64)
        #expect(BridgeCodec.encoding(route: .binary, dialect: .hixie76, subprotocol: nil) == .base64)
        #expect(BridgeCodec.encoding(route: .text, dialect: .hixie75, subprotocol: nil) == .text)
    }

    @Test func upstreamBytes() {
        let raw = ByteBuffer(bytes: [0, 1, 2, 255])
        #expect(BridgeCodec.upstreamBytes(for: .binary(raw), encoding: .binary) == raw)
        #expect(BridgeCodec.upstreamBytes(for: .text("AAEC/w=="), encoding: .base64) == raw)
        #expect(BridgeCodec.upstreamBytes(for: .text("héllo"), encoding: .text) == ByteBuffer(string: "héllo"))
        #expect(BridgeCodec.upstreamBytes(for: .text("not base64!"), encoding: .base64) == nil)
    }

    /// Every split of every UTF-8 length: the complete prefix plus the held-back tail is the input,
    /// and the prefix always ends on a character boundary.
    @Test func completeUTF8PrefixAtEverySplit() {
        let text = Array("aé€😀b😀".utf8)
        for cut in 0...text.count {
            let head = Array(text[0..<cut])
            let (complete, tail) = BridgeCodec.completeUTF8Prefix(head)
            #expect(complete + tail == head.count)
            #expect(tail <= 3)
            #expect(String(validating: head[0..<complete], as: UTF8.self) != nil, "cut \(cut)")
            // The held-back bytes plus the rest complete the text.
            #expect(String(validating: head[complete...] + text[cut...], as: UTF8.self) != nil, "cut \(cut)")
        }
    }

    /// `connect_timeout_ms` is honoured and reported as `.timeout` (the 504 of the SPEC), using a
    /// loopback listener whose accept queue is full.
    @Test func connectTimeoutMapsToTimeoutFailure() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let server = try ServerBootstrap(group: group).serverChannelOption(ChannelOptions.backlog, value: 0)
            .serverChannelOption(ChannelOptions.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }
        let port = server.localAddress!.port!
        // Fill the queue (these connects may hang; they run detached with their own timeout).
        var fillers: [EventLoopFuture<Channel>] = []
        for _ in 0..<3 {
            fillers.append(ClientBootstrap(group: group).connectTimeout(.seconds(2)).connect(host: "127.0.0.1", port: port))
        }
        _ = try? fillers[0].wait()
        let result = Result { try UpstreamConnector.connect(host: "127.0.0.1", port: port, timeoutMs: 200, eventLoop: group.next()).wait() }
        if case .failure(let error) = result {
            #expect(error as? UpstreamConnector.Failure == .timeout, "\(error)")
        } else {
            Issue.record("connect unexpectedly succeeded")
        }
        for filler in fillers { try? filler.wait().close().wait() }
    }
}
