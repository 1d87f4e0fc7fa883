import Foundation

/// The sky itself, in reference coordinates: a star catalog and a precomputed RGB nebula map.
///
/// Guarantees: built only from the config and the seed; no star centre lies inside
/// `starlessRect` (grown by `starlessMargin` px), while the nebula there is bright and structured.
public struct SynthScene: Sendable {
    /// Reference-coordinate area that the catalog and nebula cover (larger than one frame so that
    /// rotated and shifted frames are filled to their edges).
    public let area: SynthRect
    /// The stars, reference coordinates.
    public let stars: [SynthStar]
    /// Nebulosity without stars, reference coordinates.
    public let starlessRect: SynthRect
    /// Star centres are kept this far outside `starlessRect`, px.
    public let starlessMargin: Double
    /// The nebula, sampled on a coarse grid (R, G, B, luminance planes).
    let nebula: SynthNebulaMap

    /// Builds the scene for `config` over `area` (the union of all frames' footprints).
    init(config: SynthConfig, area: SynthRect) {
        var rng = SynthRandom(seed: config.seed, stream: 1)
        self.area = area
        let w = Double(config.width), h = Double(config.height)
        let size = min(w, h)

        // Starless rectangle: inside the central part of the reference frame.
        let rw = max(20, (0.16 * w).rounded()), rh = max(20, (0.16 * h).rounded())
        let rcx = rng.uniform(0.3...0.7) * w, rcy = rng.uniform(0.3...0.7) * h
        let rect = SynthRect(x: (rcx - rw / 2).rounded(), y: (rcy - rh / 2).rounded(), width: rw, height: rh)
        starlessRect = rect
        starlessMargin = 8

        // Nebula: Gaussian blobs around a centre near the rectangle, modulated by value noise.
        var blobs: [SynthNebulaMap.Blob] = []
        let red = (2.1, 0.6, 0.7), teal = (0.45, 1.25, 1.05)
        blobs.append(.init(x: rect.x + rw / 2, y: rect.y + rh / 2, sx: 0.7 * max(rw, rh), sy: 0.55 * max(rw, rh),
                           angle: rng.uniform(0...Double.pi), amplitude: 1, color: red))
        let ncx = rcx + rng.uniform(-0.15...0.15) * w, ncy = rcy + rng.uniform(-0.15...0.15) * h
        for i in 0..<9 {
            blobs.append(.init(x: ncx + 0.22 * size * rng.normal(), y: ncy + 0.22 * size * rng.normal(),
                               sx: rng.uniform(0.05...0.2) * size, sy: rng.uniform(0.05...0.2) * size,
                               angle: rng.uniform(0...Double.pi), amplitude: rng.uniform(0.25...0.9),
                               color: i == 4 ? teal : red))
        }
        nebula = SynthNebulaMap(area: area, step: 2, blobs: blobs, noiseSeed: rng.next(),
                                noiseCell: 0.1 * size, peak: config.nebulaPeak)

        // Stars: uniform positions, power-law fluxes N(>F) ~ F^-0.8, a few near saturation
        // (`saturatingStars`: the first 3 at 0.8..1.4 x the saturation flux, further ones brighter).
        let count = config.starCount ?? Int((area.width * area.height / 1500).rounded())
        let skyNoise = (config.skyLevel / config.gain + config.readNoise * config.readNoise).squareRoot()
        let fMin = 10 * skyNoise
        let model = SynthPSFModel(width: config.width, height: config.height, beta: config.moffatBeta,
                                  fieldCurvature: 0, cornerEllipticity: 0)
        let midSeeing = (config.seeingRange.lowerBound + config.seeingRange.upperBound) / 2
        let a = model.alpha(forFWHM: midSeeing)
        let peakPerFlux = (config.moffatBeta - 1) / (Double.pi * a * a)
        let fullWell = 65535 - config.pedestal - config.skyLevel
        let fSat = fullWell / peakPerFlux
        var stars: [SynthStar] = []
        stars.reserveCapacity(count)
        let saturating = min(config.saturatingStars, count)
        while stars.count < count {
            let x = area.x + rng.uniform() * area.width, y = area.y + rng.uniform() * area.height
            if rect.contains(x, y, margin: starlessMargin) { continue }
            var flux: Double
            if stars.count < min(3, saturating) {
                flux = fSat * rng.uniform(0.8...1.4)
            } else if stars.count < saturating {
                // Beyond the historic three: heavily saturated stars (1..20 x), whose charge blooms.
                flux = fSat * exp(rng.uniform(0...3))
            } else {
                repeat { flux = fMin * pow(1 - rng.uniform(), -1 / 0.8) } while flux > 0.6 * fSat
            }
            let t = rng.uniform()
            stars.append(SynthStar(x: x, y: y, flux: flux, color: [0.75 + 0.5 * t, 1, 1.25 - 0.5 * t]))
        }
        self.stars = stars
    }
}

