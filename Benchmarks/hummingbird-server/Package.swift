// swift-tools-version:6.0
import PackageDescription

// A peer for Benchmarks/run.sh: Hummingbird + HummingbirdWebSocket serving `/echo` (echo) and
// `/rooms/<name>` (broadcast to every member, sender included). Its own package so that wsgate's
// main build does not pull Hummingbird in.
let package = Package(
    name: "hummingbird-server",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
    ],
    targets: [
        .executableTarget(
            name: "HummingbirdBenchServer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ]
        )
    ]
)
