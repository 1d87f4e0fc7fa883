import CMalloc
import Foundation

/// glibc malloc settings for a process that allocates many frame-sized buffers (a few MB each) per
/// node: by default glibc serves them with mmap and returns them with munmap, so every node pays
/// fresh page faults and kernel page zeroing for each buffer (system time 0.9 s of 11.5 s CPU on 24
/// frames of 1024x768, 0.4 s with these settings). Keeping them in the heap lets the next node reuse
/// the pages; peak RSS grows by about one node's buffers per worker (~20 MB on 0.8 Mpx frames).
/// `MALLOC_MMAP_THRESHOLD_` or `MALLOC_TRIM_THRESHOLD_` in the environment leave glibc's settings alone.
enum MallocTuning {
    /// Bytes below which allocations come from the heap, and freed memory the heap keeps.
    static let keep: Int32 = 512 << 20

    /// Applies the settings unless the environment sets either.
    static func apply() {
        let env = ProcessInfo.processInfo.environment
        guard env["MALLOC_MMAP_THRESHOLD_"] == nil, env["MALLOC_TRIM_THRESHOLD_"] == nil else { return }
        _ = tcb_malloc_keep(keep)
    }
}
