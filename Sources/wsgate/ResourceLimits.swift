import Foundation
import Logging

/// Process limits the gateway adjusts at start.
enum ResourceLimits {
    /// Keeps message-sized buffers (64 KiB – 8 MiB) in the heap instead of a fresh mmap each time:
    /// glibc maps allocations from 128 KiB up, so every large frame cost page faults and zeroing.
    static func tuneAllocator() {
        _ = glibcMallopt(-3, 8 << 20)  // M_MMAP_THRESHOLD (malloc.h)
        _ = glibcMallopt(-1, 32 << 20)  // M_TRIM_THRESHOLD (malloc.h)
    }

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

/// glibc's `mallopt` (malloc.h is not part of the Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
