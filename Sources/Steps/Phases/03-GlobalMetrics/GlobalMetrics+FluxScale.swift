import Foundation
import Imaging

/// The frames' relative flux scale s_f: how bright the same star is in frame f's normalized units
/// (I' = I / B_f), relative to the median frame. Transparency and the normalization both enter it:
/// s_f = t_f / B_f up to a constant. It turns a frame's normalized noise sigma_f into noise per unit
/// of star flux (sigma_f / s_f), which is what the noise-aware weights and the predicted noise use.
public enum FluxScale {
    /// Stars that enter: unsaturated, ellipticity <= 0.4, SNR >= 20, with a flux.
    static func usable(_ s: MeasuredStar) -> Bool {
        !s.saturated && s.ellipticity <= 0.4 && s.snr >= 20 && (s.flux ?? 0) > 0
    }

    /// Per frame: the median over stars matched (within `radius` px, mutual nearest) to the reference
    /// frame (the one with the most usable stars, lowest index on ties) of flux_f / flux_ref, then all
    /// divided by their median over frames. A frame with fewer than `minMatches` matched stars gets the
    /// median scale (1): no evidence, no penalty. Deterministic.
    public static func relative(_ measures: [FrameMeasurement], radius: Double = 1.5, minMatches: Int = 5) -> [Double] {
        let lists = measures.map { $0.stars.filter(usable) }
        guard let refIndex = lists.indices.max(by: { lists[$0].count < lists[$1].count || (lists[$0].count == lists[$1].count && $0 > $1) }),
              !lists[refIndex].isEmpty else { return measures.map { _ in 1 } }
        let ref = lists[refIndex]
        let cell = max(2.0, radius * 2)
        var buckets: [Int64: [Int]] = [:]
        func key(_ x: Double, _ y: Double) -> Int64 { Int64(floor(x / cell)) << 32 | Int64(floor(y / cell)) & 0xffff_ffff }
        for (i, s) in ref.enumerated() { buckets[key(s.x, s.y), default: []].append(i) }
        func nearest(_ x: Double, _ y: Double) -> Int? {
            var best: Int?, bestD = radius * radius
            let cx = Int64(floor(x / cell)), cy = Int64(floor(y / cell))
            for dx in -1...1 { for dy in -1...1 {
                for i in buckets[(cx + Int64(dx)) << 32 | (cy + Int64(dy)) & 0xffff_ffff] ?? [] {
                    let d = (ref[i].x - x) * (ref[i].x - x) + (ref[i].y - y) * (ref[i].y - y)
                    if d < bestD || (d == bestD && i < (best ?? Int.max)) { bestD = d; best = i }
                }
            } }
            return best
        }
        var raw: [Double?] = []
        for list in lists {
            var ratios: [Double] = []
            for s in list { if let i = nearest(s.x, s.y), let fr = ref[i].flux { ratios.append(s.flux! / fr) } }
            raw.append(ratios.count >= minMatches ? Statistics.median(ratios) : nil)
        }
        guard let mid = Statistics.median(raw.compactMap { $0 }), mid > 0 else { return measures.map { _ in 1 } }
        return raw.map { ($0 ?? mid) / mid }
    }
}
