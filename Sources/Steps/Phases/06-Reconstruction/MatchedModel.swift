import Foundation
import Imaging

/// What `combine: matched` needs to know about one frame: its flux scale F_f, its noise sigma_f per
/// channel and its PSF FWHM in every tile (all in the normalized units the kernel reads, I / B_f).
public struct MatchedFrameModel: Codable, Sendable, Equatable {
    /// F_f: a star's flux in this frame relative to the same star in the series' reference frame
    /// (transparency over B_f), from matched-star photometry.
    public var fluxScale: Double
    /// sigma_f per channel (`ChannelMeasurement.noise`).
    public var noise: [Double]
    /// FWHM of the frame's PSF in each tile of the grid, px (grid order).
    public var tileFWHM: [Double]

    /// A model from explicit values.
    public init(fluxScale: Double, noise: [Double], tileFWHM: [Double]) {
        self.fluxScale = fluxScale
        self.noise = noise
        self.tileFWHM = tileFWHM
    }
}

/// Estimates `MatchedFrameModel`s from the `measure/NNNNN` artifacts of a series (pure, deterministic).
///
/// - **F_f** (flux scale): stars that may enter the seeing (`TileGeometry.acceptsForSeeing`) have a
///   flux proxy `snr * fwhm * sigma_lum` (`StarMeasurement.snr` is flux / (noise * sqrt(4 pi) fwhm /
///   2.3548), the noise being the frame's background noise, so the proxy is proportional to the fitted
///   flux). The reference is the frame with the most such stars (lowest position on a tie); a frame's
///   stars are matched to the reference's by position (within `matchRadius` px, registered frames) and
///   F_f is the median flux ratio. A frame with fewer than `minMatches` matches gets the median F of
///   the others (reported in `fallbacks`).
/// - **FWHM_f,t**: a separable field model `log FWHM_f,t = log FWHM_f + c(x_t, y_t)`: FWHM_f is the
///   frame's median star FWHM (`FrameMeasurement.fwhm`; the series median when it has none), c a
///   robust quadratic surface (`FieldFit`) fitted to `log(fwhm / FWHM_f)` of every frame's accepted
///   stars, evaluated at the tile centre, exp(c) clamped to [1/2, 2]. The seeing changes per frame,
///   the optics' field variation smoothly over the image; 2-3 stars per tile and frame would make a
///   noisy estimate, and a per-tile median is captured by an extended object that passes as a star.
/// - **sigma_f**: `ChannelMeasurement.noise` per channel.
public enum MatchedModel {
    /// Largest distance between a star and its reference match, px.
    public static let matchRadius = 1.5
    /// Fewest matched stars for a measured flux scale.
    public static let minMatches = 5

    /// The estimate for every measurement (same order) on `grid`, and the positions whose flux scale
    /// fell back to the median.
    public static func estimate(_ measurements: [FrameMeasurement], grid: TileGrid) -> (models: [MatchedFrameModel], fallbacks: [Int]) {
        let (scales, fallbacks) = fluxScales(measurements)
        let fwhm = tileFWHM(measurements, grid: grid)
        let models = measurements.indices.map { i in
            MatchedFrameModel(fluxScale: scales[i], noise: measurements[i].channels.map(\.noise), tileFWHM: fwhm[i])
        }
        return (models, fallbacks)
    }

    /// The flux proxy of an accepted star (nil otherwise).
    static func fluxProxy(_ s: MeasuredStar, noise: Double) -> Double? {
        guard TileGeometry.acceptsForSeeing(s), s.snr.isFinite, noise > 0 else { return nil }
        let v = s.snr * s.fwhm * noise
        return v.isFinite && v > 0 ? v : nil
    }

    /// Noise of the luminance (mean of the channels) from the per-channel noise.
    static func luminanceNoise(_ m: FrameMeasurement) -> Double {
        let k = Double(max(1, m.channels.count))
        return (m.channels.reduce(0) { $0 + $1.noise * $1.noise }).squareRoot() / k
    }

