import ArgumentParser
import Foundation
import NIOPosix
import WSGateClient
import WSGateWire

/// `wsgate-bench`: a load generator for wsgate (and its peers), RFC 6455 and hixie-76, ws:// and
/// wss://, loopback only. Every run stops by itself, prints the exact command line, a table, and
/// one JSON line.
@main
struct WSGateBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wsgate-bench",
        abstract: "Load generator for WebSocket servers on loopback (RFC 6455 and hixie-76, ws:// and wss://).",
        subcommands: [Echo.self, Broadcast.self, Idle.self, Bridge.self]
    )
}

/// Options every mode takes.
struct CommonOptions: ParsableArguments {
    @Option(help: "Target URL, ws:// or wss:// on 127.0.0.0/8 or localhost.")
    var url: String

    @Option(help: "Measured window, seconds.")
    var duration: Double = 10

    @Option(help: "The server's process id: report its CPU time and RSS over the window (from /proc).")
    var serverPid: Int32?

    @Option(help: "CA certificate that signs the server's certificate (wss://).")
    var ca: String = "certs-dev/ca.crt"

    @Option(help: "Client event-loop threads.")
    var threads: Int = 1

    @Option(help: "Subprotocol to offer (Sec-WebSocket-Protocol), e.g. lws-mirror-protocol. Default: none.")
    var subprotocol: String?

    @Option(name: .customLong("header"), help: "An extra request header, `Name: value` (repeatable), e.g. an Authorization token.")
    var headers: [String] = []

    @Flag(help: "Offer permessage-deflate (RFC 7692) with client_max_window_bits on RFC 6455 connections; messages of 64 bytes or more go out compressed when it is negotiated.")
    var compression = false

    @Option(help: "With --compression: the client_max_window_bits to offer, 9...15 (15 offers it without a value).")
    var clientMaxWindowBits: Int = 15

    @Flag(help: "wss://: resume TLS sessions (every connection offers the newest session the server gave and stores the ones it gets); the report counts the handshakes that resumed. idle opens one connection first, not measured, so that the measured ones all have a session to offer.")
    var tlsResume = false

    /// The client's event loops. Also keeps message-sized buffers in glibc's heap (as `wsgate` does at
    /// start) so that the client does not pay a fresh mmap, page faults and zeroing per large frame.
    func makeGroup() -> MultiThreadedEventLoopGroup {
        _ = glibcMallopt(-3, 8 << 20)  // M_MMAP_THRESHOLD (malloc.h)
        _ = glibcMallopt(-1, 32 << 20)  // M_TRIM_THRESHOLD (malloc.h)
        return MultiThreadedEventLoopGroup(numberOfThreads: self.threads)
    }
    func connector() throws -> BenchConnector {
        let headers = self.headers.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        guard (9...15).contains(self.clientMaxWindowBits) else { throw BenchError("--client-max-window-bits must be 9...15") }
        return try BenchConnector(
            target: BenchTarget(url: self.url), caPath: self.ca, subprotocols: self.subprotocol.map { [$0] } ?? [], headers: headers,
            compression: self.compression ? PerMessageDeflateClientOffer(clientMaxWindowBits: self.clientMaxWindowBits) : nil,
            resumesTLSSessions: self.tlsResume)
    }
}

extension BenchPayloadKind: ExpressibleByArgument {}

/// `--payload`, for the modes that send timed messages.
struct PayloadOptions: ParsableArguments {
    @Option(help: "Message content: plain (numbers, then x padding) or json (chat-like JSON text of --size bytes).")
    var payload: BenchPayloadKind = .plain
}

/// glibc's `mallopt` (malloc.h is not part of the Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

func commandLineText() -> String {
    CommandLine.arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
}

func parseDialects(_ text: String) throws -> [ClientDialect] {
    try text.split(separator: ",").map { try ClientDialect(benchName: String($0)) }
}

struct Echo: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "N connections, closed loop against an echo route.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Connections.") var connections: Int = 64
    @Option(help: "Message size, bytes.") var size: Int = 64
    @Option(help: "Messages in flight per connection.") var inFlight: Int = 1
    @Option(help: "rfc6455 or hixie76.") var dialect: String = "rfc6455"
    @OptionGroup var payload: PayloadOptions

    func run() throws {
        let group = self.common.makeGroup()
        defer { try? group.syncShutdownGracefully() }
        try EchoBench.run(
            connector: self.common.connector(), dialect: ClientDialect(benchName: self.dialect), connections: self.connections,
            size: self.size, payload: self.payload.payload, inFlight: self.inFlight, duration: self.common.duration, serverPID: self.common.serverPid,
            group: group, commandLine: commandLineText()
        ).print()
    }
}

