import Hummingbird
import HummingbirdWebSocket
import Synchronization

// Benchmarks/run.sh's Hummingbird peer: `/echo` sends every message back; `/rooms/<name>` sends every
// message to every member of that room, sender included. Usage: HummingbirdBenchServer PORT

/// Members of every room; a broadcast yields the message to each member's stream, and each member's
/// own task writes its stream out (the usual Hummingbird pattern: no member waits on another).
final class Rooms: Sendable {
    private let rooms = Mutex<[String: [Int: AsyncStream<WebSocketMessage>.Continuation]]>([:])
    private let nextID = Atomic<Int>(0)

    func join(_ room: String, _ continuation: AsyncStream<WebSocketMessage>.Continuation) -> Int {
        let id = self.nextID.wrappingAdd(1, ordering: .relaxed).newValue
        self.rooms.withLock { $0[room, default: [:]][id] = continuation }
        return id
    }

    func leave(_ room: String, _ id: Int) {
        self.rooms.withLock { rooms in
            rooms[room]?[id] = nil
            if rooms[room]?.isEmpty == true { rooms[room] = nil }
        }
    }

    func broadcast(_ room: String, _ message: WebSocketMessage) {
        let members = self.rooms.withLock { Array(($0[room] ?? [:]).values) }
        for member in members { member.yield(message) }
    }
}

let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 18084 : 18084
let rooms = Rooms()
let wsRouter = Router(context: BasicWebSocketRequestContext.self)

wsRouter.ws("/echo") { inbound, outbound, _ in
    for try await message in inbound.messages(maxSize: 1 << 24) {
        switch message {
        case .text(let text): try await outbound.write(.text(text))
        case .binary(let buffer): try await outbound.write(.binary(buffer))
        }
    }
}

wsRouter.ws("/rooms/:name") { inbound, outbound, context in
    let room = context.requestContext.parameters.get("name") ?? "default"
    let (stream, continuation) = AsyncStream<WebSocketMessage>.makeStream()
    let id = rooms.join(room, continuation)
    defer { rooms.leave(room, id) }
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            for await message in stream {
                switch message {
                case .text(let text): try await outbound.write(.text(text))
                case .binary(let buffer): try await outbound.write(.binary(buffer))
                }
            }
        }
        for try await message in inbound.messages(maxSize: 1 << 24) { rooms.broadcast(room, message) }
        continuation.finish()
        group.cancelAll()
    }
}

let app = Application(
    router: Router(),
    server: .http1WebSocketUpgrade(
        webSocketRouter: wsRouter,
        configuration: .init(ws: .init(maxFrameSize: 1 << 24, autoPing: .disabled))
    ),
    configuration: .init(address: .hostname("127.0.0.1", port: port))
)
try await app.runService()
