import Foundation
import Imaging

/// The tile-pattern metric: do pixel-to-pixel jumps concentrate on the tile boundary lines?
public struct TilePatternMeasurement: Codable, Sendable, Equatable {
    /// Median |first difference| across the boundary lines.
    public var boundaryMedian: Double?
    /// Median |first difference| across the control lines 3-5 px beside the boundaries.
    public var besideMedian: Double?
    /// `boundaryMedian / besideMedian`; ~1 without a pattern.
    public var ratio: Double?
    /// Difference samples on boundary lines.
    public var boundarySamples: Int
    /// Difference samples on control lines.
    public var besideSamples: Int
    /// The ratio above which this image has a pattern: `Validation.tilePatternThreshold(boundarySamples:)`.
    public var threshold: Double
    /// Whether `ratio` exceeds `threshold`.
    public var pattern: Bool
}

extension Validation {
    /// A ratio above this is a tile pattern: 5 % more jump across the boundaries than beside them.
    public static let tilePatternThreshold = 1.05

    /// The threshold for an image with `boundarySamples` boundary differences: `max(1.05, 1 + 3.8 /
    /// sqrt(n))`. On pure noise the median of n |differences| has a relative standard deviation of
    /// 1.17 / sqrt(n) (half-normal: 1 / (2 f(m) m sqrt(n))), ~1.26 / sqrt(n) for the ratio with ~6x more
    /// control samples; 3.8 / sqrt(n) is 3 of those, so small images (n ~ 2000: 1.085) do not report a
    /// pattern from noise alone, and real images (n >= 6000) use 1.05.
    public static func tilePatternThreshold(boundarySamples n: Int) -> Double {
        max(tilePatternThreshold, 1 + 3.8 / Double(max(1, n)).squareRoot())
    }
    /// Control lines sit this many px on either side of a boundary.
    public static let tilePatternOffsets = [-5, -4, -3, 3, 4, 5]

    /// The boundary lines of `grid`: every tile edge (`x`, `x + w` for columns; `y`, `y + h` for rows)
    /// strictly inside the image. Line `b` separates pixel `b - 1` from pixel `b`.
    public static func boundaryLines(_ grid: TileGrid) -> (columns: [Int], rows: [Int]) {
        var cols = Set<Int>(), rows = Set<Int>()
        for t in grid.tiles {
            for b in [t.x, t.x + t.w] where b > 0 && b < grid.width { cols.insert(b) }
            for b in [t.y, t.y + t.h] where b > 0 && b < grid.height { rows.insert(b) }
        }
        return (cols.sorted(), rows.sorted())
    }

    /// Tile-pattern metric of `image` (luminance) for `grid`: the median of |I(b) - I(b - 1)| across
    /// every boundary line b (all positions along the line, finite pairs only), divided by the same
    /// median across control lines b + d, d in +-3..5 px, that are not boundary lines themselves. A hard
    /// seam (an offset or gain step between tiles) raises the boundary median; noise, stars and smooth
    /// structure raise both alike. `pattern` when the ratio > `tilePatternThreshold(boundarySamples:)`.
    public static func tilePattern(_ image: Image, grid: TileGrid) -> TilePatternMeasurement {
        let l = luminance(image)
        let w = l.width, h = l.height
        let (cols, rows) = boundaryLines(grid)
        let colSet = Set(cols), rowSet = Set(rows)
        var boundary: [Float] = [], beside: [Float] = []
        l.pixels.withUnsafeBufferPointer { px in
            func vertical(_ b: Int, into out: inout [Float]) {  // jump between columns b-1 and b
                guard b > 0, b < w else { return }
                for y in 0..<h {
                    let d = px[y * w + b] - px[y * w + b - 1]
                    if d.isFinite { out.append(abs(d)) }
                }
            }
            func horizontal(_ b: Int, into out: inout [Float]) {  // jump between rows b-1 and b
                guard b > 0, b < h else { return }
                for x in 0..<w {
                    let d = px[b * w + x] - px[(b - 1) * w + x]
                    if d.isFinite { out.append(abs(d)) }
                }
            }
            for b in cols {
                vertical(b, into: &boundary)
                for o in tilePatternOffsets where !colSet.contains(b + o) { vertical(b + o, into: &beside) }
            }
            for b in rows {
                horizontal(b, into: &boundary)
                for o in tilePatternOffsets where !rowSet.contains(b + o) { horizontal(b + o, into: &beside) }
            }
        }
        let bm = Statistics.median(boundary).map(Double.init), sm = Statistics.median(beside).map(Double.init)
        var ratio: Double? = nil
        if let bm, let sm, sm > 0 { ratio = bm / sm }
        let threshold = tilePatternThreshold(boundarySamples: boundary.count)
        return TilePatternMeasurement(boundaryMedian: bm, besideMedian: sm, ratio: ratio, boundarySamples: boundary.count,
                                      besideSamples: beside.count, threshold: threshold, pattern: (ratio ?? 0) > threshold)
    }
}
