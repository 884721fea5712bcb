import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
import WSGateConfig
import WSGateWire

/// One fuzz input through every parser that reads peer (or operator) bytes. The first byte picks
/// the parser; the rest is its input. Nothing may crash or hang, whatever the bytes.
enum FuzzTarget {
    static func run(_ data: [UInt8]) {
        guard let selector = data.first else { return }
        let input = Array(data.dropFirst())
        switch selector % 5 {
        case 0:
            var parser = HTTPHeadParser()
            var buffer = ByteBuffer(bytes: input)
            _ = try? parser.next(from: &buffer)
        case 1, 2:
            var parser = HixieFrameParser(dialect: selector % 5 == 1 ? .hixie75 : .hixie76, maxMessageSize: 4096)
            var buffer = ByteBuffer(bytes: input)
            while let frame = try? parser.next(from: &buffer) { _ = frame }
        case 3:
            // The gateway's own RFC 6455 reader (what production runs), in two reads cut where the
            // second byte says, then the assembler.
            var reader = RFC6455FrameReader(maxFrameSize: 1 << 16)
            var assembler = RFC6455MessageAssembler(maxMessageSize: 1 << 16)
            let cut = input.isEmpty ? 0 : Int(input[0]) % (input.count + 1)
            reading: for part in [input[..<cut], input[cut...]] {
                reader.append(ByteBuffer(bytes: part))
                while let frame = try? reader.next() {
                    if case .fail = assembler.receive(frame) { break reading }
                }
            }
        default:
            let text = String(decoding: input, as: UTF8.self)
            _ = try? ConfigLoader.parse(text, file: "fuzz.yaml", baseDirectory: "/nonexistent")
        }
    }
}

#if FUZZING
/// libFuzzer's entry point (built with `-sanitize=fuzzer -D FUZZING`, see README).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    FuzzTarget.run(Array(UnsafeRawBufferPointer(start: start, count: count)))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt
) -> CInt

/// SwiftPM links an executable's `main` to `<module>_main`; hand control to libFuzzer's driver.
@_cdecl("WSGateFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return llvmFuzzerRunDriver(&argc, &argv, fuzzTestOneInput)
}
#else
/// Without libFuzzer: replays the files named on the command line (a corpus or a crash).
@main
struct FuzzReplay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            FuzzTarget.run(Array(data))
        }
        print("replayed \(CommandLine.arguments.count - 1) inputs")
    }
}
#endif