/// The nebula on a coarse reference grid, sampled bilinearly by the renderer (cheap per pixel).
struct SynthNebulaMap: Sendable {
    /// One elliptical Gaussian component with an RGB colour.
    struct Blob {
        var x: Double, y: Double, sx: Double, sy: Double, angle: Double, amplitude: Double
        var color: (Double, Double, Double)
    }

    let originX: Double, originY: Double, step: Double
    let nx: Int, ny: Int
    /// Planes R, G, B, luminance ((R + 2G + B) / 4), each `nx * ny`, row-major.
    let planes: [[Float]]

    init(area: SynthRect, step: Double, blobs: [Blob], noiseSeed: UInt64, noiseCell: Double, peak: Double) {
        originX = area.x - 2 * step
        originY = area.y - 2 * step
        self.step = step
        nx = Int((area.width / step).rounded(.up)) + 5
        ny = Int((area.height / step).rounded(.up)) + 5
        var r = [Float](repeating: 0, count: nx * ny), g = r, b = r, l = r
        var maxL: Double = 0
        var values = [Double](repeating: 0, count: nx * ny * 3)
        for j in 0..<ny {
            let y = originY + Double(j) * step
            for i in 0..<nx {
                let x = originX + Double(i) * step
                var cr = 0.0, cg = 0.0, cb = 0.0
                for blob in blobs {
                    let dx = x - blob.x, dy = y - blob.y
                    let c = cos(blob.angle), s = sin(blob.angle)
                    let u = (c * dx + s * dy) / blob.sx, v = (-s * dx + c * dy) / blob.sy
                    let e = u * u + v * v
                    if e > 30 { continue }
                    let w = blob.amplitude * exp(-0.5 * e)
                    cr += w * blob.color.0; cg += w * blob.color.1; cb += w * blob.color.2
                }
                // Filaments and voids: fractal value noise in [0, 1], sharpened.
                let n = SynthNebulaMap.fbm(x / noiseCell, y / noiseCell, seed: noiseSeed)
                let m = 0.25 + 0.75 * n * n
                let k = (j * nx + i) * 3
                values[k] = cr * m; values[k + 1] = cg * m; values[k + 2] = cb * m
                maxL = max(maxL, (cr + 2 * cg + cb) / 4 * m)
            }
        }
        let scale = maxL > 0 ? peak / maxL : 0
        for p in 0..<(nx * ny) {
            let vr = values[3 * p] * scale, vg = values[3 * p + 1] * scale, vb = values[3 * p + 2] * scale
            r[p] = Float(vr); g[p] = Float(vg); b[p] = Float(vb); l[p] = Float((vr + 2 * vg + vb) / 4)
        }
        planes = [r, g, b, l]
    }

    /// Fractal (4-octave) value noise in [0, 1], smooth, deterministic in `seed`.
    static func fbm(_ x: Double, _ y: Double, seed: UInt64) -> Double {
        var sum = 0.0, amp = 0.5, freq = 1.0, norm = 0.0
        for octave in 0..<4 {
            sum += amp * valueNoise(x * freq, y * freq, seed: seed &+ UInt64(octave))
            norm += amp
            amp *= 0.5
            freq *= 2.03
        }
        return sum / norm
    }

    /// Smoothstep-interpolated lattice noise in [0, 1].
    static func valueNoise(_ x: Double, _ y: Double, seed: UInt64) -> Double {
        let xf = x.rounded(.down), yf = y.rounded(.down)
        let ix = Int64(xf), iy = Int64(yf)
        let fx = x - xf, fy = y - yf
        let sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy)
        func lattice(_ a: Int64, _ b: Int64) -> Double {
            Double(SplitMix64.hash(seed, a, b) >> 11) * (1.0 / 9_007_199_254_740_992.0)
        }
        let v00 = lattice(ix, iy), v10 = lattice(ix + 1, iy)
        let v01 = lattice(ix, iy + 1), v11 = lattice(ix + 1, iy + 1)
        let top = v00 + (v10 - v00) * sx, bottom = v01 + (v11 - v01) * sx
        return top + (bottom - top) * sy
    }

    /// Bilinear sample of `plane` at reference position (x, y); zero outside the map.
    @inline(__always)
    static func sample(_ plane: UnsafeBufferPointer<Float>, nx: Int, ny: Int, gx: Double, gy: Double) -> Float {
        if !(gx >= 0 && gy >= 0) { return 0 }
        let i = Int(gx), j = Int(gy)
        if i >= nx - 1 || j >= ny - 1 { return 0 }
        let fx = Float(gx - Double(i)), fy = Float(gy - Double(j))
        let k = j * nx + i
        let top = plane[k] + (plane[k + 1] - plane[k]) * fx
        let bottom = plane[k + nx] + (plane[k + nx + 1] - plane[k + nx]) * fx
        return top + (bottom - top) * fy
    }
}
