import Foundation

/// Observing conditions of one frame: what changes over the night.
struct SynthConditions: Sendable {
    /// FWHM at the field centre, px.
    var seeing: Double
    /// Atmospheric transmission.
    var transparency: Double
    /// Sky level at the frame centre, ADU.
    var skyCentre: Double
    /// Linear gradient: ADU added at (x - cx) = W/2 along x.
    var skySlopeX: Double
    /// Linear gradient: ADU added at (y - cy) = H/2 along y.
    var skySlopeY: Double
    /// ADU added at the corner by the quadratic (vignetting-like) term.
    var skyCurvature: Double
    /// Reference -> frame transform.
    var transform: SimilarityTransform
    /// Satellite trail, if this is the trail frame.
    var trail: SynthTrail?
    /// Start of the exposure, seconds since 1970.
    var epochSeconds: Int

    /// Sky background at sensor position (x, y) for a `width` x `height` sensor.
    @inline(__always)
    func sky(x: Double, y: Double, width: Int, height: Int) -> Double {
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        let u = (x - cx) / (Double(width) / 2), v = (y - cy) / (Double(height) / 2)
        return skyCentre + skySlopeX * u + skySlopeY * v + skyCurvature * (u * u + v * v) / 2
    }

    /// The night, frame by frame: a sequential, seeded simulation (cheap, so not parallel).
    static func simulate(_ config: SynthConfig) -> [SynthConditions] {
        var rng = SynthRandom(seed: config.seed, stream: 2)
        let n = config.frames
        let w = Double(config.width), h = Double(config.height)
        let cx = (w - 1) / 2, cy = (h - 1) / 2

        // Seeing: a mean-reverting random walk in log space, reflected into the range.
        let lo = log(config.seeingRange.lowerBound), hi = log(config.seeingRange.upperBound)
        let mid = (lo + hi) / 2, span = hi - lo
        var ls = mid + rng.uniform(-0.25...0.25) * span
        var seeing = [Double](repeating: 0, count: n)
        for f in 0..<n {
            seeing[f] = exp(ls)
            ls += 0.09 * span * rng.normal() - 0.04 * (ls - mid)
            if ls < lo { ls = 2 * lo - ls }
            if ls > hi { ls = 2 * hi - ls }
            ls = min(max(ls, lo), hi)
        }
        // A few bad moments (wind gusts, a bump of the mount): 1-2 frames with much worse seeing.
        if n >= 5 {
            for _ in 0..<max(1, n / 60) {
                let f = rng.index(n)
                let factor = rng.uniform(1.3...1.6)
                seeing[f] *= factor
                if f + 1 < n, rng.uniform() < 0.5 { seeing[f + 1] *= (1 + factor) / 2 }
            }
        }

        // The realistic night's seeing (its own stream: the historic draws above stay in place).
        if let cv = config.seeingCV {
            var night = SynthRandom(seed: config.seed, stream: 90)
            let sd = sqrt(log(1 + cv * cv)), rho = 0.9
            var z = night.normal()
            for f in 0..<n {
                seeing[f] = min(max(exp(mid + sd * z), config.seeingRange.lowerBound), config.seeingRange.upperBound)
                z = rho * z + sqrt(1 - rho * rho) * night.normal()
            }
        }

        // Transparency: slight haze, plus a few cloud events of 1-3 frames at 0.4..0.8.
        var transparency = [Double](repeating: 1, count: n)
        var haze = 0.0
        for f in 0..<n {
            haze = max(0, min(0.03, haze + 0.004 * rng.normal()))
            transparency[f] = 1 - haze
        }
        if n >= 4 {
            for _ in 0..<max(1, n / 50) {
                let start = rng.index(n), length = 1 + rng.index(3)
                let depth = rng.uniform(0.4...0.8)
                for k in 0..<length where start + k < n {
                    let edge = (k == 0 || k == length - 1) && length == 3
                    transparency[start + k] = min(transparency[start + k], edge ? min(0.8, depth + 0.15) : depth)
                }
            }
        }

        // The realistic night's cloud passage (its own stream).
        if config.cloudPassage, n >= 4 {
            var night = SynthRandom(seed: config.seed, stream: 91)
            let centre = night.uniform(0.35...0.65) * Double(n - 1)
            let halfWidth = max(1.5, night.uniform(0.05...0.07) * Double(n))
            let depth = night.uniform(0.5...0.65)
            for f in 0..<n {
                let u = (Double(f) - centre) / halfWidth
                guard abs(u) < 1 else { continue }
                let c = cos(u * Double.pi / 2)
                transparency[f] = min(transparency[f], 1 - depth * c * c)
            }
        }

        // Sky: rising slowly (moon, twilight), gradient turning slowly; clouds add glow.
        let historicRise = rng.uniform(0.1...0.3)
        let riseTotal = config.skyRise ?? historicRise
        let gradientAngle0 = rng.uniform(0...(2 * Double.pi))
        let gradientTurn = rng.uniform(-0.6...0.6)
        let gradientAmp = rng.uniform(0.08...0.15) * config.skyLevel
        let curvature = rng.uniform(0.02...0.05) * config.skyLevel

        // Geometry: linear field rotation, a slow drift and per-frame jitter.
        let totalRotation = config.totalRotationDegrees * Double.pi / 180
        let driftAngle = rng.uniform(0...(2 * Double.pi)), historicDrift = rng.uniform(2...6)
        // The knob overrides the magnitude only, so the random sequence (and the default series) is unchanged.
        let driftTotal = config.driftFraction.map { $0 * w } ?? historicDrift

        // The trail frame.
        let trailFrame = rng.index(n)

        let period = config.exposureSeconds + config.frameGapSeconds
        var result: [SynthConditions] = []
        result.reserveCapacity(n)
        for f in 0..<n {
            let progress = n > 1 ? Double(f) / Double(n - 1) : 0
            let t = transparency[f]
            let skyCentre = config.skyLevel * (1 + riseTotal * progress) * (1 + 1.2 * (1 - t))
            let angle = gradientAngle0 + gradientTurn * progress
            let amp = gradientAmp * (1 + 0.3 * progress)
            let rot = totalRotation * progress
            let dx = driftTotal * progress * cos(driftAngle) + config.jitterPixels * (2 * rng.uniform() - 1)
            let dy = driftTotal * progress * sin(driftAngle) + config.jitterPixels * (2 * rng.uniform() - 1)
            let c = cos(rot), s = sin(rot)
            // Rotation about the frame centre, then shift: x = R (X - c) + c + d.
            // The initializer folds the rotation into (-pi, pi]: `rot` passes unchanged while
            // |totalRotationDegrees| < 180 (default 3).
            let transform = SimilarityTransform(rotation: rot, scale: 1,
                                                tx: cx - (c * cx - s * cy) + dx,
                                                ty: cy - (s * cx + c * cy) + dy)
            var trail: SynthTrail?
            if f == trailFrame {
                let px = rng.uniform(0.25...0.75) * w, py = rng.uniform(0.25...0.75) * h
                let theta = rng.uniform(0...Double.pi)
                trail = SynthTrail(x0: px, y0: py, x1: px + 100 * cos(theta), y1: py + 100 * sin(theta),
                                   peak: rng.uniform(800...2500), sigma: 1.1)
            }
            result.append(SynthConditions(
                seeing: seeing[f], transparency: t, skyCentre: skyCentre,
                skySlopeX: amp * cos(angle), skySlopeY: amp * sin(angle), skyCurvature: curvature,
                transform: transform, trail: trail,
                epochSeconds: config.startEpochSeconds + Int((Double(f) * period).rounded())))
        }
        return result
    }

    /// `epochSeconds` as a FITS DATE-OBS string, "YYYY-MM-DDThh:mm:ss" (UTC), computed without locale.
    static func isoDate(epochSeconds: Int) -> String {
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secs = epochSeconds - days * 86_400
        // Civil-from-days (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(secs / 3600)):\(two(secs % 3600 / 60)):\(two(secs % 60))"
    }
}
