import Foundation
import Graph

/// A per-process memo of the tile medians behind the local backgrounds b_f,t,c: `reconstruct` and
/// `synthetic/NN` combine the same registered frames on the same grid with the same rejection masks,
/// so each frame's tile median (the median of the tile's finite, non-rejected pixels, before 1 / B_f)
/// is the same number in both nodes; whichever tile task of a process computes it first stores it and
/// the others take it instead of selecting the median again (about a third of a weighted tile task).
///
/// Exact by construction: an entry is keyed by everything the median depends on (the registered
/// frame's and the masks' digests, the frame's row in the masks, the tile's rectangle, the plane), and
/// a hit returns the value a computation would (the median is a deterministic function of those
/// pixels), so bytes never depend on hits, task order, threads or executor. Entries never go stale
/// (artifacts are named by content); the memo keeps the frames of the `capacity` most recently added
/// frame keys (a few hundred bytes per frame per tile).
final class TileBackgroundMemo: @unchecked Sendable {
    /// The process's memo.
    static let shared = TileBackgroundMemo(capacity: 1024)

    /// One registered frame as the kernel sees it: its pixels and its rejected pixels.
    struct FrameKey: Hashable, Sendable {
        /// The registered frame.
        var frame: Digest
        /// The rejection masks.
        var masks: Digest
        /// The frame's row in the masks.
        var index: Int
    }

    /// One plane of one tile rectangle (grid coordinates).
    struct TileKey: Hashable, Sendable {
        var x: Int32, y: Int32, w: Int32, h: Int32, channel: Int32

        init(x: Int, y: Int, w: Int, h: Int, channel: Int) {
            self.x = Int32(truncatingIfNeeded: x)
            self.y = Int32(truncatingIfNeeded: y)
            self.w = Int32(truncatingIfNeeded: w)
            self.h = Int32(truncatingIfNeeded: h)
            self.channel = Int32(truncatingIfNeeded: channel)
        }
    }

    /// A memoized median: nil when the tile had no finite pixel.
    private struct Entry { var median: Float? }

    private let lock = NSLock()
    private let capacity: Int
    private var frames: [FrameKey: [TileKey: Entry]] = [:]
    private var order: [FrameKey] = []

    init(capacity: Int) { self.capacity = capacity }

    /// The median stored under (`frame`, `tile`), else `compute()`'s (then stored). Two tasks missing
    /// at once both compute; either value is the same.
    func median(_ frame: FrameKey, _ tile: TileKey, compute: () -> Float?) -> Float? {
        if let e = lock.withLock({ frames[frame]?[tile] }) { return e.median }
        let m = compute()
        lock.withLock {
            if frames[frame] == nil {
                order.append(frame)
                if order.count > capacity { frames[order.removeFirst()] = nil }
            }
            frames[frame, default: [:]][tile] = Entry(median: m)
        }
        return m
    }

    /// Whether (`frame`, `tile`) is stored (tests).
    func contains(_ frame: FrameKey, _ tile: TileKey) -> Bool { lock.withLock { frames[frame]?[tile] != nil } }
}
