import Foundation
import Graph
import Imaging
import Testing
import TestSupport
@testable import Steps

/// The weighted tile kernel's bookkeeping: `TileAccumulator` (sums not zero-filled, four-wide finish)
/// against a plain per-pixel reference, and `TileBackgroundMemo` (a tile median selected once per
/// process, the same value on a hit).
@Suite("reconstruction tile kernel")
struct ReconstructionTileTests {
    /// `frames` planes of a `w x h` tile: sky ~ `level` with noise, NaN holes (a frame with no finite
    /// pixel at all when `empty` names it), a few negative zeros, one frame NaN on a whole row, a corner
    /// that no frame covers.
    static func planes(_ rng: inout TestRNG, frames: Int, w: Int, h: Int, empty: Set<Int>) -> [[Float]] {
        (0..<frames).map { f in
            (0..<(w * h)).map { i -> Float in
                if empty.contains(f) { return .nan }
                if f == 2 && i / w == 3 { return .nan }
                if i % w < 3 && i / w < 2 { return .nan }  // uncovered in every frame (a frame's edge)
                let u = rng.uniform()
                if u < 0.03 { return .nan }
                if u < 0.035 { return -0.0 }
                return Float(100 + 5 * rng.normal())
            }
        }
    }

    /// The kernel's values by a direct per-pixel loop over zero-started Double sums (METHOD phase 6).
    static func reference(_ planes: [[Float]], weights: [Double], inverse: [Double], np: Int) -> [Double] {
        var bs: [Double] = [], kept: [Int] = []
        for (f, p) in planes.enumerated() {
            guard let m = Statistics.median(p) else { continue }
            bs.append(Double(m) * inverse[f])
            kept.append(f)
        }
        guard !kept.isEmpty else { return [Double](repeating: .nan, count: np) }
        let bbar = bs.reduce(0, +) / Double(bs.count)
        var out = [Double](repeating: .nan, count: np), vs: [Double] = [], us: [Double] = [], covered: [Int] = []
        for i in 0..<np {
            var wd = 0.0, pd = 0.0, ws = 0.0, k = 0
            for (j, f) in kept.enumerated() where planes[f][i].isFinite {
                let d = Double(planes[f][i]) * inverse[f] - bs[j]
                wd += weights[f] * d
                pd += d
                ws += weights[f]
                k += 1
            }
            guard k > 0 else { continue }
            let u = pd / Double(k) + bbar
            let v = ws > 0 ? wd / ws + bbar : u
            out[i] = v
            vs.append(v)
            us.append(u)
            covered.append(i)
        }
        if let mv = Statistics.median(vs), let mu = Statistics.median(us), !(abs(mv) < Reconstruction.medianEps), mu.isFinite {
            let s = mu / mv
            if s != 1 { for i in covered { out[i] *= s } }
        }
        return out
    }

    @Test("TileAccumulator == zero-started per-pixel sums, bit for bit (first frame empty, NaN, -0, zero weights, odd sizes)")
    func accumulatorMatchesReference() {
        var rng = TestRNG(seed: 77)
        for (trial, (w, h)) in [(37, 41), (40, 32), (33, 35), (64, 64)].enumerated() {
            let frames = 6
            let planes = Self.planes(&rng, frames: frames, w: w, h: h, empty: trial % 2 == 0 ? [0] : [3])
            let weights = (0..<frames).map { f in f == 1 ? 0 : 0.5 + rng.uniform() }
            let inverse = (0..<frames).map { _ in 1 / (90 + 20 * rng.uniform()) }
            let acc = TileAccumulator(tile: Tile(id: 0, x: 0, y: 0, w: w, h: h), channels: 1)
            for f in 0..<frames {
                acc.scratch = planes[f]
                acc.addScratch(channel: 0, weight: weights[f], inverseBackground: inverse[f])
            }
            acc.finish()
            let want = Self.reference(planes, weights: weights, inverse: inverse, np: w * h)
            let differing = zip(acc.values, want).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(w)x\(h): \(differing) of \(w * h) values differ")
            #expect(acc.values.contains { $0.isFinite } && acc.values.contains { $0.isNaN })
        }
    }

    @Test("a channel without any frame stays NaN, the other is combined")
    func channelWithoutFrames() {
        var rng = TestRNG(seed: 3)
        let w = 24, h = 20
        let planes = Self.planes(&rng, frames: 3, w: w, h: h, empty: [])
        let acc = TileAccumulator(tile: Tile(id: 0, x: 0, y: 0, w: w, h: h), channels: 2)
        for f in 0..<3 {
            acc.scratch = planes[f]
            acc.addScratch(channel: 1, weight: 1, inverseBackground: 0.01)
            acc.scratch = [Float](repeating: .nan, count: w * h)
            acc.addScratch(channel: 0, weight: 1, inverseBackground: 0.01)
        }
        acc.finish()
        #expect(acc.values[0..<(w * h)].allSatisfy { $0.isNaN })
        let want = Self.reference(planes, weights: [1, 1, 1], inverse: [0.01, 0.01, 0.01], np: w * h)
        #expect(zip(acc.values[(w * h)...], want).allSatisfy { $0.bitPattern == $1.bitPattern })
    }

