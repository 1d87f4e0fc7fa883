import Foundation
import Imaging

/// What `strength: auto` chose for one tile and what it predicts (`tiles/weighting.json`).
public struct TileStrength: Codable, Sendable, Equatable {
    /// Tile id.
    public var tile: Int
    /// The strength alpha on the Q exponents.
    public var alpha: Double
    /// Predicted FWHM of the weighted mean vs the classical (equal-weight) mean, percent (> 0 = sharper).
    public var fwhmGainPercent: Double
    /// Predicted flux-normalized noise / the classical mean's.
    public var noiseRatio: Double
    /// Predicted faint-star figure of merit, (noise x FWHM classical) / (noise x FWHM weighted).
    public var fom: Double
    enum CodingKeys: String, CodingKey {
        case tile, alpha, fwhmGainPercent = "fwhm_gain_percent", noiseRatio = "noise_ratio", fom
    }
}

/// The `weighting` artifact of `tiles/metrics` (`tiles/weighting.json`).
public struct WeightingSummary: Codable, Sendable, Equatable {
    /// `weighting.mode`.
    public var mode: String
    /// `weighting.strength` as configured (`auto` or the number).
    public var strength: String
    /// Per frame: the weight factor s_f / sigma_f^2 (flux-normalized inverse variance of the normalized
    /// frame), divided by its median; empty in literal mode.
    public var inverseVariance: [Double]
    /// Per tile, what was used and predicted (empty in literal mode).
    public var tiles: [TileStrength]
    enum CodingKeys: String, CodingKey { case mode, strength, inverseVariance = "inverse_variance", tiles }
}

/// Noise-aware tile weights (METHOD "Noise-aware weighting", `weighting.mode: noise_aware`):
/// `W_f,t = exp(alpha_t (Q_f + Q_local_f,t)) * s_f / sigma_f^2`.
///
/// - s_f / sigma_f^2 is the weight that minimizes the noise per unit of star flux of a mean of the
///   normalized frames (frame f carries a star with scale s_f, `FluxScale`, at noise sigma_f): the
///   flux-normalized inverse variance.
/// - Q_local comes from smoothed metrics: the FWHM of the tile as a per-frame field (the frame's median
///   FWHM over all its stars times the tile's field factor), roundness and contrast averaged over the
///   tile and its neighbours (star-count weighted); so no weight follows the noise of a tile's own
///   three star fits, and no tile is weighted by a statistic of the very pixels it weights.
/// - alpha_t (`weighting.strength`): a number, or auto: the alpha on a 0.05 grid in [0, 3] with the largest
///   predicted FoM whose predicted noise `sqrt(sum w^2 sigma^2) / sum w s` is within the budget of the
///   classical mean's. The predicted FWHM is the half width of the weighted sum of Gaussians of the
///   frames' local FWHMs (flux weights w_f s_f).
public enum NoiseAwareWeights {
    /// Candidate strengths of auto.
    static let alphaGrid: [Double] = (0...60).map { Double($0) * 0.05 }

    /// FWHM of `sum_f c_f Gaussian(fwhm_f)` (unit-flux Gaussians): twice the radius where the profile
    /// falls to half its peak (bisection, 48 steps).
    static func mixtureFWHM(flux c: [Double], fwhm: [Double]) -> Double {
        let k = 4 * log(2.0)
        var amp = [Double](repeating: 0, count: c.count), inv = amp
        var peak = 0.0, hi = 0.0
        for f in c.indices where c[f] > 0 && fwhm[f] > 0 {
            amp[f] = c[f] / (fwhm[f] * fwhm[f]); inv[f] = k / (fwhm[f] * fwhm[f])
            peak += amp[f]; hi = max(hi, fwhm[f])
        }
        guard peak > 0 else { return .nan }
        var lo = 0.0
        for _ in 0..<48 {
            let r = (lo + hi) / 2, r2 = r * r
            var p = 0.0
            for f in c.indices where amp[f] > 0 { p += amp[f] * exp(-inv[f] * r2) }
            if p > peak / 2 { lo = r } else { hi = r }
        }
        return lo + hi
    }