struct Broadcast: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "R receivers and S senders in one room at a fixed total rate.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Receivers.") var receivers: Int = 200
    @Option(help: "Senders.") var senders: Int = 1
    @Option(help: "Total messages per second offered.") var rate: Double = 2000
    @Option(help: "Message size, bytes.") var size: Int = 64
    @Option(help: "Receiver dialects, comma-separated, used in turn (rfc6455,hixie76).") var dialects: String = "rfc6455"
    @Option(help: "A second gateway of the same cluster: receivers and senders alternate between --url and this one.")
    var url2: String?
    @Option(help: "The second gateway's process id (its CPU per delivery).") var server2Pid: Int32?
    @Option(help: "Redis's process id (its CPU per message).") var redisPid: Int32?
    @Flag(help: "After the window, wait (at most 10 s) until every receiver has every message: missing then means lost, not late.")
    var waitForAll = false
    @OptionGroup var payload: PayloadOptions

    func run() throws {
        let group = self.common.makeGroup()
        defer { try? group.syncShutdownGracefully() }
        let second = try self.url2.map {
            try BenchConnector(target: BenchTarget(url: $0), caPath: self.common.ca, subprotocols: self.common.subprotocol.map { [$0] } ?? [])
        }
        var watched: [BroadcastBench.Watched] = []
        if second != nil, let pid = self.common.serverPid { watched.append(.init(label: "gateway 1", pid: pid, receiverParity: 0)) }
        if let pid = self.server2Pid { watched.append(.init(label: "gateway 2", pid: pid, receiverParity: 1)) }
        if let pid = self.redisPid { watched.append(.init(label: "redis", pid: pid, receiverParity: nil)) }
        try BroadcastBench.run(
            connector: self.common.connector(), connector2: second, dialects: parseDialects(self.dialects), receivers: self.receivers,
            senders: self.senders, rate: self.rate, size: self.size, payload: self.payload.payload, duration: self.common.duration,
            serverPID: self.common.serverPid, watched: watched, waitForAll: self.waitForAll, group: group, commandLine: commandLineText()
        ).print()
    }
}

struct Idle: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "N connections held open; server RSS per connection.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Connections.") var connections: Int = 10000
    @Option(help: "Dialects, comma-separated, used in turn (rfc6455,hixie76).") var dialects: String = "rfc6455,hixie76"
    @Option(help: "Spread source addresses over this many of 127.0.0.2, 127.0.0.3, ...") var sourceAddresses: Int = 8
    @Option(help: "After connecting, each connection sends one JSON message of this many bytes and waits for one back (an echo route; with --compression both go compressed), then all idle; 0: none.")
    var warmSize: Int = 0

    func run() throws {
        let group = self.common.makeGroup()
        defer { try? group.syncShutdownGracefully() }
        try IdleBench.run(
            connector: self.common.connector(), dialects: parseDialects(self.dialects), connections: self.connections,
            sourceAddresses: self.sourceAddresses, warmSize: self.warmSize, hold: self.common.duration, serverPID: self.common.serverPid,
            group: group, commandLine: commandLineText()
        ).print()
    }
}

struct Bridge: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Binary messages through an upstream route to the bench's TCP echo.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Connections.") var connections: Int = 4
    @Option(help: "Message size, bytes.") var size: Int = 65536
    @Option(help: "Messages in flight per connection.") var inFlight: Int = 4
    @Option(help: "Port of the TCP echo the bench runs on 127.0.0.1 (the route's upstream).") var upstreamPort: Int = 7001

    func run() throws {
        let group = self.common.makeGroup()
        defer { try? group.syncShutdownGracefully() }
        try BridgeBench.run(
            connector: self.common.connector(), connections: self.connections, size: self.size, inFlight: self.inFlight,
            duration: self.common.duration, upstreamPort: self.upstreamPort, serverPID: self.common.serverPid,
            group: group, commandLine: commandLineText()
        ).print()
    }
}
