import Foundation
import Imaging

/// The Double accumulators of one tile across the frames of a reconstruction (all channels).
/// Each instance is mutated by one thread at a time (one tile = one task), frames in set order.
///
/// Per channel-planar tile pixel i, over the frames finite at the pixel, in frame order:
/// `weighted[i]` = sum_f W (I' - b), `plain[i]` = sum_f (I' - b) (the unweighted sum gives the common
/// median) and `weightSum[i]` = sum_f W; the count of finite frames is the frames added minus
/// `missing[i]`. Planar arrays, four pixels at a time: a frame not finite at a pixel adds +0 to its
/// sums, which leaves them unchanged (they start at +0 and only grow by additions, so none is ever
/// -0), so each is the same Double sum in the same order as a per-pixel loop that skips the frame.
/// The arrays are not zero-filled: a channel's first frame stores `+0 + term` (exactly what adding
/// to a zeroed sum gives) and `finish` reads only channels that had a frame.
final class TileAccumulator: @unchecked Sendable {
    let tile: Tile
    let channels: Int
    private var weighted: [Double]
    private var plain: [Double]
    private var weightSum: [Double]
    private var missing: [UInt32]
    /// sum_f b_f,t,c and how many frames had a background in the tile (= were added), per channel.
    private var backgroundSum: [Double]
    private var added: [Int]
    /// One plane of the frame being added: the tile's pixels, row by row, rejected ones NaN
    /// (`addScratch`); its storage is reused from frame to frame.
    var scratch: [Float]
    /// The finished tile (after `finish()`): channel-planar values, NaN where no frame covers.
    private(set) var values: [Double] = []

    init(tile: Tile, channels: Int) {
        self.tile = tile
        self.channels = channels
        let n = tile.w * tile.h * channels
        // Written before read (see the type): a channel's first frame stores, every reader of a plane
        // (`FITSMappedImage.read`, `add`) fills all of `scratch`.
        weighted = Self.uninitialized(n)
        plain = Self.uninitialized(n)
        weightSum = Self.uninitialized(n)
        missing = Self.uninitialized(n)
        backgroundSum = [Double](repeating: 0, count: channels)
        added = [Int](repeating: 0, count: channels)
        scratch = Self.uninitialized(tile.w * tile.h)
    }

    /// An array of `n` values of a trivial type whose storage is not filled (each is written before read).
    private static func uninitialized<T: BitwiseCopyable>(_ n: Int) -> [T] {
        [T](unsafeUninitializedCapacity: n) { _, count in count = n }
    }

    /// Adds one frame: `rows` holds image rows from `bandY` on (full width, every plane).
    func add(_ rows: Image, bandY: Int, weight: Double, inverseBackground: [Double],
             memo: (frame: TileBackgroundMemo.FrameKey, x: Int, y: Int)? = nil) {
        let tw = tile.w, th = tile.h, rw = rows.width, rn = rows.planeSize
        let oy = tile.y - bandY
        for c in 0..<channels {
            rows.pixels.withUnsafeBufferPointer { all in
                scratch.withUnsafeMutableBufferPointer { dst in
                    let plane = all.baseAddress! + c * rn + oy * rw + tile.x
                    for y in 0..<th { (dst.baseAddress! + y * tw).update(from: plane + y * rw, count: tw) }
                }
            }
            addScratch(channel: c, weight: weight, inverseBackground: inverseBackground[c], memo: memo)
        }
    }

