import Foundation

/// Which components `SynthSeries.render(frame:options:)` puts into a frame.
public struct SynthRenderOptions: OptionSet, Sendable {
    /// Raw bits.
    public let rawValue: Int
    /// A set from raw bits.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Catalog stars through the PSF, times transparency.
    public static let stars = SynthRenderOptions(rawValue: 1)
    /// The nebula sampled through the frame transform, times transparency.
    public static let nebula = SynthRenderOptions(rawValue: 2)
    /// Sky background (gradient, curvature, cloud glow).
    public static let sky = SynthRenderOptions(rawValue: 4)
    /// The satellite trail (only in the trail frame).
    public static let trail = SynthRenderOptions(rawValue: 8)
    /// Hot pixels and warm columns.
    public static let hotPixels = SynthRenderOptions(rawValue: 16)
    /// Shot and read noise, pedestal, rounding to integers and clipping to 0...65535; with the
    /// defect knobs also blooming, full-well saturation and the ADC's bit depth.
    public static let sensor = SynthRenderOptions(rawValue: 32)
    /// Cosmic-ray hits of the frame.
    public static let cosmicRays = SynthRenderOptions(rawValue: 64)

    /// Everything: what a real camera would record (the frames written to disk).
    public static let full: SynthRenderOptions = [.stars, .nebula, .sky, .trail, .hotPixels, .cosmicRays, .sensor]
    /// Noise-free signal of the stars only (for measuring PSF truth).
    public static let starsOnly: SynthRenderOptions = [.stars]
}

extension SynthSeries {
    /// How a plane samples the RGB scene.
    enum Sampling {
        /// Luminance (mono camera).
        case luminance
        /// RGGB Bayer mosaic.
        case mosaic
        /// One colour plane (0 = R, 1 = G, 2 = B) of the RGB reference.
        case channel(Int)
    }

    /// Frame `index` as the camera records it (with `.full`), or a subset of its components.
    ///
    /// Mono frames sample the scene's luminance, `cfa` frames an RGGB mosaic of the RGB scene.
    /// With `.sensor` the values are integers in 0...65535 (exactly what the uint16 file holds;
    /// 0...2^adcBits - 1 below 16 bits). A glitch frame's kernel applies to stars and nebula.
    /// Deterministic: the result depends only on the config, `index` and `options`.
    public func render(frame index: Int, options: SynthRenderOptions = .full) -> Image {
        precondition(index >= 0 && index < config.frames, "frame index \(index) out of range 0..<\(config.frames)")
        let c = conditions[index]
        let d = defects[index]
        var pixels = renderSignal(transform: c.transform, seeing: c.seeing, transparency: c.transparency,
                                  sampling: config.cfa ? .mosaic : .luminance, options: options,
                                  kernel: d.glitch?.points)
        let w = config.width, h = config.height
        pixels.withUnsafeMutableBufferPointer { buf in
            if options.contains(.trail), let trail = c.trail {
                addTrail(trail, transparency: c.transparency, into: buf)
            }
            if options.contains(.trail) {
                for trail in d.trails { addTrail(trail, transparency: c.transparency, into: buf) }
                for plane in d.planes { addPlaneTrail(plane, transparency: c.transparency, into: buf) }
            }
            if options.contains(.sky) {
                for y in 0..<h {
                    let row = y * w
                    for x in 0..<w {
                        buf[row + x] += Float(c.sky(x: Double(x), y: Double(y), width: w, height: h))
                    }
                }
            }
            if options.contains(.hotPixels) {
                for hp in hotPixels { buf[hp.y * w + hp.x] += Float(hp.amplitude) }
                for col in warmColumns {
                    let a = Float(col.amplitude)
                    for y in 0..<h { buf[y * w + col.x] += a }
                }
            }
            if options.contains(.cosmicRays) {
                for hit in d.cosmicRays {
                    for p in hit.pixels { buf[p.y * w + p.x] += Float(p.value) }
                }
            }
            if options.contains(.sensor) {
                if config.blooming { bloom(buf) }
                applySensor(to: buf, frame: index)
            }
        }
        return Image(width: w, height: h, channels: 1, pixels: pixels)
    }

    /// The noise-free reference: best seeing (the best frame's), reference geometry, transparency 1,
    /// stars and nebula only (no sky, pedestal, hot pixels or trail). Mono: one luminance plane;
    /// CFA: three planes R, G, B.
    public func renderReference() -> Image {
        let seeing = conditions[truth.bestFrame].seeing
        if !config.cfa {
            let p = renderSignal(transform: .identity, seeing: seeing, transparency: 1, sampling: .luminance,
                                 options: [.stars, .nebula])
            return Image(width: config.width, height: config.height, channels: 1, pixels: p)
        }
        let planes = (0..<3).map { k in
            Image(width: config.width, height: config.height, channels: 1,
                  pixels: renderSignal(transform: .identity, seeing: seeing, transparency: 1,
                                       sampling: .channel(k), options: [.stars, .nebula]))
        }
        return Image.merging(planes: planes)
    }

