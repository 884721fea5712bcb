// NIOFloorServer PORT: the NIO floor for Benchmarks/run.sh's echo scenario (see FloorHandler.swift).
// ServerBootstrap on 127.0.0.1:PORT, NIOPosix, one event loop per core, TCP_NODELAY, one
// FloorHandler per connection and nothing else in the pipeline.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Unbuffered, straight to the descriptor (a log file sees it at once).
func say(_ text: String, to fd: Int32) {
    var text = text
    text.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
}

let arguments = CommandLine.arguments
guard arguments.count == 2, let port = Int(arguments[1]), (1...65535).contains(port) else {
    say("usage: NIOFloorServer PORT\n", to: 2)
    exit(2)
}
// The accept value of RFC 6455's own example, checked before serving.
precondition(base64(sha1(Array("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11".utf8)))
    == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "SHA-1/base64 self-check failed")

let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(ChannelOptions.backlog, value: 1024)
    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(FloorHandler(allocator: channel.allocator))
        }
    }
let server = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
say("NIOFloorServer listening on 127.0.0.1:\(port), \(System.coreCount) event loops\n", to: 1)
try server.closeFuture.wait()