    /// Adds plane `c` of one frame, whose tile pixels (row by row, rejected ones NaN) are in `scratch`:
    /// b = median of the finite pixels / B_f (the frame's local background), then each finite pixel's
    /// d = I / B_f - b into the sums. With `memo` (the frame's key and the tile's origin in the grid)
    /// the median comes from `TileBackgroundMemo.shared` when another task already selected it.
    func addScratch(channel c: Int, weight: Double, inverseBackground inv: Double,
                    memo: (frame: TileBackgroundMemo.FrameKey, x: Int, y: Int)? = nil) {
        // The frame's local background: median of the tile's finite pixels (= Statistics.median, bit for bit).
        let median: Float?
        if let memo {
            median = TileBackgroundMemo.shared.median(memo.frame, .init(x: memo.x, y: memo.y, w: tile.w, h: tile.h, channel: c)) {
                Statistics.denseMedian(scratch)
            }
        } else {
            median = Statistics.denseMedian(scratch)
        }
        guard let m = median else { return }
        let b = Double(m) * inv
        let first = added[c] == 0
        backgroundSum[c] += b
        added[c] += 1
        let np = tile.w * tile.h, offset = c * np
        scratch.withUnsafeBufferPointer { src in
            weighted.withUnsafeMutableBufferPointer { wd in
                plain.withUnsafeMutableBufferPointer { pd in
                    weightSum.withUnsafeMutableBufferPointer { ws in
                        missing.withUnsafeMutableBufferPointer { miss in
                            if first {
                                Self.accumulate(src.baseAddress!, count: np, inverse: inv, background: b, weight: weight,
                                                weighted: wd.baseAddress! + offset, plain: pd.baseAddress! + offset,
                                                weightSum: ws.baseAddress! + offset, missing: miss.baseAddress! + offset, first: true)
                            } else {
                                Self.accumulate(src.baseAddress!, count: np, inverse: inv, background: b, weight: weight,
                                                weighted: wd.baseAddress! + offset, plain: pd.baseAddress! + offset,
                                                weightSum: ws.baseAddress! + offset, missing: miss.baseAddress! + offset, first: false)
                            }
                        }
                    }
                }
            }
        }
    }

