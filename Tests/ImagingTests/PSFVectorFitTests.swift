import Foundation
import Testing
@testable import Imaging
import TestSupport

/// The Gaussian fit's vector path (`fitGaussian`: Double cost pass, Float32 normal equations) against
/// truth on noisy generated stars and against the scalar all-Double reference (`scalarReference`).
@Suite("PSF vector fit")
struct PSFVectorFitTests {
    struct Case {
        var truth: StarTestTruth
        var image: Image
        var sky: Double
        var startX: Double
        var startY: Double
    }

    /// 200 elliptical Gaussian stars, one per 48 x 48 image: FWHM 1.8...6 px, axis ratio 0.7...1, any
    /// angle, peak 150...30000 ADU (log-uniform) on a sky of 200...3000 ADU with Poisson-like noise,
    /// the fit started up to 0.3 px from the true centre (as a centroid would).
    static let cases: [Case] = {
        var rng = TestRNG(seed: 12_012)
        return (0..<200).map { k in
            let major = 1.8 + 4.2 * rng.uniform()
            let minor = major * (0.7 + 0.3 * rng.uniform())
            let truth = StarTestTruth(x: 24 + rng.uniform() - 0.5, y: 24 + rng.uniform() - 0.5,
                                      amplitude: 150 * pow(200, rng.uniform()), fwhmMajor: major, fwhmMinor: minor,
                                      angle: Double.pi * (rng.uniform() - 0.5))
            let sky = 200 + 2800 * rng.uniform()
            let image = renderStarField(width: 48, height: 48, sky: sky, stars: [truth], seed: 50_000 + UInt64(k))
            return Case(truth: truth, image: image, sky: sky, startX: truth.x + 0.6 * (rng.uniform() - 0.5),
                        startY: truth.y + 0.6 * (rng.uniform() - 0.5))
        }
    }()

    struct Errors {
        var fwhm: [Double] = []
        var centre: [Double] = []
        var flux: [Double] = []
        var iterations = 0
        var failed = 0
        var fits: [PSFFit?] = []

