import Foundation
import NIOCore
import NIOPosix
import Testing
import WSGateTLS

/// Writes back what it reads; closes once it has echoed a newline.
private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        let sawNewline = buffer.readableBytesView.contains(UInt8(ascii: "\n"))
        context.writeAndFlush(data).assumeIsolated().whenComplete { _ in
            if sawNewline { context.close(promise: nil) }
        }
    }
}

@Suite(.serialized, .timeLimit(.minutes(1))) struct TLSLoopbackTests {
    @Test func opensslSClientGetsItsLineEchoedOverVerifiedTLS() async throws {
        let (group, listener, port) = try await startEchoListener()

        let (status, output, errors) = try runSClient(port: port, input: "hello over tls\n", timeout: 15)
        try await listener.close().get()
        try await group.shutdownGracefully()

        #expect(status == 0, "s_client stderr: \(errors)")
        #expect(output == "hello over tls\n")
    }

    /// The server's cipher order wins over the client's: AES-128-GCM first (TLS 1.3 and 1.2), even when
    /// the client lists AES-256-GCM before it.
    @Test(arguments: [
        (["-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"], "TLS_AES_128_GCM_SHA256"),
        (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256"], "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ])
    func serverPrefersAES128GCMOverTheClientsOrder(clientArguments: [String], expectedSuite: String) async throws {
        let (group, listener, port) = try await startEchoListener()

        let (status, output, errors) = try runSClient(port: port, input: "which suite\n", timeout: 15,
                                                      extraArguments: ["-brief"] + clientArguments)
        try await listener.close().get()
        try await group.shutdownGracefully()

        #expect(status == 0, "s_client stderr: \(errors)")
        #expect(output == "which suite\n")
        #expect(errors.contains("Ciphersuite: \(expectedSuite)"), "s_client stderr: \(errors)")
    }

    /// A TLS echo server (the development certificate) on 127.0.0.1, on a port of its own.
    private func startEchoListener() async throws -> (MultiThreadedEventLoopGroup, Channel, Int) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let serverContext = try TLSContext(certificatePath: TestCertificates.path("server.crt"),
                                           keyPath: TestCertificates.path("server.key"))
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        TLSHandler(context: serverContext, role: .server), EchoHandler(),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(listener.localAddress?.port)
        return (group, listener, port)
    }

    /// Runs `openssl s_client` against 127.0.0.1:port, verifying the chain and the IP, sends `input`,
    /// and returns its exit status, standard output and standard error. Killed after `timeout` seconds.
    private func runSClient(port: Int, input: String, timeout: Double,
                            extraArguments: [String] = []) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", TestCertificates.path("ca.crt"),
            "-verify_return_error", "-verify_ip", "127.0.0.1", "-alpn", "http/1.1", "-quiet",
        ] + extraArguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("openssl s_client did not finish within \(timeout) s")
        }
        try? stdin.fileHandleForWriting.close()
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, output, errors)
    }
}
