import Foundation

/// The defects of one frame that are not sensor-fixed.
struct SynthFrameDefects: Sendable {
    /// Bright satellite trails crossing the frame.
    var trails: [SynthTrail] = []
    /// Plane trails crossing the frame.
    var planes: [SynthTrail] = []
    /// Cosmic-ray hits.
    var cosmicRays: [SynthCosmicRay] = []
    /// Tracking-glitch kernel, if any.
    var glitch: SynthGlitch?
}

extension SynthConfig {
    /// 2^(16 - adcBits): the factor between the 16-bit camera scale and the stored values.
    public var adcDivisor: Double { Double(1 << (16 - adcBits)) }
}

extension SynthSeries {
    /// Warm columns from random stream 4 (none by default).
    static func makeWarmColumns(_ config: SynthConfig) -> [SynthWarmColumn] {
        guard config.warmColumns > 0 else { return [] }
        var rng = SynthRandom(seed: config.seed, stream: 4)
        var seen = Set<Int>()
        var result: [SynthWarmColumn] = []
        while result.count < config.warmColumns {
            let x = 2 + rng.index(config.width - 4)
            if !seen.insert(x).inserted { continue }
            result.append(SynthWarmColumn(x: x, amplitude: rng.uniform(15...60).rounded()))
        }
        return result.sorted { $0.x < $1.x }
    }

    /// Satellite trails (stream 5), glitch kernels (stream 6), plane trails (stream 8) and cosmic
    /// rays (stream 7000 + frame),
    /// each from its own stream: switching one defect on does not move the others.
    static func makeDefects(_ config: SynthConfig) -> [SynthFrameDefects] {
        let n = config.frames, w = Double(config.width), h = Double(config.height)
        var result = [SynthFrameDefects](repeating: SynthFrameDefects(), count: n)

        if config.satelliteTrails > 0 {
            var rng = SynthRandom(seed: config.seed, stream: 5)
            var frames = Set<Int>()
            while frames.count < config.satelliteTrails { frames.insert(rng.index(n)) }
            for f in frames.sorted() {
                let px = rng.uniform(0.2...0.8) * (w - 1), py = rng.uniform(0.2...0.8) * (h - 1)
                let theta = rng.uniform(0...Double.pi)
                let (a, b) = clipLine(x: px, y: py, dx: cos(theta), dy: sin(theta), width: w, height: h)
                result[f].trails.append(SynthTrail(x0: a.x, y0: a.y, x1: b.x, y1: b.y,
                                                   peak: rng.uniform(4000...30_000).rounded(),
                                                   sigma: rng.uniform(0.45...0.8)))
            }
        }

        if config.planeTrails > 0 {
            var rng = SynthRandom(seed: config.seed, stream: 8)
            var frames = Set<Int>()
            while frames.count < config.planeTrails { frames.insert(rng.index(n)) }
            for f in frames.sorted() {
                let px = rng.uniform(0.2...0.8) * (w - 1), py = rng.uniform(0.2...0.8) * (h - 1)
                let theta = rng.uniform(0...Double.pi)
                let (a, b) = clipLine(x: px, y: py, dx: cos(theta), dy: sin(theta), width: w, height: h)
                let period = rng.uniform(25...60)
                result[f].planes.append(SynthTrail(x0: a.x, y0: a.y, x1: b.x, y1: b.y,
                                                   peak: rng.uniform(3000...12_000).rounded(),
                                                   sigma: rng.uniform(0.6...1.0), kind: "plane",
                                                   separation: rng.uniform(4...8), dashPeriod: period,
                                                   dashLength: rng.uniform(3...6)))
            }
        }

        if config.glitchFraction > 0 {
            var rng = SynthRandom(seed: config.seed, stream: 6)
            var count = Int((config.glitchFraction * Double(n)).rounded())
            if count == 0 && n >= 5 { count = 1 }
            var frames = Set<Int>()
            while frames.count < min(count, n) { frames.insert(rng.index(n)) }
            for f in frames.sorted() {
                let angle = rng.uniform(0...(2 * Double.pi))
                if rng.uniform() < 0.6 {
                    // The mount jumped once during the exposure: two copies.
                    let sep = rng.uniform(4...9), second = rng.uniform(0.3...0.45)
                    result[f].glitch = SynthGlitch(kind: "double", points: [
                        SynthKernelPoint(dx: 0, dy: 0, weight: 1 - second),
                        SynthKernelPoint(dx: sep * cos(angle), dy: sep * sin(angle), weight: second),
                    ])
                } else {
                    // The mount drifted during the exposure: evenly spread along a short segment.
                    let length = rng.uniform(4...10)
                    let m = Int(length.rounded(.up)) + 1
                    result[f].glitch = SynthGlitch(kind: "line", points: (0..<m).map { k in
                        let t = length * Double(k) / Double(m - 1)
                        return SynthKernelPoint(dx: t * cos(angle), dy: t * sin(angle), weight: 1 / Double(m))
                    })
                }
            }
        }

        if config.cosmicRaysPerMegapixel > 0 {
            let mean = config.cosmicRaysPerMegapixel * w * h / 1e6
            for f in 0..<n {
                var rng = SynthRandom(seed: config.seed, stream: 7000 + UInt64(f))
                let count = Int(rng.poisson(mean))
                var hits: [SynthCosmicRay] = []
                for _ in 0..<count {
                    let x = rng.index(config.width), y = rng.index(config.height)
                    let amplitude = (1500 * exp(rng.uniform(0...2.6))).rounded()
                    var pixels = [SynthDeposit(x: x, y: y, value: amplitude)]
                    if rng.uniform() < 0.4 {
                        // A grazing track: 2..6 px along a random direction, fading.
                        let length = 2 + rng.index(5), angle = rng.uniform(0...(2 * Double.pi))
                        var last = (x, y)
                        for k in 1..<length {
                            let px = Int((Double(x) + Double(k) * cos(angle)).rounded())
                            let py = Int((Double(y) + Double(k) * sin(angle)).rounded())
                            if px < 0 || py < 0 || px >= config.width || py >= config.height { break }
                            if (px, py) == last { continue }
                            last = (px, py)
                            pixels.append(SynthDeposit(x: px, y: py, value: (amplitude * rng.uniform(0.3...0.9)).rounded()))
                        }
                    }
                    hits.append(SynthCosmicRay(x: x, y: y, amplitude: amplitude, pixels: pixels))
                }
                result[f].cosmicRays = hits
            }
        }
        return result
    }