        static func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }
        var summary: String {
            String(format: "FWHM mean %.4f max %.4f | centre mean %.4f max %.4f px | flux mean %.4f max %.4f | %d failed, %.2f iterations/fit",
                   Self.mean(fwhm), fwhm.max() ?? 0, Self.mean(centre), centre.max() ?? 0, Self.mean(flux),
                   flux.max() ?? 0, failed, Double(iterations) / Double(max(fwhm.count, 1)))
        }
    }

    static func run(scalarReference: Bool) -> Errors {
        var e = Errors()
        for c in cases {
            let fit = c.image.pixels.withUnsafeBufferPointer { plane in
                PSFFitter(plane: plane, width: c.image.width, height: c.image.height)
                    .fit(cx: Int(c.startX.rounded()), cy: Int(c.startY.rounded()), x: c.startX, y: c.startY,
                         noiseSigma: c.sky.squareRoot(), options: PSFFitOptions(), scalarReference: scalarReference)
            }
            e.fits.append(fit)
            guard let fit else { e.failed += 1; continue }
            let m = fit.measurement, t = c.truth
            let k = 2 * (2 * log(2.0)).squareRoot()
            let fwhm = (t.fwhmMajor * t.fwhmMinor).squareRoot()
            let flux = 2 * Double.pi * t.amplitude * (t.fwhmMajor / k) * (t.fwhmMinor / k)
            e.fwhm.append(abs(m.fwhm - fwhm) / fwhm)
            e.centre.append(hypot(m.x - t.x, m.y - t.y))
            e.flux.append(abs(m.flux - flux) / flux)
            e.iterations += fit.iterations
        }
        return e
    }

    @Test("vector Gaussian fit on 200 noisy stars: FWHM, centre and flux errors against truth, no worse than the Double reference")
    func accuracyAgainstTruth() {
        let vector = Self.run(scalarReference: false), reference = Self.run(scalarReference: true)
        print("PSF vector   : \(vector.summary)")
        print("PSF reference: \(reference.summary)")
        #expect(vector.failed == 0)
        // Absolute accuracy, set by the noise (peak SNR ~3...500 per pixel; the faintest stars dominate
        // the maxima). All-Double reference when written: FWHM mean 0.0243 max 0.353, centre mean
        // 0.062 max 0.79 px, flux mean 0.033 max 0.46.
        #expect(Errors.mean(vector.fwhm) < 0.03 && vector.fwhm.max()! < 0.45)
        #expect(Errors.mean(vector.centre) < 0.08 && vector.centre.max()! < 1.0)
        #expect(Errors.mean(vector.flux) < 0.04 && vector.flux.max()! < 0.6)
        #expect(Errors.mean(vector.fwhm) <= Errors.mean(reference.fwhm) * 1.001)
        #expect(Errors.mean(vector.centre) <= Errors.mean(reference.centre) * 1.001)
        #expect(Errors.mean(vector.flux) <= Errors.mean(reference.flux) * 1.001)
        // As accurate as the all-Double fit: star by star, the two fits agree far inside the errors.
        #expect(vector.failed == reference.failed)
        var worstFWHM = 0.0, worstCentre = 0.0, worstFlux = 0.0
        for (v, r) in zip(vector.fits, reference.fits) {
            guard let v = v?.measurement, let r = r?.measurement else { continue }
            worstFWHM = max(worstFWHM, abs(v.fwhm - r.fwhm) / r.fwhm)
            worstCentre = max(worstCentre, hypot(v.x - r.x, v.y - r.y))
            worstFlux = max(worstFlux, abs(v.flux - r.flux) / r.flux)
        }
        print("PSF vector - reference, worst: FWHM \(worstFWHM), centre \(worstCentre) px, flux \(worstFlux)")
        #expect(worstFWHM < 1e-4 && worstCentre < 1e-4 && worstFlux < 1e-4)
    }

    @Test("vector fit is deterministic: the same bits on repeated and concurrent fits")
    func deterministic() async {
        let c = Self.cases[7]
        let once = fitPSF(in: c.image, x: c.startX, y: c.startY, noiseSigma: 10)
        #expect(once != nil)
        await withTaskGroup(of: PSFFit?.self) { group in
            for _ in 0..<4 { group.addTask { fitPSF(in: c.image, x: c.startX, y: c.startY, noiseSigma: 10) } }
            for await other in group { #expect(other == once) }
        }
    }

    @Test("FastMath.expNegative: Float lanes within 2 ulp of exp on [-40, 0] and 0 below (each lane's bits its own value's); Double lanes within 2 ulp")
    func vectorExp() {
        var worstF = 0.0, worstD = 0.0
        var x = -40.0
        while x <= 0 {
            let f = FastMath.expNegative(SIMD8<Float>(repeating: Float(x)))
            let f8 = FastMath.expNegative(SIMD8<Float>(Float(x), 0, -1, -50, Float(x), 0, -1, -50))
            #expect(f8[0] == f[0] && f8[4] == f[0] && f8[1] == 1 && f8[3] == 0 && f == SIMD8(repeating: f[0]))
            let exact = Foundation.exp(Double(Float(x)))
            let ulpF = Double(Float(exact).ulp)
            worstF = max(worstF, abs(Double(f[0]) - exact) / ulpF)
            let d = FastMath.expNegative(SIMD2<Double>(x, x * 17.3))
            for (i, v) in [x, x * 17.3].enumerated() {
                let e = Foundation.exp(v)
                worstD = max(worstD, abs(d[i] - e) / e.ulp)
            }
            x += 0.000_731
        }
        #expect(worstF <= 2, "Float worst \(worstF) ulp")
        #expect(worstD <= 2, "Double worst \(worstD) ulp")
        let f = FastMath.expNegative(SIMD8<Float>(-40.5, -1000, 0, .nan, -40.5, -1000, 0, .nan))
        #expect(f[0] == 0 && f[1] == 0 && f[2] == 1 && f[3].isNaN && f[4] == 0 && f[6] == 1 && f[7].isNaN)
        let d = FastMath.expNegative(SIMD2<Double>(-709, .nan))
        #expect(d[0] == 0 && d[1].isNaN)
    }

    @Test("Gaussian passes: Float cost within 1e-6 of the Double sum; normal equations from the kept values equal a fresh pass")
    func fusedPasses() {
        for c in Self.cases.prefix(40) {
            c.image.pixels.withUnsafeBufferPointer { plane in
                let cx = Int(c.startX.rounded()), cy = Int(c.startY.rounded())
                let stamp = PSFStamp(plane: plane, width: c.image.width, height: c.image.height, cx: cx, cy: cy, r: 8, offset: c.sky)
                defer { stamp.deallocate() }
                let passes = PSFGaussianPasses(stamp: stamp)
                let t = c.truth, k = 2 * (2 * log(2.0)).squareRoot()
                let q = 1 / pow((t.fwhmMajor * t.fwhmMinor).squareRoot() / k, 2)
                let p1 = [c.sky + 3, t.amplitude * 0.9, c.startX, c.startY, q, 0.01 * q, q * 1.1]
                let p2 = [c.sky - 2, t.amplitude * 1.1, c.startX + 0.2, c.startY - 0.1, q * 0.9, 0, q]
                // The cost against the all-Double sum over the stamp's pixels.
                var exact = 0.0
                for yy in (cy - 8)...(cy + 8) {
                    for xx in (cx - 8)...(cx + 8) {
                        let dx = Double(xx) - p1[2], dy = Double(yy) - p1[3]
                        let g = Foundation.exp(-0.5 * (p1[4] * dx * dx + 2 * p1[5] * dx * dy + p1[6] * dy * dy))
                        let r = p1[0] + p1[1] * g - Double(plane[yy * c.image.width + xx])
                        exact += r * r
                    }
                }
                let cost = p1.withUnsafeBufferPointer { passes.cost($0) }
                #expect(abs(cost - exact) <= 1e-6 * exact, "cost \(cost) vs \(exact)")
                // normal(p1) right after cost(p1) reuses its values; after cost(p2) it evaluates p1 again.
                var j1 = [Double](repeating: 0, count: 49), r1 = [Double](repeating: 0, count: 7)
                var j2 = j1, r2 = r1
                p1.withUnsafeBufferPointer { p in j1.withUnsafeMutableBufferPointer { j in r1.withUnsafeMutableBufferPointer { passes.normal(p, j.baseAddress!, $0.baseAddress!) } } }
                _ = p2.withUnsafeBufferPointer { passes.cost($0) }
                p1.withUnsafeBufferPointer { p in j2.withUnsafeMutableBufferPointer { j in r2.withUnsafeMutableBufferPointer { passes.normal(p, j.baseAddress!, $0.baseAddress!) } } }
                #expect(j1 == j2 && r1 == r2)
                #expect(j1[0] == Double(stamp.count) && j1[8] > 0 && r1.allSatisfy(\.isFinite))
            }
        }
    }

    @Test("minimizeSplit with the exact normal equations takes minimize's steps (minimizeNormal runs on it)")
    func splitMatchesNormal() {
        // y = p0 * exp(-p1 * t) + p2 on exact data.
        let ts = (0..<40).map { Double($0) * 0.1 }
        let ys = ts.map { 3 * exp(-1.7 * $0) + 0.4 }
        func evaluate(_ p: UnsafeBufferPointer<Double>, _ jtj: UnsafeMutablePointer<Double>?, _ jtr: UnsafeMutablePointer<Double>?) -> Double {
            var cost = 0.0
            for (t, y) in zip(ts, ys) {
                let e = exp(-p[1] * t)
                let r = p[0] * e + p[2] - y
                cost += r * r
                guard let jtj, let jtr else { continue }
                let row = [e, -p[0] * t * e, 1]
                for a in 0..<3 {
                    jtr[a] += row[a] * r
                    for b in a..<3 { jtj[a * 3 + b] += row[a] * row[b] }
                }
            }
            return cost
        }
        let lm = LevenbergMarquardt()
        let start: [Double] = [1, 0.5, 0]
        let plain = lm.minimize(start: start, residualCount: ts.count) { p, r, jac in
            for i in ts.indices {
                let e = exp(-p[1] * ts[i])
                r[i] = p[0] * e + p[2] - ys[i]
                if jac != nil { jac![i * 3] = e; jac![i * 3 + 1] = -p[0] * ts[i] * e; jac![i * 3 + 2] = 1 }
            }
        }
        let normal = lm.minimizeNormal(start: start, isValid: { _ in true }, evaluate: evaluate)
        #expect(normal == plain)
        let split = lm.minimizeSplit(start: start, isValid: { _ in true }, cost: { evaluate($0, nil, nil) }) { p, jtj, jtr in
            jtj.update(repeating: 0, count: 9)
            jtr.update(repeating: 0, count: 3)
            _ = evaluate(p, jtj, jtr)
        }
        #expect(split == normal)
        #expect(abs(split.parameters[1] - 1.7) < 1e-6)
    }
}
