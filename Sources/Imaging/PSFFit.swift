import Foundation

/// How `fitPSF` fits a star.
public struct PSFFitOptions: Sendable, Codable, Equatable {
    /// Profile to fit.
    public var model: PSFModel
    /// Half-size of the square stamp around the start position; nil picks
    /// `clamp(ceil(2.5 * FWHM estimate) + 2, 5, maxStampRadius)` from a half-maximum area estimate.
    public var stampRadius: Int?
    /// Largest automatic stamp half-size.
    public var maxStampRadius: Int
    /// Solver stopping rules.
    public var solver: LevenbergMarquardt.Options
    /// When set, a fit whose centre, at an accepted step, lies farther than this (px) from the start
    /// position is abandoned there and fails (nil): star detection drops any fit that ends farther than
    /// its `maxCentroidShift` from the centroid anyway, and such fits (a centre sliding onto a
    /// neighbour, a blend, a nebula knot) are the slow ones: on a dense field (650x500, 3000 stars)
    /// 22 % of the fits drifted beyond 2 px and took 54 % of all solver iterations. Nil: no limit.
    public var maxDrift: Double?

    /// Gaussian model, automatic stamp up to radius 24, solver options with a relative cost
    /// tolerance of 1e-5: on a stamp of m <= 300 pixels that is a chi^2 change of ~1e-5 m <= 3e-3, far
    /// below the change of ~1 that moves a parameter by its own 1-sigma error (a remaining chi^2 gain
    /// of that size leaves each parameter within ~0.05 sigma of the minimum), so the last iterations
    /// that only polish digits beyond the data's precision are not run.
    public init(model: PSFModel = .gaussian, stampRadius: Int? = nil, maxStampRadius: Int = 24,
                solver: LevenbergMarquardt.Options = .init(relativeCostTolerance: 1e-5), maxDrift: Double? = nil) {
        self.maxDrift = maxDrift
        self.model = model
        self.stampRadius = stampRadius
        self.maxStampRadius = maxStampRadius
        self.solver = solver
    }
}

/// A successful PSF fit: the model parameters and the derived star measurement.
public struct PSFFit: Sendable, Equatable {
    /// Fitted profile parameters.
    public var parameters: PSFParameters
    /// Measurement derived from `parameters` (see `StarMeasurement`).
    public var measurement: StarMeasurement
    /// Solver iterations used.
    public var iterations: Int
    /// Whether the solver met a tolerance (false: iteration cap reached; the result is still the best found).
    public var converged: Bool
}

/// Fits an elliptical PSF to the star near (`x`, `y`) in plane `channel` of `image`.
///
/// The stamp is the square of half-size `stampRadius` around the nearest pixel, clipped to the
/// image; NaN pixels are skipped. The background is a free parameter (a local sky level), so the
/// image need not be background-subtracted. Returns nil when the stamp is too small, the start has
/// no positive peak, or the fit leaves the model's domain (widths outside [0.2, 2 * stamp radius],
/// centre more than a stamp radius away, non-finite values).
///
/// - Parameter noiseSigma: background noise used for `contrast` and `snr`; nil uses the fit's residual RMS.
/// - Guarantees: deterministic; the returned centre lies within the stamp.
public func fitPSF(in image: Image, channel: Int = 0, x: Double, y: Double,
                   noiseSigma: Double? = nil, options: PSFFitOptions = PSFFitOptions()) -> PSFFit? {
    precondition(channel >= 0 && channel < image.channels, "channel out of range")
    let cx = Int((x).rounded()), cy = Int((y).rounded())
    guard cx >= 0, cx < image.width, cy >= 0, cy < image.height else { return nil }
    return image.pixels.withUnsafeBufferPointer { all in
        let plane = UnsafeBufferPointer(rebasing: all[(channel * image.planeSize)..<((channel + 1) * image.planeSize)])
        return PSFFitter(plane: plane, width: image.width, height: image.height)
            .fit(cx: cx, cy: cy, x: x, y: y, noiseSigma: noiseSigma, options: options)
    }
}

/// Fits on one plane given as a row-major buffer (used by detection to avoid copies).
struct PSFFitter {
    let plane: UnsafeBufferPointer<Float>
    let width: Int
    let height: Int