    /// Where the line through (x, y) with direction (dx, dy) enters and leaves [0, w-1] x [0, h-1].
    static func clipLine(x: Double, y: Double, dx: Double, dy: Double, width w: Double, height h: Double)
        -> ((x: Double, y: Double), (x: Double, y: Double)) {
        var tMin = -Double.infinity, tMax = Double.infinity
        for (p, d, hi) in [(x, dx, w - 1), (y, dy, h - 1)] where abs(d) > 1e-12 {
            let t0 = (0 - p) / d, t1 = (hi - p) / d
            tMin = max(tMin, min(t0, t1)); tMax = min(tMax, max(t0, t1))
        }
        return ((x + tMin * dx, y + tMin * dy), (x + tMax * dx, y + tMax * dy))
    }

    /// Catalog indices of stars whose noise-free nearest pixel (the star's PSF integrated over that
    /// pixel, times the largest kernel weight in a glitch frame and the Bayer site's colour, plus
    /// sky) reaches `fullWell` in this frame. A lower bound: other stars and the nebula are left out.
    static func saturatedStars(stars: [SynthStar], psf: SynthPSFModel, conditions c: SynthConditions,
                               glitch: SynthGlitch?, config: SynthConfig, fullWell: Double) -> [Int] {
        let w = Double(config.width), h = Double(config.height)
        let weight = glitch?.points.map(\.weight).max() ?? 1
        var result: [Int] = []
        for (i, star) in stars.enumerated() {
            let p = c.transform.apply(x: star.x, y: star.y)
            if p.x < -0.5 || p.y < -0.5 || p.x > w - 0.5 || p.y > h - 0.5 { continue }
            let shape = psf.shape(atX: p.x, y: p.y, seeing: c.seeing)
            let sky = c.sky(x: p.x, y: p.y, width: config.width, height: config.height)
            // The pixel average never exceeds the peak density: most stars stop here.
            if star.flux * c.transparency * weight * (star.color.max() ?? 1) * psf.density(dx: 0, dy: 0, shape: shape)
                + sky + 1 < fullWell { continue }
            let px = Int(p.x.rounded()), py = Int(p.y.rounded())
            let site = (py & 1) * 2 + (px & 1)
            let colour = config.cfa ? [star.color[0], star.color[1], star.color[1], star.color[2]][site] : 1
            // The pixel average of the density, on the renderer's oversampling grid.
            let n = max(1, config.oversampling), step = 1 / Double(n)
            let dx0 = Double(px) - p.x - 0.5 + step / 2, dy0 = Double(py) - p.y - 0.5 + step / 2
            var mean = 0.0
            for j in 0..<n {
                for k in 0..<n { mean += psf.density(dx: dx0 + Double(k) * step, dy: dy0 + Double(j) * step, shape: shape) }
            }
            mean /= Double(n * n)
            let value = star.flux * c.transparency * weight * colour * mean
            if value + c.sky(x: Double(px), y: Double(py), width: config.width, height: config.height) >= fullWell {
                result.append(i)
            }
        }
        return result
    }
}
