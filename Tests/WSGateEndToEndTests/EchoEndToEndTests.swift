import Foundation
import NIOCore
import Testing
import WSGateWire

/// Issue #3: RFC 6455 framing on an echo route, with python websockets and with raw bytes.
@Suite(.serialized, .timeLimit(.minutes(1)))
final class EchoEndToEndTests {
    let harness: GatewayHarness
    var port: Int { self.harness.port }

    init() throws {
        self.harness = try GatewayHarness(
            yaml: GatewayHarness.yaml(routes: """
                  - path: /echo
                    echo: true
                  - path: /small
                    echo: true
                    max_message_bytes: 1024

                """))
    }

    deinit { self.harness.stop() }

    @Test func pythonWebsocketsGetsTextAndBinaryBack() throws {
        let lines = try rfcPython("""
            async def main():
                async with websockets.connect(URL + "/echo") as ws:
                    await ws.send("héllo €")
                    t = await ws.recv()
                    await ws.send(bytes(range(256)))
                    b = await ws.recv()
                    await ws.send("")
                    e = await ws.recv()
                    print(json.dumps({"text": t, "binary": list(b) == list(range(256)), "binaryType": type(b).__name__, "empty": e}))
            asyncio.run(main())
            """, port: self.port)
        let json = try #require(lines.last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect(json["text"] as? String == "héllo €")
        #expect(json["binary"] as? Bool == true)
        #expect(json["binaryType"] as? String == "bytes")
        #expect(json["empty"] as? String == "")
    }

    @Test func aOneMiBMessageComesBackWhole() throws {
        let lines = try rfcPython("""
            import hashlib, os
            async def main():
                payload = os.urandom(1 << 20)
                async with websockets.connect(URL + "/echo", max_size=None) as ws:
                    await ws.send(payload)
                    back = await ws.recv()
                    print(len(back), back == payload)
            asyncio.run(main())
            """, port: self.port, timeout: 30)
        #expect(lines == ["1048576 True"])
    }

    @Test func aMessageOverTheRoutesLimitIsClosedWith1009() throws {
        let lines = try rfcPython("""
            async def main():
                async with websockets.connect(URL + "/small") as ws:
                    await ws.send("a" * 1024)
                    print("ok", len(await ws.recv()))
                    await ws.send("b" * 2000)
                    try:
                        await asyncio.wait_for(ws.recv(), 5)
                        print("no close")
                    except websockets.ConnectionClosed as e:
                        print("closed", e.rcvd.code if e.rcvd else None)
            asyncio.run(main())
            """, port: self.port)
        #expect(lines == ["ok 1024", "closed 1009"])
    }

    @Test func aFragmentedMessageOverTheLimitIsClosedWith1009() throws {
        let socket = try rfcOpenWebSocket(port: self.port, path: "/small")
        socket.send(rfcClientFrame(.binary, [UInt8](repeating: 1, count: 600), fin: false))
        socket.send(rfcClientFrame(.continuation, [UInt8](repeating: 2, count: 600)))
        #expect(socket.readToEnd())
        #expect(rfcParseFrames(socket.takePending()).frames.last?.closeCode == 1009)
    }