    /// F_f for every measurement, relative to the frame with the most accepted stars.
    public static func fluxScales(_ measurements: [FrameMeasurement]) -> (scales: [Double], fallbacks: [Int]) {
        guard !measurements.isEmpty else { return ([], []) }
        let stars: [[(x: Double, y: Double, flux: Double)]] = measurements.map { m in
            let n = luminanceNoise(m)
            return m.stars.compactMap { s in fluxProxy(s, noise: n).map { (s.x, s.y, $0) } }
        }
        var ref = 0
        for i in stars.indices where stars[i].count > stars[ref].count { ref = i }
        // Reference stars hashed on a grid of cells of the match radius.
        let cell = matchRadius
        var index: [Int64: [Int]] = [:]
        func key(_ cx: Int, _ cy: Int) -> Int64 { Int64(cx) << 32 | Int64(UInt32(bitPattern: Int32(truncatingIfNeeded: cy))) }
        for (j, s) in stars[ref].enumerated() {
            index[key(Int(floor(s.x / cell)), Int(floor(s.y / cell))), default: []].append(j)
        }
        var scales = [Double](repeating: .nan, count: measurements.count)
        for i in stars.indices {
            if i == ref { scales[i] = 1; continue }
            var ratios: [Double] = []
            for s in stars[i] {
                let cx = Int(floor(s.x / cell)), cy = Int(floor(s.y / cell))
                var best = -1, bestD = matchRadius * matchRadius
                for dy in -1...1 {
                    for dx in -1...1 {
                        for j in index[key(cx + dx, cy + dy)] ?? [] {
                            let r = stars[ref][j]
                            let d = (r.x - s.x) * (r.x - s.x) + (r.y - s.y) * (r.y - s.y)
                            if d < bestD || (d == bestD && j < best) { best = j; bestD = d }
                        }
                    }
                }
                if best >= 0 { ratios.append(s.flux / stars[ref][best].flux) }
            }
            if ratios.count >= minMatches, let m = Statistics.median(ratios) { scales[i] = m }
        }
        let measured = scales.filter(\.isFinite)
        let fill = Statistics.median(measured) ?? 1
        var fallbacks: [Int] = []
        for i in scales.indices where !scales[i].isFinite {
            scales[i] = fill
            fallbacks.append(i)
        }
        return (scales, fallbacks)
    }

    /// FWHM_f,t for every measurement and tile of `grid` (see the type's comment).
    public static func tileFWHM(_ measurements: [FrameMeasurement], grid: TileGrid) -> [[Double]] {
        let frameMedians = measurements.map { $0.fwhm.flatMap { $0.isFinite && $0 > 0 ? $0 : nil } }
        let seriesMedian = Statistics.median(frameMedians.compactMap { $0 }) ?? grid.fwhm ?? 3
        let base = frameMedians.map { $0 ?? seriesMedian }
        let field = FieldFit(width: grid.width, height: grid.height)
        var points: [(u: Double, v: Double, d: Double)] = []
        for (i, m) in measurements.enumerated() {
            let lb = log(base[i])
            for s in m.stars where TileGeometry.acceptsForSeeing(s) {
                let (u, v) = field.coordinates(s.x, s.y)
                points.append((u, v, log(s.fwhm) - lb))
            }
        }
        let coefficients = field.fit(points)
        let factors = grid.tiles.map { t -> Double in
            let (u, v) = field.coordinates(Double(t.x) + Double(t.w - 1) / 2, Double(t.y) + Double(t.h - 1) / 2)
            return min(max(exp(field.value(coefficients, u, v)), 1 / maxFieldFactor), maxFieldFactor)
        }
        return base.map { b in factors.map { b * $0 } }
    }

    /// The field factor exp(c_t) is clamped to [1/this, this].
    public static let maxFieldFactor = 2.0
}
