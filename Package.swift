// swift-tools-version:6.0
import PackageDescription

// Dependencies, and why each one is here:
// - swift-nio: the I/O foundation (event loops, channels, ByteBuffer, the RFC 6455 frame codec).
// - swift-argument-parser: the `wsgate` / `wsgate check` / `wsgate-bench` command lines.
// - swift-log: one logging API for the gateway core and the executables.
// - swift-metrics + swift-prometheus: the gateway's counters, exported at /metrics in Prometheus text.
// - hdrhistogram-swift: latency percentiles (p50/p99/max) in wsgate-bench.
// - OpenSSL (system, libssl-dev): TLS termination and the SHA-1/MD5 digests of the handshakes.
// - WSGateRedis is ours (RESP2/3 on SwiftNIO, for the cluster): no Redis package is in our mirror.
let nio = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioWebSocket = Target.Dependency.product(name: "NIOWebSocket", package: "swift-nio")
let nioEmbedded = Target.Dependency.product(name: "NIOEmbedded", package: "swift-nio")
let concurrency = Target.Dependency.product(name: "NIOConcurrencyHelpers", package: "swift-nio")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "wsgate",
    products: [
        .executable(name: "wsgate", targets: ["wsgate"]),
        .executable(name: "wsgate-bench", targets: ["WSGateBench"]),
        .executable(name: "wsgate-fuzz", targets: ["WSGateFuzz"]),
        .library(name: "WSGateCore", targets: ["WSGateCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "WSGateWire", dependencies: ["COpenSSL", "CZlib", nio, nioWebSocket]),
        .target(name: "WSGateConfig"),
        .target(name: "WSGateTLS", dependencies: ["COpenSSL", nio]),
        .target(
            name: "WSGateCore",
            dependencies: [
                "WSGateWire", "WSGateConfig", "WSGateTLS", "WSGateAuth", nio, nioPosix, nioWebSocket, concurrency, logging,
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(name: "WSGateClient", dependencies: ["WSGateWire", "WSGateTLS", nio, nioPosix, nioWebSocket]),
        // The Redis client (RESP2/RESP3 on SwiftNIO) of cluster mode; no OpenSSL: its SHA-1 is its own.
        .target(name: "WSGateRedis", dependencies: [nio, nioPosix]),
        // Who may connect, the pure parts: JWT on OpenSSL's EVP, PROXY v1/v2, client address, per-IP limits.
        .target(name: "WSGateAuth", dependencies: ["COpenSSL", nio]),
        .executableTarget(name: "wsgate", dependencies: ["WSGateCore", "WSGateConfig", argumentParser, logging]),
        .executableTarget(
            name: "WSGateBench",
            dependencies: [
                "WSGateClient", "WSGateWire", "WSGateTLS", nio, nioPosix, concurrency, argumentParser,
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(name: "WSGateFuzz", dependencies: ["WSGateWire", "WSGateConfig", nio, nioEmbedded, nioWebSocket]),
        .testTarget(name: "WSGateWireTests", dependencies: ["WSGateWire", nio, nioEmbedded, nioWebSocket]),
        .testTarget(name: "WSGateConfigTests", dependencies: ["WSGateConfig"]),
        .testTarget(name: "WSGateTLSTests", dependencies: ["WSGateTLS", nio, nioEmbedded, nioPosix, concurrency]),
        .testTarget(name: "WSGateRedisTests", dependencies: ["WSGateRedis", nio, nioEmbedded, nioPosix]),
        .testTarget(name: "WSGateAuthTests", dependencies: ["WSGateAuth", nio]),
        // Counts this thread's heap allocations (it replaces malloc in the test binary): the hot-path guards.
        .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
        .testTarget(
            name: "WSGateCoreTests",
            dependencies: ["WSGateCore", "WSGateWire", "WSGateConfig", "CAllocationCounter", nio, nioEmbedded, nioWebSocket]
        ),
        .testTarget(
            name: "WSGateEndToEndTests",
            dependencies: ["WSGateCore", "WSGateClient", "WSGateConfig", "WSGateWire", nio, nioPosix, logging]
        ),
    ],
    swiftLanguageModes: [.v6]
)