    /// For each i < `count` with `x[i]` finite: d = Double(x) * inv - b, `weighted += w * d`,
    /// `plain += d`, `weightSum += w`; otherwise `missing += 1`. Four pixels at a time (non-finite
    /// lanes add +0, see the type). `first`: the sums are taken as +0 and `missing` as 0 (not read).
    @inline(__always)
    static func accumulate(_ x: UnsafePointer<Float>, count: Int, inverse inv: Double, background b: Double, weight w: Double,
                           weighted: UnsafeMutablePointer<Double>, plain: UnsafeMutablePointer<Double>,
                           weightSum: UnsafeMutablePointer<Double>, missing: UnsafeMutablePointer<UInt32>, first: Bool) {
        let raw = UnsafeRawPointer(x), wp = UnsafeMutableRawPointer(weighted), pp = UnsafeMutableRawPointer(plain),
            sp = UnsafeMutableRawPointer(weightSum)
        let invV = SIMD4<Double>(repeating: inv), bV = SIMD4<Double>(repeating: b), wV = SIMD4<Double>(repeating: w)
        var i = 0
        while i &+ 4 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD4<Float>.self)
            let finite = (unsafeBitCast(v, to: SIMD4<Int32>.self) & 0x7fff_ffff) .< 0x7f80_0000
            var d = SIMD4<Double>(v) * invV - bV
            var dw = wV
            if !all(finite) {
                let wide = SIMDMask<SIMD4<Int64>>(SIMD4<Int64>(truncatingIfNeeded: unsafeBitCast(finite, to: SIMD4<Int32>.self)))
                d.replace(with: 0, where: .!wide)
                dw.replace(with: 0, where: .!wide)
                if first {
                    for lane in 0..<4 { missing[i &+ lane] = finite[lane] ? 0 : 1 }
                } else {
                    for lane in 0..<4 where !finite[lane] { missing[i &+ lane] &+= 1 }
                }
            } else if first {
                UnsafeMutableRawPointer(missing + i).storeBytes(of: SIMD4<UInt32>(), as: SIMD4<UInt32>.self)
            }
            let o = i &* 8
            @inline(__always) func sum(_ p: UnsafeMutableRawPointer) -> SIMD4<Double> {
                first ? SIMD4<Double>() : p.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self)
            }
            wp.storeBytes(of: sum(wp) + wV * d, toByteOffset: o, as: SIMD4<Double>.self)
            pp.storeBytes(of: sum(pp) + d, toByteOffset: o, as: SIMD4<Double>.self)
            sp.storeBytes(of: sum(sp) + dw, toByteOffset: o, as: SIMD4<Double>.self)
            i &+= 4
        }
        while i < count {
            let v = x[i]
            if first {
                weighted[i] = 0
                plain[i] = 0
                weightSum[i] = 0
                missing[i] = 0
            }
            if v.isFinite {
                let d = Double(v) * inv - b
                weighted[i] += w * d
                plain[i] += d
                weightSum[i] += w
            } else {
                missing[i] &+= 1
            }
            i &+= 1
        }
    }

    /// For each i in `from ..< to` covered (`missing[i] < frames`): u = plain / (frames - missing) + bbar,
    /// v = weighted / weightSum + bbar (u when weightSum is not positive); `out[i] = v`, and v and u
    /// appended to `combined` and `unweighted` (covered pixels in index order). Returns how many.
    /// Four pixels at a time where all four are covered (the same IEEE operations lane by lane).
    @inline(__always)
    static func combine(from: Int, to: Int, frames: UInt32, meanBackground bbar: Double,
                        weighted wd: UnsafePointer<Double>, plain pd: UnsafePointer<Double>, weightSum ws: UnsafePointer<Double>,
                        missing miss: UnsafePointer<UInt32>, out o: UnsafeMutablePointer<Double>,
                        combined v: UnsafeMutablePointer<Double>, unweighted u: UnsafeMutablePointer<Double>) -> Int {
        let framesV = SIMD4<UInt32>(repeating: frames), bbarV = SIMD4<Double>(repeating: bbar)
        var m = 0, i = from
        @inline(__always) func load(_ p: UnsafePointer<Double>, _ i: Int) -> SIMD4<Double> {
            UnsafeRawPointer(p + i).loadUnaligned(as: SIMD4<Double>.self)
        }
        @inline(__always) func store(_ x: SIMD4<Double>, _ p: UnsafeMutablePointer<Double>, _ i: Int) {
            UnsafeMutableRawPointer(p + i).storeBytes(of: x, as: SIMD4<Double>.self)
        }
        // One pixel, when not all four of its group are covered (and the tail).
        @inline(__always) func one(_ j: Int) {
            guard miss[j] < frames else { return }
            let k = Double(frames &- miss[j])
            let ui = pd[j] / k + bbar
            let vi = ws[j] > 0 ? wd[j] / ws[j] + bbar : ui
            o[j] = vi
            v[m] = vi
            u[m] = ui
            m &+= 1
        }
        while i &+ 4 <= to {
            let missing = UnsafeRawPointer(miss + i).loadUnaligned(as: SIMD4<UInt32>.self)
            if all(missing .< framesV) {
                let k = SIMD4<Double>(framesV &- missing)
                let ui = load(pd, i) / k + bbarV
                let w = load(ws, i)
                let vi = (load(wd, i) / w + bbarV).replacing(with: ui, where: .!(w .> 0))
                store(vi, o, i)
                store(vi, v, m)
                store(ui, u, m)
                m &+= 4
            } else {
                for j in i..<(i &+ 4) { one(j) }
            }
            i &+= 4
        }
        while i < to {
            one(i)
            i &+= 1
        }
        return m
    }

    /// Finishes the tile: `(V + mean b) * s` per channel (see `Reconstruction`), NaN where no frame is
    /// finite. A pixel whose frames all have weight 0 uses the unweighted mean.
    func finish() {
        let np = tile.w * tile.h, n = np * channels
        var out = [Double](repeating: .nan, count: n)
        for c in 0..<channels where added[c] > 0 {
            let bbar = backgroundSum[c] / Double(added[c])
            let frames = UInt32(added[c])
            // The combined (vs) and unweighted (us) values of the covered pixels, in index order.
            var us: [Double] = []
            let vs = [Double](unsafeUninitializedCapacity: np) { v, filled in
                us = [Double](unsafeUninitializedCapacity: np) { u, filledU in
                    var m = 0
                    weighted.withUnsafeBufferPointer { wd in
                        plain.withUnsafeBufferPointer { pd in
                            weightSum.withUnsafeBufferPointer { ws in
                                missing.withUnsafeBufferPointer { miss in
                                    out.withUnsafeMutableBufferPointer { o in
                                        m = Self.combine(from: c * np, to: (c + 1) * np, frames: frames, meanBackground: bbar,
                                                         weighted: wd.baseAddress!, plain: pd.baseAddress!, weightSum: ws.baseAddress!,
                                                         missing: miss.baseAddress!, out: o.baseAddress!, combined: v.baseAddress!,
                                                         unweighted: u.baseAddress!)
                                    }
                                }
                            }
                        }
                    }
                    filledU = m
                }
                filled = us.count
            }
            let miss = missing
            Reconstruction.rescaleToCommonMedian(&out, (c * np)..<((c + 1) * np), combined: vs, unweighted: us) { miss[$0] < frames }
        }
        values = out
        // Release the accumulators: only the finished values are needed from here on.
        weighted = []
        plain = []
        weightSum = []
        missing = []
        scratch = []
    }
}

