import Foundation
import Logging

/// Process limits the gateway adjusts at start.
enum ResourceLimits {
    /// Raises the open-files soft limit to the hard limit (every connection is a descriptor).
    static func raiseOpenFilesLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < limit.rlim_max {
            let old = limit.rlim_cur
            limit.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
                logger.debug("open files limit raised", metadata: ["wsgate.from": "\(old)", "wsgate.to": "\(limit.rlim_max)"])
            }
        }
    }
}