    /// Collects finite pixels of the square of half-size `r` around (cx, cy).
    func stamp(cx: Int, cy: Int, r: Int) -> (xs: [Double], ys: [Double], vs: [Double]) {
        var xs: [Double] = [], ys: [Double] = [], vs: [Double] = []
        let x0 = max(0, cx - r), x1 = min(width - 1, cx + r)
        let y0 = max(0, cy - r), y1 = min(height - 1, cy + r)
        guard x0 <= x1, y0 <= y1 else { return (xs, ys, vs) }
        xs.reserveCapacity((x1 - x0 + 1) * (y1 - y0 + 1))
        ys.reserveCapacity(xs.capacity); vs.reserveCapacity(xs.capacity)
        for yy in y0...y1 {
            let row = yy * width
            for xx in x0...x1 {
                let v = plane[row + xx]
                if v.isFinite { xs.append(Double(xx)); ys.append(Double(yy)); vs.append(Double(v)) }
            }
        }
        return (xs, ys, vs)
    }

    /// Median of the stamp's outer ring (a robust local sky start value). The ring's pixels are gathered
    /// in a stack buffer (no allocation per fit) and their median selected, not sorted.
    func ringMedian(cx: Int, cy: Int, r: Int) -> Double? {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 8 * r + 1) { ring in
            var n = 0
            func take(_ xx: Int, _ yy: Int) {
                guard xx >= 0, xx < width, yy >= 0, yy < height else { return }
                let v = plane[yy * width + xx]
                if v.isFinite { ring[n] = Double(v); n += 1 }
            }
            // The ring only: its top and bottom rows, then its left and right columns between them.
            if cx - r >= 0, cx + r < width, cy - r >= 0, cy + r < height {
                // Inside the plane (nearly every star): the same pixels in the same order, no bounds tests.
                @inline(__always) func put(_ v: Float) { ring[n] = Double(v); n += v.isFinite ? 1 : 0 }
                let top = plane.baseAddress! + (cy - r) * width + (cx - r)
                for i in 0...(2 * r) { put(top[i]) }
                if r > 0 { let bottom = top + 2 * r * width; for i in 0...(2 * r) { put(bottom[i]) } }
                var row = top + width
                for _ in stride(from: cy - r + 1, to: cy + r, by: 1) { put(row[0]); put(row[2 * r]); row += width }
            } else {
                for xx in (cx - r)...(cx + r) { take(xx, cy - r) }
                if r > 0 { for xx in (cx - r)...(cx + r) { take(xx, cy + r) } }
                for yy in stride(from: cy - r + 1, to: cy + r, by: 1) { take(cx - r, yy); take(cx + r, yy) }
            }
            // Quickselect: the middle value, or the mean of the middle two (as sorting would give).
            return Statistics.selectQuantile(UnsafeMutableBufferPointer(rebasing: ring[0..<n]), 0.5)
        }
    }

    /// The fit of `fitPSF` started at (`x`, `y`) near pixel (`cx`, `cy`). `scalarReference`: fit a
    /// Gaussian with the scalar all-Double loop (the Moffat path) instead of `fitGaussian`, the
    /// reference the tests hold the vector path to.
    func fit(cx: Int, cy: Int, x: Double, y: Double, noiseSigma: Double?, options: PSFFitOptions,
             scalarReference: Bool = false) -> PSFFit? {
        // Start values: sky from a ring, peak from the 3x3 maximum, FWHM from the half-maximum area.
        let probe = options.stampRadius ?? 6
        guard let sky0 = ringMedian(cx: cx, cy: cy, r: probe) else { return nil }
        var peak0 = -Double.infinity
        for yy in max(0, cy - 1)...min(height - 1, cy + 1) {
            for xx in max(0, cx - 1)...min(width - 1, cx + 1) {
                let v = Double(plane[yy * width + xx])
                if v.isFinite { peak0 = max(peak0, v) }
            }
        }
        let amp0 = peak0 - sky0
        guard amp0 > 0, amp0.isFinite else { return nil }
        var above = 0
        let half = sky0 + amp0 / 2
        for yy in max(0, cy - probe)...min(height - 1, cy + probe) {
            for xx in max(0, cx - probe)...min(width - 1, cx + probe) where Double(plane[yy * width + xx]) > half {
                above += 1
            }
        }
        let fwhm0 = min(max(2 * (Double(max(above, 1)) / Double.pi).squareRoot(), 1.0), Double(probe))
        let r = options.stampRadius ?? min(max(Int((2.5 * fwhm0).rounded(.up)) + 2, 5), options.maxStampRadius)
        let sky = options.stampRadius == nil ? (ringMedian(cx: cx, cy: cy, r: r) ?? sky0) : sky0
        if options.model == .gaussian, !scalarReference {
            return fitGaussian(cx: cx, cy: cy, x: x, y: y, r: r, sky: sky, peak: peak0, fwhm: fwhm0,
                               noiseSigma: noiseSigma, options: options)
        }
        let (xs, ys, vs) = stamp(cx: cx, cy: cy, r: r)

        let freeBeta: Bool
        let beta0: Double
        switch options.model {
        case .gaussian: freeBeta = false; beta0 = 0
        case .moffat(let b?): freeBeta = false; beta0 = b
        case .moffat(nil): freeBeta = true; beta0 = 2.5
        }
        let n = freeBeta ? 8 : 7
        guard vs.count >= 3 * n else { return nil }
        let w0 = PSFParameters.width(fwhm: fwhm0, model: options.model, beta: beta0)
        let q0 = 1 / (w0 * w0)
        let start: [Double] = freeBeta ? [sky, peak0 - sky, x, y, q0, 0, q0, beta0]
                                       : [sky, peak0 - sky, x, y, q0, 0, q0]
        let isMoffat: Bool = { if case .moffat = options.model { return true }; return false }()
        let m = vs.count

        let isValid: ([Double]) -> Bool = { p in Self.isValid(p, x: x, y: y, r: r, freeBeta: freeBeta) }

        let solver = LevenbergMarquardt(options: options.solver)
        let expTable = FastMath.exp2Table64Pointer
        let abandon: (([Double]) -> Bool)? = options.maxDrift.map { limit in
            { p in (p[2] - x) * (p[2] - x) + (p[3] - y) * (p[3] - y) > limit * limit }
        }
        // Moffat: residuals, cost and the normal equations in one pass over the stamp (bit-identical
        // to `minimize` with a stored Jacobian; see `minimizeNormal`). The Gaussian: `fitGaussian`.
        let row = UnsafeMutablePointer<Double>.allocate(capacity: 8)
        defer { row.deallocate() }
        let result = xs.withUnsafeBufferPointer { xp in
            ys.withUnsafeBufferPointer { yp in
                vs.withUnsafeBufferPointer { vp in
                    solver.minimizeNormal(start: start, isValid: isValid, abandon: abandon) { p, jtj, jtr in
                        let bg = p[0], amp = p[1], px = p[2], py = p[3], a = p[4], b = p[5], c = p[6]
                        let beta = freeBeta ? p[7] : beta0
                        var cost = 0.0
                        guard let jtj, let jtr else {
                            for i in 0..<m {
                                let dx = xp[i] - px, dy = yp[i] - py
                                let q = a * dx * dx + 2 * b * dx * dy + c * dy * dy
                                let g = isMoffat ? FastMath.expFit(-beta * log(1 + q), table: expTable) : FastMath.expFit(-0.5 * q, table: expTable)
                                let r = bg + amp * g - vp[i]
                                cost += r * r
                            }
                            return cost
                        }
                        for i in 0..<m {
                            let dx = xp[i] - px, dy = yp[i] - py
                            let q = a * dx * dx + 2 * b * dx * dy + c * dy * dy
                            let g: Double, dfdq: Double
                            if isMoffat {
                                let base = 1 + q
                                let lb = log(base)
                                g = FastMath.expFit(-beta * lb, table: expTable)
                                dfdq = -amp * beta * g / base
                                if freeBeta { row[7] = -amp * g * lb }
                            } else {
                                g = FastMath.expFit(-0.5 * q, table: expTable)
                                dfdq = -0.5 * amp * g
                            }
                            let r = bg + amp * g - vp[i]
                            cost += r * r
                            row[0] = 1
                            row[1] = g
                            row[2] = -dfdq * 2 * (a * dx + b * dy)
                            row[3] = -dfdq * 2 * (b * dx + c * dy)
                            row[4] = dfdq * dx * dx
                            row[5] = dfdq * 2 * dx * dy
                            row[6] = dfdq * dy * dy
                            for u in 0..<n {
                                let ju = row[u]
                                jtr[u] += ju * r
                                let out = jtj + u * n
                                for v in u..<n { out[v] += ju * row[v] }
                            }
                        }
                        return cost
                    }
                }
            }
        }
        return finish(result, start: start, x: x, y: y, m: m, noiseSigma: noiseSigma, options: options,
                      isValid: isValid, beta: freeBeta ? nil : beta0)
    }

    /// Whether `p` lies in the model's domain: finite, positive amplitude, centre within `r` of the
    /// start (`x`, `y`), widths in [0.2, 2r] (eigenvalues of the quadratic form), beta in [1.05, 15].
    static func isValid(_ p: [Double], x: Double, y: Double, r: Int, freeBeta: Bool) -> Bool {
        guard p.allSatisfy({ $0.isFinite }), p[1] > 0 else { return false }
        guard abs(p[2] - x) <= Double(r), abs(p[3] - y) <= Double(r) else { return false }
        let maxWidth = 2 * Double(r)
        let minQ = 1 / (maxWidth * maxWidth), maxQ = 1 / (0.2 * 0.2)
        let a = p[4], b = p[5], c = p[6]
        let mean = (a + c) / 2, d = (((a - c) / 2) * ((a - c) / 2) + b * b).squareRoot()
        guard mean - d >= minQ, mean + d <= maxQ else { return false }
        if freeBeta, !(p[7] >= 1.05 && p[7] <= 15) { return false }
        return true
    }

    /// The fit's outcome from the solver's result: nil when the parameters are invalid, the solver never
    /// moved without converging, or the centre drifted beyond `maxDrift`; else the parameters and the
    /// measurement. `beta`: the fixed Moffat beta (0 for the Gaussian), nil when it was fitted (p[7]).
    func finish(_ result: LevenbergMarquardt.Result, start: [Double], x: Double, y: Double, m: Int,
                noiseSigma: Double?, options: PSFFitOptions, isValid: ([Double]) -> Bool, beta: Double?) -> PSFFit? {
        let p = result.parameters
        guard isValid(p), p != start || result.converged else { return nil }
        if let limit = options.maxDrift, (p[2] - x) * (p[2] - x) + (p[3] - y) * (p[3] - y) > limit * limit { return nil }
        guard let params = PSFParameters.fromQuadraticForm(
            model: options.model, background: p[0], amplitude: p[1], x0: p[2], y0: p[3],
            a: p[4], b: p[5], c: p[6], beta: beta ?? p[7]) else { return nil }

        let rms = (result.cost / Double(m)).squareRoot()
        let noise = (noiseSigma.map { $0 > 0 ? $0 : rms }) ?? rms
        let fwhmMajor = params.fwhmMajor, fwhmMinor = params.fwhmMinor
        let fwhm = (fwhmMajor * fwhmMinor).squareRoot()
        let s = fwhm / (2 * (2 * log(2.0)).squareRoot())
        let flux = params.flux
        let measurement = StarMeasurement(
            x: params.x0, y: params.y0, flux: flux, peak: params.amplitude, background: params.background,
            fwhm: fwhm, fwhmMajor: fwhmMajor, fwhmMinor: fwhmMinor,
            roundness: fwhmMinor / fwhmMajor, ellipticity: 1 - fwhmMinor / fwhmMajor,
            contrast: noise > 0 ? params.amplitude / noise : .infinity,
            snr: noise > 0 ? flux / (noise * (4 * .pi * s * s).squareRoot()) : .infinity,
            angle: params.angle, residualRMS: rms)
        return PSFFit(parameters: params, measurement: measurement, iterations: result.iterations,
                      converged: result.converged)
    }
}
