import Foundation
import NIOCore
import Testing
import WSGateWire

/// Where the interop suite finds Python (installed by scripts/test.sh).
enum PythonZlib {
    static let python = "/usr/bin/python3"
    static let isAvailable = FileManager.default.isExecutableFile(atPath: python)
}

/// Round trips against an independent permessage-deflate codec: Python's `zlib` module, as
/// Python's `websockets` library uses it (raw deflate, `Z_SYNC_FLUSH`, tail removed / appended).
@Suite(.serialized, .timeLimit(.minutes(2)), .enabled(if: PythonZlib.isAvailable))
struct PerMessageDeflateInteropTests {
    static let python = PythonZlib.python

    /// Reads length-prefixed records from argv[4], writes the results to argv[5].
    static let script = #"""
        import struct, sys, zlib
        mode, wbits, no_context_takeover = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
        data = open(sys.argv[4], "rb").read()
        records, i = [], 0
        while i < len(data):
            (n,) = struct.unpack(">I", data[i:i + 4])
            records.append(data[i + 4:i + 4 + n])
            i += 4 + n
        tail, out, codec = b"\x00\x00\xff\xff", [], None
        for record in records:
            if mode == "compress":
                if codec is None or no_context_takeover:
                    codec = zlib.compressobj(6, zlib.DEFLATED, -wbits)
                block = codec.compress(record) + codec.flush(zlib.Z_SYNC_FLUSH)
                assert block.endswith(tail)
                out.append(block[:-4])
            else:
                if codec is None or no_context_takeover:
                    codec = zlib.decompressobj(wbits=-wbits)
                out.append(codec.decompress(record + tail))
        with open(sys.argv[5], "wb") as f:
            for o in out:
                f.write(struct.pack(">I", len(o)) + o)
        """#

    static func encode(_ records: [[UInt8]]) -> Data {
        var data = Data()
        for record in records {
            withUnsafeBytes(of: UInt32(record.count).bigEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: record)
        }
        return data
    }

    static func decode(_ data: Data) -> [[UInt8]] {
        let bytes = [UInt8](data)
        var records: [[UInt8]] = []
        var index = 0
        while index + 4 <= bytes.count {
            let count = bytes[index..<index + 4].reduce(0) { $0 << 8 | Int($1) }
            records.append(Array(bytes[index + 4..<index + 4 + count]))
            index += 4 + count
        }
        return records
    }

    /// Runs the script on `records`; at most 30 s.
    static func runPython(_ mode: String, windowBits: Int, noContextTakeover: Bool, _ records: [[UInt8]]) throws -> [[UInt8]] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-deflate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in")
        let output = directory.appendingPathComponent("out")
        try Self.encode(records).write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = ["-c", Self.script, mode, "\(windowBits)", noContextTakeover ? "1" : "0", input.path, output.path]
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("python3 did not finish within 30 s")
            return []
        }
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(errors)")
        return Self.decode(try Data(contentsOf: output))
    }

    static func messages(seed: UInt64) -> [[UInt8]] {
        var random = SeededGenerator(state: seed)
        return DeflateTestData.messages(seed: seed) + (0..<20).map { _ in DeflateTestData.chat(Int.random(in: 1...400, using: &random), &random) }
    }

    @Test(arguments: 9...15)
    func pythonInflatesWhatWeDeflate(windowBits: Int) throws {
        for noContextTakeover in [false, true] {
            let messages = Self.messages(seed: 0x1000 + UInt64(windowBits))
            let deflater = Deflater(windowBits: windowBits, noContextTakeover: noContextTakeover)
            let compressed = messages.map { DeflateTestData.bytes(deflater.compress(ByteBuffer(bytes: $0))) }
            let inflated = try Self.runPython("decompress", windowBits: windowBits, noContextTakeover: noContextTakeover, compressed)
            #expect(inflated == messages, "windowBits \(windowBits), no context takeover \(noContextTakeover)")
        }
    }

    @Test(arguments: 9...15)
    func weInflateWhatPythonDeflates(windowBits: Int) throws {
        var random = SeededGenerator(state: 0x2000 + UInt64(windowBits))
        for noContextTakeover in [false, true] {
            let messages = Self.messages(seed: 0x2000 + UInt64(windowBits))
            let compressed = try Self.runPython("compress", windowBits: windowBits, noContextTakeover: noContextTakeover, messages)
            try #require(compressed.count == messages.count)
            let inflater = Inflater(windowBits: windowBits, noContextTakeover: noContextTakeover)
            for (message, payload) in zip(messages, compressed) {
                let pieces = DeflateTestData.split(ByteBuffer(bytes: payload), pieces: Int.random(in: 1...4, using: &random), &random)
                let inflated = try inflater.decompress(fragments: pieces, maxOutputBytes: message.count)
                #expect(DeflateTestData.bytes(inflated) == message, "windowBits \(windowBits), no context takeover \(noContextTakeover)")
            }
        }
    }
}
