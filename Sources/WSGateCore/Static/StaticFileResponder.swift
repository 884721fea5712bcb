import Foundation
import NIOCore
import NIOPosix

/// Reads a static file for a GET or HEAD, off the event loop (on the gateway's thread pool), and
/// answers with the file or with the refusal that applies (404, 400, 500).
enum StaticFileResponder {
    /// The response for `remainder` below `root`: the file's bytes and type, or a refusal.
    static func read(root: String, remainder: String, requestPath: String) -> Result<(ByteBuffer, String), GatewayRefusal> {
        switch StaticFilePath.resolve(root: root, remainder: remainder) {
        case .forbidden: return .failure(.forbiddenPath(path: requestPath))
        case .notFound: return .failure(.fileNotFound(path: requestPath))
        case .file(let path):
            // Files are read whole (on the thread pool): bounded, for pages and their assets.
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            if let size, size > StaticFilePath.maxFileSize { return .failure(.fileTooLarge(path: requestPath, limit: StaticFilePath.maxFileSize)) }
            guard let data = FileManager.default.contents(atPath: path) else { return .failure(.fileNotFound(path: requestPath)) }
            return .success((ByteBuffer(bytes: data), StaticFilePath.contentType(for: path)))
        }
    }

    /// Reads on `threadPool` and completes on `eventLoop`.
    static func read(
        root: String, remainder: String, requestPath: String, threadPool: NIOThreadPool, eventLoop: EventLoop
    ) -> EventLoopFuture<Result<(ByteBuffer, String), GatewayRefusal>> {
        threadPool.runIfActive(eventLoop: eventLoop) {
            Self.read(root: root, remainder: remainder, requestPath: requestPath)
        }
    }
}