    /// Predicted flux-normalized noise of the mean with weights `w`: `sqrt(sum w^2 sigma^2) / sum w s`.
    static func noise(_ w: [Double], sigma: [Double], scale: [Double]) -> Double {
        var a = 0.0, b = 0.0
        for f in w.indices where w[f] > 0 { a += w[f] * w[f] * sigma[f] * sigma[f]; b += w[f] * scale[f] }
        return b > 0 ? a.squareRoot() / b : .nan
    }

    /// The tiles' field factors h_t: median over the covering frames with a tile FWHM of
    /// `FWHM_f,t / FWHM_f`; a tile with fewer than 3 such frames takes the geometric mean of its
    /// neighbours' factors (tile centres within 1.5 steps), else 1.
    static func fieldFactors(local: [[TileLocalMetrics]], frameFWHM: [Double], grid: TileGrid) -> [Double] {
        let tiles = grid.tiles.count
        var h = [Double?](repeating: nil, count: tiles)
        for t in 0..<tiles {
            var ratios: [Double] = []
            for f in local.indices {
                let m = local[f][t]
                if m.coverage >= TileMetrics.minCoverage, m.fwhm > 0, frameFWHM[f] > 0 { ratios.append(m.fwhm / frameFWHM[f]) }
            }
            if ratios.count >= 3 { h[t] = Statistics.median(ratios) }
        }
        return (0..<tiles).map { t in
            if let v = h[t] { return v }
            let logs = neighbours(of: t, grid: grid).compactMap { h[$0] }.map { log($0) }
            return logs.isEmpty ? 1 : exp(logs.reduce(0, +) / Double(logs.count))
        }
    }

    /// Tiles whose centre is within 1.5 grid steps of tile `t`'s (including `t`).
    static func neighbours(of t: Int, grid: TileGrid) -> [Int] {
        let a = grid.tiles[t], reach = 1.5 * Double(max(1, grid.step))
        let ax = Double(a.x) + Double(a.w) / 2, ay = Double(a.y) + Double(a.h) / 2
        return grid.tiles.indices.filter { i in
            let b = grid.tiles[i]
            return abs(Double(b.x) + Double(b.w) / 2 - ax) <= reach && abs(Double(b.y) + Double(b.h) / 2 - ay) <= reach
        }
    }