/// Overlap-add of windowed tiles into Double rows, finalized (divided by the summed window) row by row
/// as soon as no later tile can touch them, so only a band of Double rows is alive at a time.
struct OverlapCanvas {
    let width: Int, height: Int, channels: Int
    private var numerator: [[Double]?]
    private var windowSum: [[Double]?]
    private var finalized = 0
    /// The output, filled as rows are finalized (NaN where no tile had a value).
    private(set) var image: Image

    init(width: Int, height: Int, channels: Int) {
        self.width = width
        self.height = height
        self.channels = channels
        numerator = [[Double]?](repeating: nil, count: height)
        windowSum = [[Double]?](repeating: nil, count: height)
        image = Image(width: width, height: height, channels: channels, fill: .nan)
    }

    /// Adds a finished tile (channel-planar `values`) with the separable window.
    mutating func add(_ values: [Double], tile: Tile, window: WindowFunction) {
        let wx = weights(window, tile.w), wy = weights(window, tile.h), np = tile.w * tile.h
        let rowLength = width * channels
        values.withUnsafeBufferPointer { vals in
            wx.withUnsafeBufferPointer { wxs in
                for y in 0..<tile.h {
                    let row = tile.y + y
                    // Take the rows out of the arrays first so they are uniquely referenced (no copy).
                    var num = numerator[row] ?? [Double](repeating: 0, count: rowLength)
                    var den = windowSum[row] ?? [Double](repeating: 0, count: rowLength)
                    numerator[row] = nil
                    windowSum[row] = nil
                    let fy = wy[y]
                    num.withUnsafeMutableBufferPointer { n in
                        den.withUnsafeMutableBufferPointer { d in
                            for c in 0..<channels {
                                let src = c * np + y * tile.w, dst = c * width + tile.x
                                Self.addRow(vals.baseAddress! + src, window: wxs.baseAddress!, scale: fy, count: tile.w,
                                            numerator: n.baseAddress! + dst, windowSum: d.baseAddress! + dst)
                            }
                        }
                    }
                    numerator[row] = num
                    windowSum[row] = den
                }
            }
        }
    }

