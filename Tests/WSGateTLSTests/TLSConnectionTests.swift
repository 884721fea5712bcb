import NIOCore
import Testing
@testable import WSGateTLS

/// `TLSConnection` without a channel: ciphertext handed across by hand.
@Suite struct TLSConnectionTests {
    /// A client and a server connection past the handshake.
    private func connectedPair() throws -> (client: TLSConnection, server: TLSConnection) {
        let client = try TLSConnection(context: TestCertificates.clientContext(), role: .client(serverName: "localhost"))
        let server = try TLSConnection(context: TestCertificates.serverContext(), role: .server)
        var clientDone = false
        var serverDone = false
        for _ in 0..<10 where !(clientDone && serverDone) {
            if case .complete = client.doHandshake() { clientDone = true }
            if let bytes = client.takeCiphertext() { server.receiveFromNetwork(bytes) }
            if case .complete = server.doHandshake() { serverDone = true }
            if let bytes = server.takeCiphertext() { client.receiveFromNetwork(bytes) }
        }
        try #require(clientDone && serverDone)
        return (client, server)
    }

    /// Reads every plaintext byte available; the count.
    private func readAll(_ connection: TLSConnection) -> Int {
        var count = 0
        while case .complete(.plaintext(let plaintext)) = connection.readPlaintext(allocator: ByteBufferAllocator()) {
            count += plaintext.readableBytes
        }
        return count
    }

    @Test func ciphertextEndingInsideARecordKeepsNoReceiveBufferAlive() throws {
        let (client, server) = try connectedPair()
        let plaintext = ByteBuffer(repeating: 0x5A, count: 40_000)  // records of 16,384 + 16,384 + 7,232
        guard case .complete = client.writePlaintext(plaintext) else {
            Issue.record("the client could not encrypt")
            return
        }
        let ciphertext = try #require(client.takeCiphertext())
        // As NIO hands it over: one large receive buffer, here holding all but the last 100 bytes.
        var receiveBuffer = ByteBufferAllocator().buffer(capacity: 256 * 1024)
        receiveBuffer.writeImmutableBuffer(ciphertext.getSlice(at: ciphertext.readerIndex, length: ciphertext.readableBytes - 100)!)
        server.receiveFromNetwork(receiveBuffer)
        receiveBuffer = ByteBuffer()

        #expect(readAll(server) == 32_768, "the two whole records")
        #expect(server.queuedCiphertextStorage < 16 * 1024, "the third record's start, not the 256 KiB buffer")

        server.receiveFromNetwork(ciphertext.getSlice(at: ciphertext.writerIndex - 100, length: 100)!)
        #expect(readAll(server) == 40_000 - 32_768)
        #expect(server.queuedCiphertextStorage == 0)
    }

    @Test func ciphertextInManySmallPiecesIsReadWhole() throws {
        let (client, server) = try connectedPair()
        let plaintext = ByteBuffer(bytes: (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        guard case .complete = client.writePlaintext(plaintext) else {
            Issue.record("the client could not encrypt")
            return
        }
        var ciphertext = try #require(client.takeCiphertext())
        var received = 0
        while ciphertext.readableBytes > 0 {
            server.receiveFromNetwork(ciphertext.readSlice(length: min(777, ciphertext.readableBytes))!)
            received += readAll(server)
        }
        #expect(received == 50_000)
        #expect(server.queuedCiphertextStorage == 0)
    }
}
