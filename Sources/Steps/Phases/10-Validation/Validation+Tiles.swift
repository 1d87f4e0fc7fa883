import Foundation
import Imaging

/// Which tiles carry signal and which of those were usable.
public struct TileUsability: Codable, Sendable, Equatable {
    /// Tiles in the grid.
    public var tiles: Int
    /// Signal-carrying tiles (see `Validation.tileUsability`).
    public var signalCarrying: Int
    /// Signal-carrying tiles that are usable.
    public var usable: Int
    /// `usable / signalCarrying`; nil without signal-carrying tiles.
    public var fraction: Double?
    /// Ids of the signal-carrying tiles that are not usable (at most 50, lowest ids).
    public var unusableIDs: [Int]
}

extension Validation {
    /// A signal-carrying tile's signal spread (p99 - median) must reach this many background sigmas.
    public static let signalSigmas = 5.0
    /// A usable tile keeps at least this fraction of the classical stack's signal spread.
    public static let minSignalKept = 0.5
    /// A usable tile's effective frame count is at least this fraction of the frames (and >= 1).
    public static let minEffectiveFrameFraction = 0.05

    /// Tile weight variance: the mean over tiles of the population variance over frames of the tile's
    /// relative weights W_f,t / mean_f W_f,t (the squared coefficient of variation). Reconstruction
    /// divides by the tile's weight sum, so only relative weights matter: scaling a tile's weights
    /// does not change this value. 0 when every frame has the same weight in every tile (the method
    /// then reduces to a plain mean); tiles whose weights sum to 0 count as 0.
    public static func tileWeightVariance(_ weights: TileWeights) -> Double {
        let f = weights.frameCount
        guard f > 0, weights.tileCount > 0 else { return 0 }
        var total = 0.0
        for t in 0..<weights.tileCount {
            let w = weights.weights(tile: t).map(Double.init)
            let mean = w.reduce(0, +) / Double(f)
            guard mean > 0, mean.isFinite else { continue }
            total += w.reduce(0) { $0 + ($1 / mean - 1) * ($1 / mean - 1) } / Double(f)
        }
        return total / Double(weights.tileCount)
    }

    /// The luminance values of `tile` in `image`, finite only, and the tile's pixel count.
    static func tileValues(_ image: Image, _ tile: Tile) -> (values: [Float], pixels: Int) {
        var v: [Float] = []
        v.reserveCapacity(tile.w * tile.h)
        let w = image.width
        image.pixels.withUnsafeBufferPointer { px in
            for y in max(0, tile.y)..<min(image.height, tile.y + tile.h) {
                for x in max(0, tile.x)..<min(w, tile.x + tile.w) where px[y * w + x].isFinite { v.append(px[y * w + x]) }
            }
        }
        return (v, tile.w * tile.h)
    }

    /// p99 - median of `values` (the tile's signal above its background); nil when empty.
    static func signalSpread(_ values: [Float]) -> Double? {
        guard let p = Statistics.quantile(values, 0.99), let m = Statistics.median(values) else { return nil }
        return Double(p - m)
    }

    /// Signal-carrying and usable tiles.
    ///
    /// - **Signal-carrying**: a star-mode tile, or a tile whose classical-stack luminance spread
    ///   (p99 - median) reaches `signalSigmas` times the classical background noise `classicalNoise`.
    /// - **Usable**: signal-carrying, and (1) >= 50 % of the final stack's tile pixels are finite,
    ///   (2) the weights are not degenerate: sum_f W_f,t >= 1e-6 (no unweighted fallback) and the
    ///   effective frame count (sum W)^2 / sum W^2 >= max(1, `minEffectiveFrameFraction` * F), and
    ///   (3) the final stack keeps the signal: its spread / `fluxRatio` >= `minSignalKept` times the
    ///   classical spread.
    public static func tileUsability(stack: Image, classical: Image, grid: TileGrid, weights: TileWeights,
                                     classicalNoise: Double?, fluxRatio: Double) -> TileUsability {
        let ls = luminance(stack), lc = luminance(classical)
        let f = weights.frameCount
        let minEffective = max(1, minEffectiveFrameFraction * Double(f))
        var carrying = 0, usable = 0
        var unusable: [Int] = []
        for tile in grid.tiles {
            let (cv, _) = tileValues(lc, tile)
            let cSpread = signalSpread(cv)
            let star = tile.id < weights.tileCount && weights.modes[tile.id] == .star
            let signal = star || (cSpread != nil && classicalNoise != nil && cSpread! >= signalSigmas * classicalNoise!)
            guard signal else { continue }
            carrying += 1
            let (sv, pixels) = tileValues(ls, tile)
            var ok = sv.count * 2 >= pixels
            if ok, tile.id < weights.tileCount, f > 0 {
                let w = weights.weights(tile: tile.id).map(Double.init)
                let sum = w.reduce(0, +), sumSq = w.reduce(0) { $0 + $1 * $1 }
                ok = sum >= 1e-6 && sumSq > 0 && sum * sum / sumSq >= minEffective
            }
            if ok, let c = cSpread, c > 0 {
                ok = (signalSpread(sv) ?? 0) / fluxRatio >= minSignalKept * c
            }
            if ok { usable += 1 } else if unusable.count < 50 { unusable.append(tile.id) }
        }
        return TileUsability(tiles: grid.tiles.count, signalCarrying: carrying, usable: usable,
                             fraction: carrying > 0 ? Double(usable) / Double(carrying) : nil, unusableIDs: unusable)
    }
}