    /// Stars and nebula of one plane, in frame geometry, in ADU.
    ///
    /// With a `kernel` (tracking glitch) the result is the weighted sum of copies shifted by each point.
    func renderSignal(transform: SimilarityTransform, seeing: Double, transparency: Double,
                      sampling: Sampling, options: SynthRenderOptions, kernel: [SynthKernelPoint]? = nil) -> [Float] {
        let w = config.width, h = config.height
        if let kernel {
            var sum = [Float](repeating: 0, count: w * h)
            for point in kernel {
                let shifted = SimilarityTransform(rotation: transform.rotation, scale: transform.scale,
                                                  tx: transform.tx + point.dx, ty: transform.ty + point.dy)
                let copy = renderSignal(transform: shifted, seeing: seeing, transparency: transparency * point.weight,
                                        sampling: sampling, options: options)
                for i in 0..<sum.count { sum[i] += copy[i] }
            }
            return sum
        }
        var pixels = [Float](repeating: 0, count: w * h)
        pixels.withUnsafeMutableBufferPointer { buf in
            if options.contains(.nebula) {
                addNebula(into: buf, transform: transform, transparency: transparency, sampling: sampling)
            }
            if options.contains(.stars) {
                for star in scene.stars {
                    let p = transform.apply(x: star.x, y: star.y)
                    if p.x < -130 || p.y < -130 || p.x > Double(w) + 130 || p.y > Double(h) + 130 { continue }
                    let shape = psf.shape(atX: p.x, y: p.y, seeing: seeing)
                    var flux = star.flux * transparency
                    var gains: (Double, Double, Double, Double)?
                    switch sampling {
                    case .luminance: break
                    case .mosaic: gains = (star.color[0], star.color[1], star.color[1], star.color[2])
                    case .channel(let k): flux *= star.color[k]
                    }
                    psf.render(into: buf, width: w, height: h, x: p.x, y: p.y, flux: flux, shape: shape,
                               oversampling: config.oversampling, siteGain: gains)
                }
            }
        }
        return pixels
    }

    /// Bilinear samples of the coarse nebula map through the inverse transform, row by row.
    private func addNebula(into buf: UnsafeMutableBufferPointer<Float>, transform: SimilarityTransform,
                           transparency: Double, sampling: Sampling) {
        let w = config.width, h = config.height
        let map = scene.nebula
        let t = Float(transparency)
        // Plane per Bayer site (row parity * 2 + column parity).
        let sitePlanes: [Int]
        switch sampling {
        case .luminance: sitePlanes = [3, 3, 3, 3]
        case .mosaic: sitePlanes = [0, 1, 1, 2]
        case .channel(let k): sitePlanes = [k, k, k, k]
        }
        let c = cos(transform.rotation) / transform.scale, s = sin(transform.rotation) / transform.scale
        let dgx = c / map.step, dgy = -s / map.step
        map.planes[sitePlanes[0]].withUnsafeBufferPointer { p0 in
        map.planes[sitePlanes[1]].withUnsafeBufferPointer { p1 in
        map.planes[sitePlanes[2]].withUnsafeBufferPointer { p2 in
        map.planes[sitePlanes[3]].withUnsafeBufferPointer { p3 in
            for y in 0..<h {
                let start = transform.preimage(x: 0, y: Double(y))
                var gx = (start.x - map.originX) / map.step
                var gy = (start.y - map.originY) / map.step
                let even = (y & 1) == 0
                let pa = even ? p0 : p2, pb = even ? p1 : p3
                let row = y * w
                var x = 0
                while x < w {
                    buf[row + x] += t * SynthNebulaMap.sample(pa, nx: map.nx, ny: map.ny, gx: gx, gy: gy)
                    gx += dgx; gy += dgy
                    if x + 1 < w {
                        buf[row + x + 1] += t * SynthNebulaMap.sample(pb, nx: map.nx, ny: map.ny, gx: gx, gy: gy)
                        gx += dgx; gy += dgy
                    }
                    x += 2
                }
            }
        }}}}
    }

    /// A straight satellite trail with a Gaussian cross-section (neutral colour).
    private func addTrail(_ trail: SynthTrail, transparency: Double, into buf: UnsafeMutableBufferPointer<Float>) {
        let w = config.width, h = config.height
        let lx = trail.x1 - trail.x0, ly = trail.y1 - trail.y0
        let len = (lx * lx + ly * ly).squareRoot()
        let nx = -ly / len, ny = lx / len
        let reach = 5 * trail.sigma
        let inv2s2 = 1 / (2 * trail.sigma * trail.sigma)
        let amp = trail.peak * transparency
        for y in 0..<h {
            let row = y * w
            for x in 0..<w {
                let d = (Double(x) - trail.x0) * nx + (Double(y) - trail.y0) * ny
                if abs(d) > reach { continue }
                buf[row + x] += Float(amp * exp(-d * d * inv2s2))
            }
        }
    }