    @Test("TileBackgroundMemo: a miss stores the computed median, a hit returns it without computing and drops it; keys separate frames, masks, tiles, planes; rows bounded by the capacity")
    func memo() {
        let memo = TileBackgroundMemo(capacity: 4)
        let a = TileBackgroundMemo.FrameKey(frame: Digest.of(string: "frame a"), masks: Digest.of(string: "masks"), index: 0)
        let b = TileBackgroundMemo.FrameKey(frame: Digest.of(string: "frame a"), masks: Digest.of(string: "other masks"), index: 0)
        let t = TileBackgroundMemo.TileKey(x: 10, y: 20, w: 30, h: 40, channel: 0)
        var computed = 0
        #expect(memo.median(a, t) { computed += 1; return 1.5 } == 1.5)
        #expect(memo.median(a, t) { computed += 1; return 9 } == 1.5)
        #expect(computed == 1)
        // One hit per entry (reconstruct and the frame's synthetic frame have both had it): a third asker computes.
        #expect(!memo.contains(a, t) && memo.heldCells == 0)
        #expect(memo.median(a, t) { computed += 1; return 1.5 } == 1.5)
        #expect(computed == 2)
        // Another masks digest, plane or rectangle is another entry.
        #expect(memo.median(b, t) { 2.5 } == 2.5)
        #expect(memo.median(a, .init(x: 10, y: 20, w: 30, h: 40, channel: 1)) { 3.5 } == 3.5)
        #expect(memo.median(a, .init(x: 11, y: 20, w: 30, h: 40, channel: 0)) { 4.5 } == 4.5)
        #expect(memo.contains(a, t) && memo.contains(b, t))
        #expect(memo.heldCells == 4)  // a's row: 3 columns, b's: 1
        // No finite pixel (nil) is remembered too.
        let c = TileBackgroundMemo.FrameKey(frame: Digest.of(string: "frame c"), masks: Digest.of(string: "masks"), index: 2)
        #expect(memo.median(c, t) { nil } == nil)
        #expect(memo.contains(c, t))
        // Capacity 4 medians: the oldest frame's row (a) went when c came.
        #expect(!memo.contains(a, t) && !memo.contains(a, .init(x: 11, y: 20, w: 30, h: 40, channel: 0)) && memo.contains(b, t))
        #expect(memo.heldCells == 2)
        // A hit on "no finite pixel" is nil without computing; the row goes with its last entry.
        #expect(memo.median(c, t) { 7 } == nil)
        #expect(!memo.contains(c, t) && memo.heldCells == 1)
        // A value with a reserved NaN pattern is returned, not stored.
        let odd = Float(bitPattern: 0xFFFF_FFFF)
        #expect(memo.median(c, t) { odd }?.bitPattern == 0xFFFF_FFFF)
        #expect(!memo.contains(c, t))
    }

    @Test("TileBackgroundMemo: 1000 frames x 1000 tiles stay within the capacity, oldest frames first")
    func memoBounded() {
        let memo = TileBackgroundMemo(capacity: 100_000)
        let masks = Digest.of(string: "masks")
        for f in 0..<1000 {
            let key = TileBackgroundMemo.FrameKey(frame: Digest.of(string: "frame \(f)"), masks: masks, index: f)
            for t in 0..<1000 { _ = memo.median(key, .init(x: t * 8, y: 0, w: 8, h: 8, channel: 0)) { Float(f * 1000 + t) } }
            #expect(memo.heldCells <= 100_000)
        }
        let last = TileBackgroundMemo.FrameKey(frame: Digest.of(string: "frame 999"), masks: masks, index: 999)
        let first = TileBackgroundMemo.FrameKey(frame: Digest.of(string: "frame 0"), masks: masks, index: 0)
        #expect(memo.contains(last, .init(x: 0, y: 0, w: 8, h: 8, channel: 0)))
        #expect(!memo.contains(first, .init(x: 0, y: 0, w: 8, h: 8, channel: 0)))
        #expect(memo.median(last, .init(x: 8 * 17, y: 0, w: 8, h: 8, channel: 0)) { 0 } == 999_017)
    }

    @Test("addScratch with a memo key: the same values as without, and the median taken from the memo on a hit")
    func accumulatorUsesMemo() {
        var rng = TestRNG(seed: 11)
        let w = 40, h = 36
        let planes = Self.planes(&rng, frames: 4, w: w, h: h, empty: [])
        let key = TileBackgroundMemo.FrameKey(frame: Digest.of(string: "memo test \(UUID())"), masks: Digest.of(string: "m"), index: 0)
        func run(memo: Bool) -> [Double] {
            let acc = TileAccumulator(tile: Tile(id: 0, x: 0, y: 0, w: w, h: h), channels: 1)
            for f in 0..<4 {
                acc.scratch = planes[f]
                let k = TileBackgroundMemo.FrameKey(frame: key.frame, masks: key.masks, index: f)
                acc.addScratch(channel: 0, weight: 1 + Double(f), inverseBackground: 0.01, memo: memo ? (k, 80, 120) : nil)
            }
            acc.finish()
            return acc.values
        }
        let t = TileBackgroundMemo.TileKey(x: 80, y: 120, w: w, h: h, channel: 0)
        let plain = run(memo: false), cold = run(memo: true)
        #expect(zip(plain, cold).allSatisfy { $0.bitPattern == $1.bitPattern })
        for f in 0..<4 {  // the cold run stored each frame's median (taking it drops it)
            let k = TileBackgroundMemo.FrameKey(frame: key.frame, masks: key.masks, index: f)
            #expect(TileBackgroundMemo.shared.median(k, t) { .nan } == Statistics.median(planes[f]))
        }
        _ = run(memo: true)
        let warm = run(memo: true)  // every median from the memo
        #expect(zip(plain, warm).allSatisfy { $0.bitPattern == $1.bitPattern })
        for f in 0..<4 {
            #expect(!TileBackgroundMemo.shared.contains(TileBackgroundMemo.FrameKey(frame: key.frame, masks: key.masks, index: f), t))
        }
    }
}
