// swift-tools-version:6.0
import PackageDescription

// A floor for Benchmarks/run.sh's echo scenario: the least a SwiftNIO server spends per WebSocket
// echo message (one ChannelInboundHandler on NIOPosix's channel machinery, no NIOHTTP1, no
// NIOWebSocket), so that wsgate's per-message CPU can be split into NIO's own and wsgate's. Not a
// peer. Its own package, like Benchmarks/hummingbird-server, so that wsgate's build is not touched.
let package = Package(
    name: "nio-floor-server",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2")
    ],
    targets: [
        .executableTarget(
            name: "NIOFloorServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        )
    ]
)
