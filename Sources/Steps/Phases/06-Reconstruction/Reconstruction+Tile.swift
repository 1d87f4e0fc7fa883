import Foundation
import Imaging

/// The Double accumulators of one tile across the frames of a reconstruction (all channels).
/// Each instance is mutated by one thread at a time (one tile = one task), frames in set order.
final class TileAccumulator: @unchecked Sendable {
    let tile: Tile
    let channels: Int
    /// sum_f W (I' - b), per channel-planar tile pixel.
    private var weighted: [Double]
    /// sum_f W over the frames finite at the pixel.
    private var weightSum: [Double]
    /// sum_f (I' - b) and the count of finite frames (unweighted mean, for the common median).
    private var plain: [Double]
    private var count: [Double]
    /// sum_f b_f,t,c and how many frames had a background in the tile, per channel.
    private var backgroundSum: [Double]
    private var backgroundCount: [Int]
    private var scratch: [Float] = []
    /// The finished tile (after `finish()`): channel-planar values, NaN where no frame covers.
    private(set) var values: [Double] = []

    init(tile: Tile, channels: Int) {
        self.tile = tile
        self.channels = channels
        let n = tile.w * tile.h * channels
        weighted = [Double](repeating: 0, count: n)
        weightSum = [Double](repeating: 0, count: n)
        plain = [Double](repeating: 0, count: n)
        count = [Double](repeating: 0, count: n)
        backgroundSum = [Double](repeating: 0, count: channels)
        backgroundCount = [Int](repeating: 0, count: channels)
        scratch.reserveCapacity(tile.w * tile.h)
    }

    /// Adds one frame: `rows` holds image rows from `bandY` on (full width, every plane).
    func add(_ rows: Image, bandY: Int, weight: Double, inverseBackground: [Double]) {
        let tw = tile.w, th = tile.h, np = tw * th, rw = rows.width, rn = rows.planeSize
        let oy = tile.y - bandY
        rows.pixels.withUnsafeBufferPointer { all in
            for c in 0..<channels {
                let inv = inverseBackground[c]
                let plane = all.baseAddress! + c * rn
                // The frame's local background: median of the tile's finite normalized pixels.
                scratch.removeAll(keepingCapacity: true)
                for y in 0..<th {
                    let row = UnsafeBufferPointer(start: plane + (oy + y) * rw + tile.x, count: tw)
                    for v in row where v.isFinite { scratch.append(v) }
                }
                guard let m = Statistics.quantileBracketed(scratch, 0.5) else { continue }  // = median, bit for bit
                let b = Double(m) * inv
                backgroundSum[c] += b
                backgroundCount[c] += 1
                weighted.withUnsafeMutableBufferPointer { a in
                    weightSum.withUnsafeMutableBufferPointer { ws in
                        plain.withUnsafeMutableBufferPointer { u in
                            count.withUnsafeMutableBufferPointer { k in
                                for y in 0..<th {
                                    let row = UnsafeBufferPointer(start: plane + (oy + y) * rw + tile.x, count: tw)
                                    let base = c * np + y * tw
                                    for x in 0..<tw {
                                        let v = row[x]
                                        guard v.isFinite else { continue }
                                        let d = Double(v) * inv - b
                                        a[base + x] += weight * d
                                        ws[base + x] += weight
                                        u[base + x] += d
                                        k[base + x] += 1
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Finishes the tile: `(V + mean b) * s` per channel (see `Reconstruction`), NaN where no frame is
    /// finite. A pixel whose frames all have weight 0 uses the unweighted mean.
    func finish() {
        let np = tile.w * tile.h
        var out = [Double](repeating: .nan, count: np * channels)
        for c in 0..<channels {
            guard backgroundCount[c] > 0 else { continue }
            let bbar = backgroundSum[c] / Double(backgroundCount[c])
            var us: [Double] = []
            us.reserveCapacity(np)
            for i in (c * np)..<((c + 1) * np) where count[i] > 0 {
                let u = plain[i] / count[i] + bbar
                out[i] = weightSum[i] > 0 ? weighted[i] / weightSum[i] + bbar : u
                us.append(u)
            }
            Reconstruction.rescaleToCommonMedian(&out, (c * np)..<((c + 1) * np), count: count, unweighted: us)
        }
        values = out
        // Release the accumulators: only the finished values are needed from here on.
        weighted = []; weightSum = []; plain = []; count = []
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
