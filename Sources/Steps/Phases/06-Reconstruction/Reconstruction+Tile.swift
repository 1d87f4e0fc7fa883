import Foundation
import Imaging

/// The Double accumulators of one tile across the frames of a reconstruction (all channels).
/// Each instance is mutated by one thread at a time (one tile = one task), frames in set order.
final class TileAccumulator: @unchecked Sendable {
    let tile: Tile
    let channels: Int
    /// Two pairs per channel-planar tile pixel i: `sums[2 i]` = (sum_f W (I' - b), sum_f (I' - b)) and
    /// `sums[2 i + 1]` = (sum_f W, count of finite frames), each sum over the frames finite at the pixel
    /// (the unweighted sum and count give the common median). Pairs so that one frame's pixel updates
    /// two vectors; each lane is the same Double sum in the same frame order as four separate arrays.
    private var sums: [SIMD2<Double>]
    /// sum_f b_f,t,c and how many frames had a background in the tile, per channel.
    private var backgroundSum: [Double]
    private var backgroundCount: [Int]
    /// The finished tile (after `finish()`): channel-planar values, NaN where no frame covers.
    private(set) var values: [Double] = []

    init(tile: Tile, channels: Int) {
        self.tile = tile
        self.channels = channels
        sums = [SIMD2<Double>](repeating: .zero, count: 2 * tile.w * tile.h * channels)
        backgroundSum = [Double](repeating: 0, count: channels)
        backgroundCount = [Int](repeating: 0, count: channels)
    }

    /// Adds one frame: `rows` holds image rows from `bandY` on (full width, every plane).
    func add(_ rows: Image, bandY: Int, weight: Double, inverseBackground: [Double]) {
        let tw = tile.w, th = tile.h, np = tw * th, rw = rows.width, rn = rows.planeSize
        let oy = tile.y - bandY
        rows.pixels.withUnsafeBufferPointer { all in
            for c in 0..<channels {
                let inv = inverseBackground[c]
                let plane = all.baseAddress! + c * rn + oy * rw + tile.x
                // The frame's local background: median of the tile's finite normalized pixels.
                let finite = [Float](unsafeUninitializedCapacity: np) { buf, filled in
                    let out = buf.baseAddress!
                    var m = 0
                    for y in 0..<th {
                        let row = plane + y &* rw
                        for x in 0..<tw {
                            let v = row[x]
                            out[m] = v  // overwritten by the next value unless finite
                            m &+= v.isFinite ? 1 : 0
                        }
                    }
                    filled = m
                }
                guard let m = Statistics.quantileBracketed(finite, 0.5) else { continue }  // = median, bit for bit
                let b = Double(m) * inv
                backgroundSum[c] += b
                backgroundCount[c] += 1
                let perFrame = SIMD2<Double>(weight, 1)
                sums.withUnsafeMutableBufferPointer { sums in
                    let acc = sums.baseAddress! + 2 * c * np
                    for y in 0..<th {
                        let row = plane + y &* rw
                        let dst = acc + 2 &* y &* tw
                        for x in 0..<tw {
                            let v = row[x]
                            guard v.isFinite else { continue }
                            let d = Double(v) * inv - b
                            dst[2 &* x] += SIMD2(weight * d, d)
                            dst[2 &* x &+ 1] += perFrame
                        }
                    }
                }
            }
        }
    }

    /// Finishes the tile: `(V + mean b) * s` per channel (see `Reconstruction`), NaN where no frame is
    /// finite. A pixel whose frames all have weight 0 uses the unweighted mean.
    func finish() {
        let np = tile.w * tile.h, n = np * channels
        var out = [Double](repeating: .nan, count: n)
        var count = [Double](repeating: 0, count: n)
        sums.withUnsafeBufferPointer { s in
            count.withUnsafeMutableBufferPointer { k in
                for i in 0..<n { k[i] = s[2 &* i &+ 1].y }
            }
        }
        for c in 0..<channels {
            guard backgroundCount[c] > 0 else { continue }
            let bbar = backgroundSum[c] / Double(backgroundCount[c])
            var us: [Double] = []
            us.reserveCapacity(np)
            sums.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { o in
                    for i in (c * np)..<((c + 1) * np) where s[2 &* i &+ 1].y > 0 {
                        let vu = s[2 &* i], wk = s[2 &* i &+ 1]
                        let u = vu.y / wk.y + bbar
                        o[i] = wk.x > 0 ? vu.x / wk.x + bbar : u
                        us.append(u)
                    }
                }
            }
            Reconstruction.rescaleToCommonMedian(&out, (c * np)..<((c + 1) * np), count: count, unweighted: us)
        }
        values = out
        // Release the accumulators: only the finished values are needed from here on.
        sums = []
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
                                for x in 0..<tile.w {
                                    let v = vals[src + x]
                                    guard v.isFinite else { continue }
                                    let w = fy * wxs[x]
                                    n[dst + x] += w * v
                                    d[dst + x] += w
                                }
                            }
                        }
                    }
                    numerator[row] = num
                    windowSum[row] = den
                }
            }
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