    /// Blooming: charge above the full well (65535 - pedestal) moves along the column, half down
    /// and half up, filling the next pixels to the full well; charge pushed past an edge is lost.
    /// Pixels are visited in row-major order, so the result is deterministic.
    private func bloom(_ buf: UnsafeMutableBufferPointer<Float>) {
        let w = config.width, n = buf.count
        let full = Float(SynthSeries.saturation - config.pedestal)
        for i in 0..<n where buf[i] > full {
            let excess = buf[i] - full
            buf[i] = full
            var down = excess / 2, up = excess - down
            var j = i + w
            while down > 0 && j < n {
                let room = full - buf[j]
                if room > 0 { let take = min(room, down); buf[j] += take; down -= take }
                j += w
            }
            j = i - w
            while up > 0 && j >= 0 {
                let room = full - buf[j]
                if room > 0 { let take = min(room, up); buf[j] += take; up -= take }
                j -= w
            }
        }
    }

    /// A plane: two parallel Gaussian lines (wing lights) at 25 % of the peak, at full peak inside
    /// the strobe flashes (the first `dashLength` px of every `dashPeriod` px from (x0, y0)).
    private func addPlaneTrail(_ trail: SynthTrail, transparency: Double, into buf: UnsafeMutableBufferPointer<Float>) {
        let w = config.width, h = config.height
        let lx = trail.x1 - trail.x0, ly = trail.y1 - trail.y0
        let len = (lx * lx + ly * ly).squareRoot()
        let ux = lx / len, uy = ly / len, nx = -uy, ny = ux
        let half = (trail.separation ?? 6) / 2
        let period = trail.dashPeriod ?? 40, dash = trail.dashLength ?? 4
        let reach = half + 5 * trail.sigma
        let inv2s2 = 1 / (2 * trail.sigma * trail.sigma)
        let amp = trail.peak * transparency
        for y in 0..<h {
            let row = y * w
            for x in 0..<w {
                let ex = Double(x) - trail.x0, ey = Double(y) - trail.y0
                let d = ex * nx + ey * ny
                if abs(d) > reach { continue }
                var u = (ex * ux + ey * uy).truncatingRemainder(dividingBy: period)
                if u < 0 { u += period }
                let level = u < dash ? 1.0 : 0.25
                let a = d - half, b = d + half
                buf[row + x] += Float(amp * level * (exp(-a * a * inv2s2) + exp(-b * b * inv2s2)))
            }
        }
    }

    /// Poisson shot noise (in electrons), Gaussian read noise, pedestal, rounding and clipping.
    /// Below 16 ADC bits the value is divided by `adcDivisor` before rounding and clipped to
    /// 2^bits - 1; with a lower ADC or blooming a pixel at the full well reads the ceiling.
    private func applySensor(to buf: UnsafeMutableBufferPointer<Float>, frame index: Int) {
        if config.adcBits < 16 || config.blooming {
            applySensorWithADC(to: buf, frame: index)
            return
        }
        var rng = SynthRandom(seed: config.seed, stream: 1000 + UInt64(index))
        let gain = config.gain, rn = config.readNoise, rn2 = rn * rn
        let pedestal = config.pedestal, top = SynthSeries.saturation
        for i in 0..<buf.count {
            let s = max(0, Double(buf[i]))
            var v = Self.exposed(s, gain: gain, readNoise: rn, readNoise2: rn2, rng: &rng)
            v = (v + pedestal).rounded()
            buf[i] = Float(min(top, max(0, v)))
        }
    }

    /// One pixel's recorded signal for `s` ADU of light: Poisson shot noise in electrons (a Gaussian
    /// above 30 e-) plus Gaussian read noise, before the pedestal. Both sensor paths draw through it,
    /// so they draw the same random numbers per pixel.
    @inline(__always)
    private static func exposed(_ s: Double, gain: Double, readNoise rn: Double, readNoise2 rn2: Double,
                                rng: inout SynthRandom) -> Double {
        if s * gain < 30 { return rng.poisson(s * gain) / gain + rn * rng.normal() }
        return s + (s / gain + rn2).squareRoot() * rng.normal()
    }

    /// `applySensor` for a full-well clamp and an ADC of `adcBits` (same noise draws per pixel).
    private func applySensorWithADC(to buf: UnsafeMutableBufferPointer<Float>, frame index: Int) {
        var rng = SynthRandom(seed: config.seed, stream: 1000 + UInt64(index))
        let gain = config.gain, rn = config.readNoise, rn2 = rn * rn
        let pedestal = config.pedestal
        let divisor = config.adcDivisor
        let ceiling = Double((1 << config.adcBits) - 1)
        let full = SynthSeries.saturation - pedestal
        for i in 0..<buf.count {
            let s = max(0, Double(buf[i]))
            var v = Self.exposed(s, gain: gain, readNoise: rn, readNoise2: rn2, rng: &rng)
            v = ((v + pedestal) / divisor).rounded()
            if s >= full { v = ceiling }
            buf[i] = Float(min(ceiling, max(0, v)))
        }
    }
}
