import Foundation

/// A double-precision weighted sum over a `width x height` canvas: `sum += w·v`, `weightSum += w`,
/// then `finalize()` gives `sum / weightSum` as Float (METHOD phase 6 and 8; overlap-add).
///
/// Guarantees: accumulation is in Double; non-finite source pixels and pixels with a non-positive
/// or non-finite weight are skipped entirely (neither sum nor weight changes); sources are clipped
/// to the canvas. The result depends only on the sequence of `add` calls (same order -> same bits).
public struct WeightedAccumulator: Sendable, Equatable {
    /// Canvas width in pixels.
    public let width: Int
    /// Canvas height in pixels.
    public let height: Int
    /// Σ w·v per canvas pixel, row-major.
    public private(set) var sum: [Double]
    /// Σ w per canvas pixel, row-major.
    public private(set) var weightSum: [Double]

    /// An empty canvas.
    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "canvas must be non-empty")
        self.width = width
        self.height = height
        self.sum = [Double](repeating: 0, count: width * height)
        self.weightSum = [Double](repeating: 0, count: width * height)
    }

    /// Adds plane `plane` of `source` with one scalar `weight`, placing source pixel (0, 0) at
    /// canvas (`x`, `y`). `valid`, when given, has one entry per source-plane pixel; pixels with
    /// `false` are skipped (e.g. pass the negation of a star mask, or a coverage mask after warping).
    public mutating func add(_ source: Image, plane: Int = 0, x: Int = 0, y: Int = 0,
                             weight: Double, valid: [Bool]? = nil) {
        guard weight > 0, weight.isFinite else { return }
        precondition(valid == nil || valid!.count == source.planeSize, "valid mask size must match the source plane")
        accumulate(source, plane: plane, x: x, y: y) { i in
            if let valid, !valid[i] { return 0 }
            return weight
        }
    }

    /// Adds plane `plane` of `source` with a per-pixel weight (one per source-plane pixel, e.g. a
    /// tile window times the tile's frame weight), placing source (0, 0) at canvas (`x`, `y`).
    public mutating func add(_ source: Image, plane: Int = 0, x: Int = 0, y: Int = 0, weights: [Float]) {
        precondition(weights.count == source.planeSize, "weights must have one value per source pixel")
        weights.withUnsafeBufferPointer { wbuf in
            accumulate(source, plane: plane, x: x, y: y) { Double(wbuf[$0]) }
        }
    }

    /// Adds another accumulator of the same size pixel by pixel (e.g. merging per-thread partial
    /// sums in a fixed order).
    public mutating func add(_ other: WeightedAccumulator) {
        precondition(other.width == width && other.height == height, "accumulator sizes differ")
        for i in 0..<sum.count {
            sum[i] += other.sum[i]
            weightSum[i] += other.weightSum[i]
        }
    }

    /// `sum / weightSum` per pixel as a one-plane Float image. Pixels whose weight sum is
    /// <= `minWeight` get `empty` (NaN by default, so uncovered pixels stay visible).
    public func finalize(minWeight: Double = 0, empty: Float = .nan) -> Image {
        var out = [Float](repeating: empty, count: width * height)
        sum.withUnsafeBufferPointer { s in
            weightSum.withUnsafeBufferPointer { ws in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<o.count where ws[i] > minWeight { o[i] = Float(s[i] / ws[i]) }
                }
            }
        }
        return Image(width: width, height: height, pixels: out)
    }

    /// Shared loop: clips the source rectangle to the canvas and adds `weightAt(sourceIndex)·value`.
    private mutating func accumulate(_ source: Image, plane: Int, x: Int, y: Int,
                                     weightAt: (Int) -> Double) {
        precondition(plane >= 0 && plane < source.channels, "plane out of range")
        let sw = source.width, sh = source.height, n = source.planeSize
        let cx0 = max(0, x), cy0 = max(0, y)
        let cx1 = min(width, x + sw), cy1 = min(height, y + sh)
        guard cx0 < cx1, cy0 < cy1 else { return }
        let cw = width
        source.pixels.withUnsafeBufferPointer { all in
            let src = all.baseAddress! + plane * n
            sum.withUnsafeMutableBufferPointer { s in
                weightSum.withUnsafeMutableBufferPointer { ws in
                    for cy in cy0..<cy1 {
                        let sy = cy - y
                        let srcRow = src + sy * sw
                        for cx in cx0..<cx1 {
                            let sx = cx - x
                            let v = srcRow[sx]
                            guard v.isFinite else { continue }
                            let w = weightAt(sy * sw + sx)
                            guard w > 0, w.isFinite else { continue }
                            s[cy * cw + cx] += w * Double(v)
                            ws[cy * cw + cx] += w
                        }
                    }
                }
            }
        }
    }
}