    /// The weights and the per-tile choices. `literal` holds METHOD's weights (for the modes and, with
    /// `local_fwhm: tile`, Q_local); `table` the global metrics (G, sigma_f, s_f, frame FWHM).
    /// Tiles are independent: they run `threads` at a time and are assembled in tile order (the same
    /// result whatever `threads`); the strength scan is most of the node (61 strengths x a 48-step
    /// bisection over every frame's Gaussian per tile).
    public static func weights(local: [[TileLocalMetrics]], literal: TileWeights, table: FrameMetricsTable, grid: TileGrid,
                               section: TCConfig.LocalMetricsSection, weighting: TCConfig.WeightingSection, threads: Int = 1)
        -> (weights: TileWeights, summary: WeightingSummary) {
        let frames = local.count, tiles = grid.tiles.count
        let sigma = table.frames.map { $0.noise > 0 ? $0.noise : .nan }
        let scale = table.frames.map { ($0.fluxScale ?? 1) > 0 ? ($0.fluxScale ?? 1) : 1 }
        let medianSigma = Statistics.median(sigma.filter(\.isFinite)) ?? 1
        let sig = sigma.map { $0.isFinite ? $0 : medianSigma }
        let ivarRaw = (0..<frames).map { scale[$0] / (sig[$0] * sig[$0]) }
        let ivarMid = Statistics.median(ivarRaw) ?? 1
        let ivar = ivarRaw.map { $0 / ivarMid }
        let qGlobal = table.frames.map(\.q)
        let medianFWHM = Statistics.median(table.frames.compactMap(\.fwhm).filter { $0 > 0 }) ?? 3
        let frameFWHM = table.frames.map { ($0.fwhm ?? 0) > 0 ? $0.fwhm! : medianFWHM }
        let h = fieldFactors(local: local, frameFWHM: frameFWHM, grid: grid)

        var result = TileWeights(frameCount: frames, tileCount: tiles)
        result.modes = literal.modes
        // One tile's choice and its frames' (q, l, w).
        let perTile: [(pick: TileStrength, q: [Float], l: [Float], w: [Float])] = Parallel.map(tiles, threads: max(1, threads)) { t in
            let covered = (0..<frames).map { local[$0][t].coverage >= TileMetrics.minCoverage }
            // Local FWHM per frame, and Q_local.
            var fwhm = [Double](repeating: .nan, count: frames)
            var qLocal = [Double](repeating: 0, count: frames)
            switch weighting.localFwhm {
            case .tile:
                for f in 0..<frames {
                    fwhm[f] = local[f][t].fwhm > 0 ? local[f][t].fwhm : frameFWHM[f] * h[t]
                    qLocal[f] = Double(literal.quality(frame: f, tile: t))
                }
            case .field:
                for f in 0..<frames { fwhm[f] = frameFWHM[f] * h[t] }
                let near = neighbours(of: t, grid: grid)
                func smoothed(_ v: (TileLocalMetrics) -> Double) -> [Double] {
                    (0..<frames).map { f in
                        guard covered[f] else { return .nan }
                        var s = 0.0, n = 0.0
                        for i in near {
                            let m = local[f][i]
                            let x = v(m)
                            if m.starCount > 0, x.isFinite, x > 0 { s += Double(m.starCount) * x; n += Double(m.starCount) }
                        }
                        return n > 0 ? s / n : .nan
                    }
                }
                let q = TileMetrics.starQuality(fwhm: (0..<frames).map { covered[$0] ? fwhm[$0] : .nan },
                                                roundness: smoothed(\.roundness), contrast: smoothed(\.contrast),
                                                weights: section.starMode.weights)
                for f in 0..<frames where covered[f] { qLocal[f] = section.clamp.clamp(q[f]) }
            }
            let qTotal = (0..<frames).map { qGlobal[$0] + qLocal[$0] }
            func w(_ alpha: Double) -> [Double] {
                (0..<frames).map { covered[$0] ? exp(alpha * qTotal[$0]) * ivar[$0] : 0 }
            }
            let equal = covered.map { $0 ? 1.0 : 0 }
            func flux(_ w: [Double]) -> [Double] { (0..<frames).map { w[$0] * scale[$0] } }
            let n0 = noise(equal, sigma: sig, scale: scale), f0 = mixtureFWHM(flux: flux(equal), fwhm: fwhm)
            func predict(_ alpha: Double) -> TileStrength {
                let ww = w(alpha)
                let n = noise(ww, sigma: sig, scale: scale), fw = mixtureFWHM(flux: flux(ww), fwhm: fwhm)
                let fom = (n0 * f0) / (n * fw)
                return TileStrength(tile: t, alpha: alpha, fwhmGainPercent: rounded(100 * (1 - fw / f0)),
                                    noiseRatio: rounded(n / n0), fom: rounded(fom.isFinite ? fom : 1))
            }
            var pick: TileStrength
            if let alpha = weighting.strength {
                pick = predict(alpha)
            } else {
                let budget = 1 + weighting.maxNoiseIncreasePercent / 100
                pick = predict(0)
                for alpha in alphaGrid.dropFirst() {
                    let p = predict(alpha)
                    if p.noiseRatio <= budget, p.fom > pick.fom { pick = p }
                }
            }
            let ww = w(pick.alpha)
            let mean = ww.reduce(0, +) / Double(max(1, covered.filter { $0 }.count))
            let wf = (0..<frames).map { f in Float(covered[f] ? ww[f] / (mean > 0 ? mean : 1) : 1) }
            return (pick, qLocal.map { Float($0) }, qLocal.map { Float(exp(pick.alpha * $0)) }, wf)
        }
        var chosen: [TileStrength] = []
        for (t, r) in perTile.enumerated() {
            chosen.append(r.pick)
            for f in 0..<frames { result.set(frame: f, tile: t, q: r.q[f], l: r.l[f], w: r.w[f]) }
        }
        let summary = WeightingSummary(mode: weighting.mode.rawValue, strength: weighting.strength.map(formatNumber) ?? "auto",
                                       inverseVariance: ivar.map(rounded), tiles: chosen)
        return (result, summary)
    }

    static func rounded(_ x: Double) -> Double { x.isFinite ? (x * 1e6).rounded() / 1e6 : 0 }
}