    /// For each x < `count` with `v[x]` finite: w = fy * wx[x], `numerator[x] += w * v[x]`,
    /// `windowSum[x] += w`. Four at a time: a non-finite value adds +0 to both, which leaves them
    /// unchanged (they start at +0 and only grow by additions, so neither is ever -0).
    @inline(__always)
    static func addRow(_ v: UnsafePointer<Double>, window wx: UnsafePointer<Double>, scale fy: Double, count: Int,
                       numerator: UnsafeMutablePointer<Double>, windowSum: UnsafeMutablePointer<Double>) {
        let vp = UnsafeRawPointer(v), wp = UnsafeRawPointer(wx), np = UnsafeMutableRawPointer(numerator),
            dp = UnsafeMutableRawPointer(windowSum)
        let fyV = SIMD4<Double>(repeating: fy), infV = SIMD4<Double>(repeating: .infinity)
        let magnitude = SIMD4<UInt64>(repeating: 0x7fff_ffff_ffff_ffff)
        var x = 0
        while x &+ 4 <= count {
            let o = x &* 8
            let value = vp.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self)
            let finite = unsafeBitCast(unsafeBitCast(value, to: SIMD4<UInt64>.self) & magnitude, to: SIMD4<Double>.self) .< infV
            let w = fyV * wp.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self)
            let t = (w * value).replacing(with: 0, where: .!finite), dw = w.replacing(with: 0, where: .!finite)
            np.storeBytes(of: np.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self) + t, toByteOffset: o, as: SIMD4<Double>.self)
            dp.storeBytes(of: dp.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self) + dw, toByteOffset: o, as: SIMD4<Double>.self)
            x &+= 4
        }
        while x < count {
            let value = v[x]
            if value.isFinite {
                let w = fy * wx[x]
                numerator[x] += w * value
                windowSum[x] += w
            }
            x &+= 1
        }
    }

    /// `out[x] = Float(num[x] / den[x])` where `den[x] > 0` (elsewhere `out` is left as it is), four at
    /// a time (the same division and rounding per lane).
    @inline(__always)
    static func divideRow(_ num: UnsafePointer<Double>, by den: UnsafePointer<Double>, count: Int, into out: UnsafeMutablePointer<Float>) {
        var x = 0
        while x &+ 4 <= count {
            let d = UnsafeRawPointer(den + x).loadUnaligned(as: SIMD4<Double>.self)
            let keep = d .> 0
            let q = SIMD4<Float>(UnsafeRawPointer(num + x).loadUnaligned(as: SIMD4<Double>.self) / d)
            let old = UnsafeRawPointer(out + x).loadUnaligned(as: SIMD4<Float>.self)
            let wide = unsafeBitCast(keep, to: SIMD4<Int64>.self)
            let narrow = SIMDMask<SIMD4<Int32>>(SIMD4<Int32>(truncatingIfNeeded: wide))
            UnsafeMutableRawPointer(out + x).storeBytes(of: old.replacing(with: q, where: narrow), as: SIMD4<Float>.self)
            x &+= 4
        }
        while x < count {
            if den[x] > 0 { out[x] = Float(num[x] / den[x]) }
            x &+= 1
        }
    }

    /// `window.weights(n)`, computed once per length (a grid has two or three tile sizes).
    private var windows: [Int: [Double]] = [:]
    private var windowFunction: WindowFunction?

    private mutating func weights(_ window: WindowFunction, _ n: Int) -> [Double] {
        if windowFunction != window {
            windows = [:]
            windowFunction = window
        }
        if let w = windows[n] { return w }
        let w = window.weights(n)
        windows[n] = w
        return w
    }

    /// Divides and releases every row below `rowsBelow` not finalized yet.
    mutating func finalize(rowsBelow: Int) {
        let n = width * height
        while finalized < min(rowsBelow, height) {
            let y = finalized
            if let num = numerator[y], let den = windowSum[y] {
                image.pixels.withUnsafeMutableBufferPointer { px in
                    num.withUnsafeBufferPointer { nu in
                        den.withUnsafeBufferPointer { de in
                            for c in 0..<channels {
                                Self.divideRow(nu.baseAddress! + c * width, by: de.baseAddress! + c * width, count: width,
                                               into: px.baseAddress! + c * n + y * width)
                            }
                        }
                    }
                }
            }
            numerator[y] = nil
            windowSum[y] = nil
            finalized += 1
        }
    }
}
