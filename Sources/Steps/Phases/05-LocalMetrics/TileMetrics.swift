import Foundation
import Imaging

/// How a tile's local quality is measured (METHOD phase 5); one mode per tile for all frames.
public enum TileMode: UInt8, Codable, Sendable, Equatable, CustomStringConvertible {
    /// Few stars: `Q = w_E (E/sigma)~ - w_B B~`.
    case structure = 0
    /// Enough stars: `Q = w_F (-log FWHM)~ + w_R R~ + w_C C~`.
    case star = 1

    /// `structure` or `star`.
    public var description: String { self == .star ? "star" : "structure" }
}

/// METHOD phase 5 across frames, as pure functions.
public enum TileMetrics {
    /// A frame covers a tile when at least this fraction of the tile's pixels is finite.
    public static let minCoverage = 0.5

    /// Star mode when the median over the covering frames of the tile's star count is >= `minCount`.
    public static func mode(starCounts: [Int], minCount: Int) -> TileMode {
        guard let m = Statistics.median(starCounts.map(Double.init)) else { return .structure }
        return m >= Double(minCount) ? .star : .structure
    }

    /// Unclamped star-mode quality across frames of one tile:
    /// `w.fwhm * (-(log FWHM)~) + w.roundness * R~ + w.contrast * C~` (the log is taken of the tile's
    /// median FWHM, i.e. after robust aggregation). NaN inputs scale to 0 (neutral).
    public static func starQuality(fwhm: [Double], roundness: [Double], contrast: [Double],
                                   weights: TCConfig.StarWeights) -> [Double] {
        let lf = Statistics.robustStandardize(fwhm.map { $0 > 0 ? log($0) : .nan })
        let r = Statistics.robustStandardize(roundness), c = Statistics.robustStandardize(contrast)
        return fwhm.indices.map { weights.fwhm * -lf[$0] + weights.roundness * r[$0] + weights.contrast * c[$0] }
    }

    /// Unclamped structure-mode quality across frames of one tile:
    /// `w.metric * (E/sigma)~ - w.background * B~`. NaN inputs scale to 0 (neutral).
    public static func structureQuality(structure: [Double], background: [Double],
                                        weights: TCConfig.StructureMode) -> [Double] {
        let s = Statistics.robustStandardize(structure), b = Statistics.robustStandardize(background)
        return structure.indices.map { weights.metricWeight * s[$0] - weights.backgroundWeight * b[$0] }
    }

    /// All tiles: `local[f][t]` raw metrics, `g[f]` = G_f. Per tile: choose the mode, scale robustly
    /// across the covering frames, clamp, `L = exp(Q)`, `W = G_f * L`.
    /// A frame that does not cover the tile (coverage < 0.5) gets Q = 0 (L = 1): it has no say about
    /// the tile, and reconstruction ignores its missing pixels anyway. In a star-mode tile, a covering
    /// frame in which no star was measured (clouds, trail, defocus) gets the lower clamp.
    public static func weights(local: [[TileLocalMetrics]], g: [Double], section: TCConfig.LocalMetricsSection,
                               starMinCount: Int) -> TileWeights {
        let frames = local.count, tiles = local.first?.count ?? 0
        var result = TileWeights(frameCount: frames, tileCount: tiles)
        for t in 0..<tiles {
            let column = local.map { $0[t] }
            let covered = column.map { $0.coverage >= minCoverage }
            let mode = self.mode(starCounts: column.indices.filter { covered[$0] }.map { column[$0].starCount },
                                 minCount: starMinCount)
            func masked(_ v: (TileLocalMetrics) -> Double) -> [Double] {
                column.indices.map { covered[$0] ? v(column[$0]) : .nan }
            }
            var q: [Double]
            switch mode {
            case .star:
                q = starQuality(fwhm: masked(\.fwhm), roundness: masked(\.roundness), contrast: masked(\.contrast),
                                weights: section.starMode.weights)
                for f in 0..<frames where covered[f] && !(column[f].fwhm > 0) { q[f] = section.clamp.lo }
            case .structure:
                q = structureQuality(structure: masked(\.structure), background: masked(\.background),
                                     weights: section.structureMode)
            }
            result.modes[t] = mode
            for f in 0..<frames {
                let qc = covered[f] ? section.clamp.clamp(q[f]) : 0
                let l = exp(qc)
                result.set(frame: f, tile: t, q: Float(qc), l: Float(l), w: Float(g[f] * l))
            }
        }
        return result
    }
}
