import Foundation
import Graph

/// A per-process memo of the tile medians behind the local backgrounds b_f,t,c: `reconstruct` and
/// `synthetic/NN` combine the same registered frames on the same grid with the same rejection masks,
/// so each frame's tile median (the median of the tile's finite, non-rejected pixels, before 1 / B_f)
/// is the same number in both nodes; whichever tile task of a process computes it first stores it and
/// the other takes it instead of selecting the median again (about a third of a weighted tile task).
///
/// Exact by construction: an entry is keyed by everything the median depends on (the registered
/// frame's and the masks' digests, the frame's row in the masks, the tile's rectangle, the plane), and
/// a hit returns the value a computation would (the median is a deterministic function of those
/// pixels), so bytes never depend on hits, task order, threads or executor. Entries never go stale
/// (artifacts are named by content).
///
/// Bounded: a median is 4 bytes in its frame's row (one column per tile rectangle and plane seen by
/// the process), not a dictionary entry per tile. An entry serves one hit and is then dropped: every
/// frame is in one synthetic frame's cluster, so after `reconstruct` and that `synthetic/NN` no later
/// node asks for it again (a third asker computes it again, same value); a frame's row is freed when
/// its last entry goes. Entries that no second node takes (a run where one of the two is cached) stay
/// until the rows hold `capacity` medians, then the oldest frames' rows go first. 1000 frames of
/// 8 Mpx (~1000 tiles, 3 planes) are ~12 MB at most, within the shared memo's 64 MiB.
final class TileBackgroundMemo: @unchecked Sendable {
    /// The process's memo: up to 16 Mi medians (64 MiB).
    static let shared = TileBackgroundMemo(capacity: 16 << 20)

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

    /// A row cell's bits when nothing is stored; `none` a stored "no finite pixel". Both are NaN
    /// patterns a median never has (it is a finite pixel value); a computed value with either
    /// pattern is returned without being stored.
    private static let empty: UInt32 = 0xFFFF_FFFF, none: UInt32 = 0xFFFF_FFFE

    /// One frame's medians, by column, and how many are stored.
    private struct Row {
        var cells: [UInt32] = []
        var stored = 0
    }

    private let lock = NSLock()
    /// Medians the rows may hold (cells, stored or empty) before the oldest frames' rows go.
    private let capacity: Int
    /// The column of each tile rectangle and plane.
    private var columns: [TileKey: Int] = [:]
    private var rows: [FrameKey: Row] = [:]
    /// Frames in the order their rows were made (oldest first; may name frames whose row is gone).
    private var order: [FrameKey] = []
    private var orderStart = 0
    /// Cells of every row.
    private var cells = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// The median stored under (`frame`, `tile`), else `compute()`'s (then stored). A hit drops the
    /// entry. Two tasks missing at once both compute; either value is the same.
    func median(_ frame: FrameKey, _ tile: TileKey, compute: () -> Float?) -> Float? {
        if let hit = lock.withLock({ take(frame, tile) }) { return hit == Self.none ? nil : Float(bitPattern: hit) }
        let m = compute()
        let bits = m?.bitPattern ?? Self.none
        if m == nil || (bits != Self.empty && bits != Self.none) { lock.withLock { store(bits, frame, tile) } }
        return m
    }

    /// Whether (`frame`, `tile`) is stored (tests).
    func contains(_ frame: FrameKey, _ tile: TileKey) -> Bool {
        lock.withLock {
            guard let c = columns[tile], let row = rows[frame], c < row.cells.count else { return false }
            return row.cells[c] != Self.empty
        }
    }

    /// Cells held by every row (tests).
    var heldCells: Int { lock.withLock { cells } }

    /// The stored bits of (`frame`, `tile`), removed; nil when none. Under `lock`.
    private func take(_ frame: FrameKey, _ tile: TileKey) -> UInt32? {
        guard let c = columns[tile], let i = rows.index(forKey: frame), c < rows.values[i].cells.count else { return nil }
        let bits = rows.values[i].cells[c]
        guard bits != Self.empty else { return nil }
        if rows.values[i].stored == 1 {
            cells -= rows.values[i].cells.count
            rows.remove(at: i)
        } else {
            rows.values[i].cells[c] = Self.empty
            rows.values[i].stored -= 1
        }
        return bits
    }

    /// Stores `bits` under (`frame`, `tile`), dropping the oldest frames' rows beyond `capacity`. Under `lock`.
    private func store(_ bits: UInt32, _ frame: FrameKey, _ tile: TileKey) {
        let c: Int
        if let known = columns[tile] {
            c = known
        } else {
            if columns.count >= capacity { clear() }
            c = columns.count
            columns[tile] = c
        }
        let i: Dictionary<FrameKey, Row>.Index
        if let known = rows.index(forKey: frame) {
            i = known
        } else {
            rows[frame] = Row()
            order.append(frame)
            i = rows.index(forKey: frame)!
        }
        let grow = c + 1 - rows.values[i].cells.count
        if grow > 0 {
            rows.values[i].cells.append(contentsOf: repeatElement(Self.empty, count: grow))
            cells += grow
        }
        if rows.values[i].cells[c] == Self.empty { rows.values[i].stored += 1 }
        rows.values[i].cells[c] = bits
        // Oldest rows first; this frame's row goes to the back (a single row may exceed the capacity).
        while cells > capacity && rows.count > 1 && orderStart < order.count {
            let old = order[orderStart]
            orderStart += 1
            if old == frame {
                order.append(frame)
            } else if let gone = rows.removeValue(forKey: old) {
                cells -= gone.cells.count
            }
        }
        if order.count > 2 * rows.count + 1024 {  // forget the names of frames whose rows are gone
            var seen = Set<FrameKey>()
            order = order[orderStart...].filter { rows[$0] != nil && seen.insert($0).inserted }
            orderStart = 0
        }
    }

    /// Forgets everything (the columns too). Under `lock`.
    private func clear() {
        columns.removeAll()
        rows.removeAll()
        order.removeAll()
        orderStart = 0
        cells = 0
    }
}
