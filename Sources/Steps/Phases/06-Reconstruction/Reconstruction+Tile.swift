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
        weighted = [Double](repeating: 0, count: n)
        plain = [Double](repeating: 0, count: n)
        weightSum = [Double](repeating: 0, count: n)
        missing = [UInt32](repeating: 0, count: n)
        backgroundSum = [Double](repeating: 0, count: channels)
        added = [Int](repeating: 0, count: channels)
        scratch = [Float](repeating: 0, count: tile.w * tile.h)
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
        backgroundSum[c] += b
        added[c] += 1
        let np = tile.w * tile.h, offset = c * np
        scratch.withUnsafeBufferPointer { src in
            weighted.withUnsafeMutableBufferPointer { wd in
                plain.withUnsafeMutableBufferPointer { pd in
                    weightSum.withUnsafeMutableBufferPointer { ws in
                        missing.withUnsafeMutableBufferPointer { miss in
                            Self.accumulate(src.baseAddress!, count: np, inverse: inv, background: b, weight: weight,
                                            weighted: wd.baseAddress! + offset, plain: pd.baseAddress! + offset,
                                            weightSum: ws.baseAddress! + offset, missing: miss.baseAddress! + offset)
                        }
                    }
                }
            }
        }
    }

    /// For each i < `count` with `x[i]` finite: d = Double(x) * inv - b, `weighted += w * d`,
    /// `plain += d`, `weightSum += w`; otherwise `missing += 1`. Four pixels at a time (non-finite
    /// lanes add +0, see the type).
    @inline(__always)
    static func accumulate(_ x: UnsafePointer<Float>, count: Int, inverse inv: Double, background b: Double, weight w: Double,
                           weighted: UnsafeMutablePointer<Double>, plain: UnsafeMutablePointer<Double>,
                           weightSum: UnsafeMutablePointer<Double>, missing: UnsafeMutablePointer<UInt32>) {
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
                for lane in 0..<4 where !finite[lane] { missing[i &+ lane] &+= 1 }
            }
            let o = i &* 8
            wp.storeBytes(of: wp.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self) + wV * d, toByteOffset: o, as: SIMD4<Double>.self)
            pp.storeBytes(of: pp.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self) + d, toByteOffset: o, as: SIMD4<Double>.self)
            sp.storeBytes(of: sp.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self) + dw, toByteOffset: o, as: SIMD4<Double>.self)
            i &+= 4
        }
        while i < count {
            let v = x[i]
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
                                        for i in (c * np)..<((c + 1) * np) where miss[i] < frames {
                                            let k = Double(frames &- miss[i])
                                            let ui = pd[i] / k + bbar
                                            let vi = ws[i] > 0 ? wd[i] / ws[i] + bbar : ui
                                            o[i] = vi
                                            v[m] = vi
                                            u[m] = ui
                                            m &+= 1
                                        }
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
        let wx = window.weights(tile.w), wy = window.weights(tile.h), np = tile.w * tile.h
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
    /// `windowSum[x] += w`. Two at a time: a non-finite value adds +0 to both, which leaves them
    /// unchanged (they start at +0 and only grow by additions, so neither is ever -0).
    @inline(__always)
    static func addRow(_ v: UnsafePointer<Double>, window wx: UnsafePointer<Double>, scale fy: Double, count: Int,
                       numerator: UnsafeMutablePointer<Double>, windowSum: UnsafeMutablePointer<Double>) {
        let vp = UnsafeRawPointer(v), wp = UnsafeRawPointer(wx), np = UnsafeMutableRawPointer(numerator),
            dp = UnsafeMutableRawPointer(windowSum)
        let fyV = SIMD2<Double>(repeating: fy), infV = SIMD2<Double>(repeating: .infinity)
        let magnitude = SIMD2<UInt64>(repeating: 0x7fff_ffff_ffff_ffff)
        var x = 0
        while x &+ 2 <= count {
            let o = x &* 8
            let value = vp.loadUnaligned(fromByteOffset: o, as: SIMD2<Double>.self)
            let finite = unsafeBitCast(unsafeBitCast(value, to: SIMD2<UInt64>.self) & magnitude, to: SIMD2<Double>.self) .< infV
            let w = fyV * wp.loadUnaligned(fromByteOffset: o, as: SIMD2<Double>.self)
            let t = (w * value).replacing(with: 0, where: .!finite), dw = w.replacing(with: 0, where: .!finite)
            np.storeBytes(of: np.loadUnaligned(fromByteOffset: o, as: SIMD2<Double>.self) + t, toByteOffset: o, as: SIMD2<Double>.self)
            dp.storeBytes(of: dp.loadUnaligned(fromByteOffset: o, as: SIMD2<Double>.self) + dw, toByteOffset: o, as: SIMD2<Double>.self)
            x &+= 2
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

    /// Divides and releases every row below `rowsBelow` not finalized yet.
    mutating func finalize(rowsBelow: Int) {
        let n = width * height
        while finalized < min(rowsBelow, height) {
            let y = finalized
            if let num = numerator[y], let den = windowSum[y] {
                image.pixels.withUnsafeMutableBufferPointer { px in
                    for c in 0..<channels {
                        for x in 0..<width where den[c * width + x] > 0 {
                            px[c * n + y * width + x] = Float(num[c * width + x] / den[c * width + x])
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
