import Foundation
import NIOCore
import NIOPosix
import WSGateConfig

/// Asks an auth server about one handshake, as nginx's `auth_request` does: a `GET` to the
/// configured URL with the client's `Cookie`, `Authorization`, `Origin`, `X-Original-URI` and
/// `X-Forwarded-For`, and reads the status line and headers of the answer (the body is ignored).
/// The whole exchange is bounded by the route's `timeout_ms`.
enum AuthRequestClient {
    /// The answer: the status and the `Wsgate-Target` header, if any.
    struct Answer: Sendable, Equatable {
        var status: Int
        var target: String?
    }

    /// Why no answer came.
    enum Failure: Error, Equatable {
        case timeout
        case unreachable(String)
        case malformed
    }

    static func ask(
        _ request: AuthRequestConfiguration, headers: [(String, String)], eventLoop: EventLoop
    ) -> EventLoopFuture<Answer> {
        var text = "GET \(request.path) HTTP/1.1\r\nHost: \(request.host):\(request.port)\r\nConnection: close\r\n"
        for (name, value) in headers where !value.contains("\r") && !value.contains("\n") {
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        let promise = eventLoop.makePromise(of: Answer.self)
        let timeout = eventLoop.scheduleTask(in: .milliseconds(Int64(request.timeoutMs))) { promise.fail(Failure.timeout) }
        promise.futureResult.whenComplete { _ in timeout.cancel() }
        let bytes = ByteBuffer(string: text)
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(Int64(request.timeoutMs)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AnswerReader(promise: promise))
                }
            }
            .connect(host: request.host, port: request.port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    channel.writeAndFlush(bytes, promise: nil)
                    promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                case .failure(let error):
                    promise.fail(Failure.unreachable("\(error)"))
                }
            }
        return promise.futureResult
    }

    /// Reads the answer's head (at most 16 KiB) and completes the promise.
    private final class AnswerReader: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private let promise: EventLoopPromise<Answer>
        private var received = ByteBuffer()

        init(promise: EventLoopPromise<Answer>) {
            self.promise = promise
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = Self.unwrapInboundIn(data)
            self.received.writeBuffer(&incoming)
            let view = self.received.readableBytesView
            guard let end = view.firstRange(of: [13, 10, 13, 10]) else {
                if self.received.readableBytes > 16 * 1024 { self.promise.fail(Failure.malformed) }
                return
            }
            let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
            let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
            let statusParts = lines.first?.split(separator: " ") ?? []
            guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
                self.promise.fail(Failure.malformed)
                return
            }
            var target: String?
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                if line[..<colon].lowercased() == "wsgate-target" {
                    target = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
            self.promise.succeed(Answer(status: status, target: target))
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.promise.fail(Failure.malformed)  // no effect once answered
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            self.promise.fail(Failure.unreachable("\(error)"))
            context.close(promise: nil)
        }
    }
}