    @Test func fragmentsWithAnInterleavedPingComeBackAsAPongThenOneMessage() throws {
        let socket = try rfcOpenWebSocket(port: self.port, path: "/echo")
        socket.send(rfcClientFrame(.text, "Hel", fin: false))
        socket.send(rfcClientFrame(.ping, "are you there"))
        socket.send(rfcClientFrame(.continuation, "l", fin: false))
        socket.send(rfcClientFrame(.continuation, "o"))
        let frames = socket.readFrames(2)
        #expect(frames == [
            RFCFrame(fin: true, opcode: 0xA, payload: Array("are you there".utf8)),
            RFCFrame(fin: true, opcode: 0x1, payload: Array("Hello".utf8)),
        ])
    }

    @Test func aCharacterSplitAcrossFragmentsIsAccepted() throws {
        let socket = try rfcOpenWebSocket(port: self.port, path: "/echo")
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        socket.send(rfcClientFrame(.text, [0x41, euro[0]], fin: false))
        socket.send(rfcClientFrame(.continuation, [euro[1], euro[2], 0x42]))
        #expect(socket.readFrames(1).first?.text == "A€B")
    }

    @Test func aPingIsAnsweredWithAPongCarryingItsPayload() throws {
        let socket = try rfcOpenWebSocket(port: self.port, path: "/echo")
        socket.send(rfcClientFrame(.ping, [1, 2, 3]))
        #expect(socket.readFrames(1) == [RFCFrame(fin: true, opcode: 0xA, payload: [1, 2, 3])])
    }

    @Test func theCloseHandshakeEchoesTheCodeAndEndsTheConnection() throws {
        let socket = try rfcOpenWebSocket(port: self.port, path: "/echo")
        socket.send(rfcClientClose(4000, Array("bye".utf8)))
        #expect(socket.readToEnd())
        let frames = rfcParseFrames(socket.takePending()).frames
        #expect(frames.count == 1)
        #expect(frames.first?.closeCode == 4000)
    }

    @Test func pythonWebsocketsSeesItsCloseCodeEchoed() throws {
        let lines = try rfcPython("""
            async def main():
                ws = await websockets.connect(URL + "/echo")
                await ws.close(code=1001, reason="leaving")
                print(ws.close_code)
            asyncio.run(main())
            """, port: self.port)
        #expect(lines == ["1001"])
    }

    /// Frames that break a rule, and the close code each must get.
    static let violations: [(String, [UInt8], UInt16)] = [
        ("unmasked frame", Array(RFC6455FrameEncoder.frame(opcode: .text, payload: ByteBuffer(string: "hi")).readableBytesView), 1002),
        ("RSV1 without an extension", rfcClientFrame(.text, Array("x".utf8), firstByte: 0xC1), 1002),
        ("RSV2", rfcClientFrame(.text, Array("x".utf8), firstByte: 0xA1), 1002),
        ("RSV3", rfcClientFrame(.text, Array("x".utf8), firstByte: 0x91), 1002),
        ("reserved data opcode 3", rfcClientFrame(.text, Array("x".utf8), firstByte: 0x83), 1002),
        ("reserved control opcode 0xB", rfcClientFrame(.text, Array("x".utf8), firstByte: 0x8B), 1002),
        ("fragmented ping", rfcClientFrame(.ping, Array("x".utf8), fin: false), 1002),
        ("ping over 125 bytes", rfcClientFrame(.ping, [UInt8](repeating: 0x61, count: 126)), 1002),
        ("close over 125 bytes", rfcClientClose(1000, [UInt8](repeating: 0x61, count: 124)), 1002),
        ("continuation with nothing to continue", rfcClientFrame(.continuation, "x"), 1002),
        ("new message inside a fragmented one", rfcClientFrame(.text, "a", fin: false) + rfcClientFrame(.text, "b"), 1002),
        ("close code 1005", rfcClientClose(1005), 1002),
        ("close code 999", rfcClientClose(999), 1002),
        ("close code 1100", rfcClientClose(1100), 1002),
        ("close code 2999", rfcClientClose(2999), 1002),
        ("one-byte close body", rfcClientFrame(.close, [0x03]), 1002),
        ("invalid UTF-8 in a close reason", rfcClientClose(1000, [0xED, 0xA0, 0x80]), 1007),
        ("invalid UTF-8 in a text frame", rfcClientFrame(.text, [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80, 0x65, 0x64]), 1007),
        ("invalid UTF-8 across fragments", rfcClientFrame(.text, [0x41, 0xF4], fin: false) + rfcClientFrame(.continuation, [0x90, 0x80, 0x80]), 1007),
        ("text ending inside a character", rfcClientFrame(.text, [0x41, 0xE2, 0x82]), 1007),
        ("overlong encoding", rfcClientFrame(.text, [0xC0, 0xAF]), 1007),
    ]

    @Test(arguments: EchoEndToEndTests.violations)
    func aProtocolViolationIsClosedWithItsCode(_ name: String, _ bytes: [UInt8], _ code: UInt16) throws {
        let socket = try rfcOpenWebSocket(port: self.port, path: "/echo")
        socket.send(bytes)
        socket.send(rfcClientFrame(.text, "after"))  // must never be echoed
        #expect(socket.readToEnd(), "\(name): the connection stays open")
        let frames = rfcParseFrames(socket.takePending()).frames
        #expect(frames.last?.opcode == 0x8, "\(name): no close frame")
        #expect(frames.last?.closeCode == code, "\(name)")
        #expect(!frames.contains { $0.text == "after" }, "\(name)")
    }

    @Test func anInvalidUTF8MessageFailsPythonWebsocketsWith1007() throws {
        let lines = try rfcPython("""
            async def main():
                async with websockets.connect(URL + "/echo") as ws:
                    await ws.send("fine")
                    print(await ws.recv())
                    # a raw text frame with a lone surrogate, masked by the library's own writer
                    await ws.write_frame(True, websockets.frames.OP_TEXT, b"\\xed\\xa0\\x80")
                    try:
                        await asyncio.wait_for(ws.recv(), 5)
                        print("no close")
                    except websockets.ConnectionClosed as e:
                        print("closed", e.rcvd.code if e.rcvd else None)
            asyncio.run(main())
            """, port: self.port)
        #expect(lines == ["fine", "closed 1007"])
    }
}
