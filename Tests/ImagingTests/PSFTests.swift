import Foundation
import Testing
@testable import Imaging
import TestSupport

// MARK: - Test data shared by PSF and star-detection tests (prefixed to avoid clashes in the target)

/// A star to render: profile written out independently of the library's `PSFParameters`.
struct StarTestTruth {
    var x: Double
    var y: Double
    var amplitude: Double
    var fwhmMajor: Double
    var fwhmMinor: Double
    var angle: Double = 0
    var moffatBeta: Double? = nil

    /// Profile height above background at (px, py); `sub` > 1 averages sub x sub samples over the pixel.
    func value(_ px: Double, _ py: Double, sub: Int = 1) -> Double {
        var sum = 0.0
        for j in 0..<sub {
            for i in 0..<sub {
                let sx = px - 0.5 + (Double(i) + 0.5) / Double(sub)
                let sy = py - 0.5 + (Double(j) + 0.5) / Double(sub)
                let dx = sx - x, dy = sy - y
                let u = dx * cos(angle) + dy * sin(angle)
                let v = -dx * sin(angle) + dy * cos(angle)
                if let beta = moffatBeta {
                    let k = 2 * (pow(2, 1 / beta) - 1).squareRoot()
                    let aM = fwhmMajor / k, am = fwhmMinor / k
                    sum += amplitude * pow(1 + (u / aM) * (u / aM) + (v / am) * (v / am), -beta)
                } else {
                    let k = 2 * (2 * log(2.0)).squareRoot()
                    let sM = fwhmMajor / k, sm = fwhmMinor / k
                    sum += amplitude * exp(-0.5 * ((u / sM) * (u / sM) + (v / sm) * (v / sm)))
                }
            }
        }
        return sum / Double(sub * sub)
    }
}

/// Renders stars on a flat sky with Poisson-like noise (Gaussian with variance = signal / gain,
/// `gain` = 1 e-/ADU), seeded.
func renderStarField(width: Int, height: Int, sky: Double, stars: [StarTestTruth], seed: UInt64,
                     sub: Int = 1, noise: Bool = true) -> Image {
    var img = Image(width: width, height: height)
    var rng = TestRNG(seed: seed)
    for yy in 0..<height {
        for xx in 0..<width {
            var v = sky
            for s in stars where abs(Double(xx) - s.x) < 40 && abs(Double(yy) - s.y) < 40 {
                v += s.value(Double(xx), Double(yy), sub: sub)
            }
            if noise { v += v.squareRoot() * rng.normal() }
            img[xx, yy] = Float(v)
        }
    }
    return img
}

// MARK: - PSF fit tests

@Suite("PSF fitting")
struct PSFTests {
    @Test("Gaussian stars: FWHM within 5 %, centroid within 0.05 px", arguments: [2.0, 3.0, 4.0, 6.0])
    func gaussianFWHM(fwhm: Double) throws {
        let truth = StarTestTruth(x: 32.37, y: 31.71, amplitude: 3000, fwhmMajor: fwhm, fwhmMinor: fwhm)
        let img = renderStarField(width: 64, height: 64, sky: 200, stars: [truth], seed: 11 + UInt64(fwhm * 10))
        let fit = try #require(fitPSF(in: img, x: 32, y: 32, noiseSigma: 200.0.squareRoot()))
        let m = fit.measurement
        #expect(abs(m.fwhm - fwhm) / fwhm < 0.05, "FWHM \(m.fwhm) vs \(fwhm)")
        #expect(abs(m.x - truth.x) < 0.05 && abs(m.y - truth.y) < 0.05, "centre (\(m.x), \(m.y))")
        #expect(abs(m.peak - truth.amplitude) / truth.amplitude < 0.05)
        #expect(abs(m.background - 200) < 5)
        #expect(m.snr > 50)
        #expect(m.roundness > 0.9 && m.roundness <= 1)
    }

    @Test("Moffat stars (beta 3, fitted with free beta): FWHM within 5 %, centroid within 0.05 px",
          arguments: [2.0, 3.0, 4.0, 6.0])
    func moffatFWHM(fwhm: Double) throws {
        let truth = StarTestTruth(x: 40.62, y: 39.18, amplitude: 3000, fwhmMajor: fwhm, fwhmMinor: fwhm,
                                  moffatBeta: 3)
        let img = renderStarField(width: 80, height: 80, sky: 200, stars: [truth], seed: 97 + UInt64(fwhm * 10))
        let fit = try #require(fitPSF(in: img, x: 41, y: 39, noiseSigma: 200.0.squareRoot(),
                                      options: PSFFitOptions(model: .moffat(beta: nil))))
        let m = fit.measurement
        #expect(abs(m.fwhm - fwhm) / fwhm < 0.05, "FWHM \(m.fwhm) vs \(fwhm)")
        #expect(abs(m.x - truth.x) < 0.05 && abs(m.y - truth.y) < 0.05, "centre (\(m.x), \(m.y))")
        #expect(abs(fit.parameters.beta - 3) < 1, "beta \(fit.parameters.beta)")
    }

    @Test("Moffat with fixed beta reports that beta and the right FWHM")
    func moffatFixedBeta() throws {
        let truth = StarTestTruth(x: 30.2, y: 29.9, amplitude: 2500, fwhmMajor: 3.5, fwhmMinor: 3.5, moffatBeta: 4.765)
        let img = renderStarField(width: 60, height: 60, sky: 150, stars: [truth], seed: 5)
        let fit = try #require(fitPSF(in: img, x: 30, y: 30, options: PSFFitOptions(model: .moffat(beta: 4.765))))
        #expect(fit.parameters.beta == 4.765)
        #expect(abs(fit.measurement.fwhm - 3.5) / 3.5 < 0.05)
    }

    @Test("Elongated star: ellipticity within 0.05, major-axis angle recovered", arguments: [0.3, -0.9, 1.2])
    func ellipticity(angle: Double) throws {
        let truth = StarTestTruth(x: 32.4, y: 32.8, amplitude: 4000, fwhmMajor: 5, fwhmMinor: 3.5, angle: angle)
        let img = renderStarField(width: 64, height: 64, sky: 100, stars: [truth], seed: 3)
        let m = try #require(fitPSF(in: img, x: 32, y: 33)).measurement
        #expect(abs(m.ellipticity - 0.3) < 0.05, "ellipticity \(m.ellipticity)")
        #expect(abs(m.fwhmMajor - 5) / 5 < 0.05 && abs(m.fwhmMinor - 3.5) / 3.5 < 0.05)
        // Axes have no sign: compare modulo pi.
        let d = PSFParameters.normalizedAngle(m.angle - angle)
        #expect(abs(d) < 0.05, "angle \(m.angle) vs \(angle)")
    }

    @Test("Pixel-integrated Gaussian stars (FWHM >= 3) are measured within 5 % of the unpixelated FWHM",
          arguments: [3.0, 4.0, 6.0])
    func pixelIntegrated(fwhm: Double) throws {
        let truth = StarTestTruth(x: 31.5, y: 32.25, amplitude: 3000, fwhmMajor: fwhm, fwhmMinor: fwhm)
        let img = renderStarField(width: 64, height: 64, sky: 200, stars: [truth], seed: 21, sub: 8)
        let m = try #require(fitPSF(in: img, x: 32, y: 32)).measurement
        #expect(abs(m.fwhm - fwhm) / fwhm < 0.05, "FWHM \(m.fwhm) vs \(fwhm)")
        // Pixel response only widens the star.
        #expect(m.fwhm > fwhm * 0.995)
        #expect(abs(m.x - truth.x) < 0.05 && abs(m.y - truth.y) < 0.05)
    }

    @Test("Flux of a noiseless Gaussian matches the analytic integral")
    func flux() throws {
        let truth = StarTestTruth(x: 20.3, y: 20.6, amplitude: 1000, fwhmMajor: 3, fwhmMinor: 3)
        let img = renderStarField(width: 40, height: 40, sky: 10, stars: [truth], seed: 1, noise: false)
        let m = try #require(fitPSF(in: img, x: 20, y: 21)).measurement
        let sigma = 3 / (2 * (2 * log(2.0)).squareRoot())
        #expect(abs(m.flux - 2 * .pi * 1000 * sigma * sigma) < 1)
        #expect(m.residualRMS < 1e-3)
    }

    @Test("Fit on an empty (flat) stamp returns nil")
    func flatStampFails() {
        let img = Image(width: 32, height: 32, fill: 5)
        #expect(fitPSF(in: img, x: 16, y: 16) == nil)
    }
}

@Suite("Levenberg-Marquardt")
struct LevenbergMarquardtTests {
    @Test("Recovers exponential-decay parameters from exact data")
    func exponentialDecay() {
        let ts = (0..<30).map { Double($0) * 0.2 }
        let ys = ts.map { 3.0 * exp(-0.7 * $0) + 0.5 }
        let lm = LevenbergMarquardt()
        let r = lm.minimize(start: [1, -0.1, 0], residualCount: ts.count) { p, res, jac in
            for i in 0..<ts.count {
                let e = exp(p[1] * ts[i])
                res[i] = p[0] * e + p[2] - ys[i]
                if jac != nil {
                    jac![i * 3] = e
                    jac![i * 3 + 1] = p[0] * ts[i] * e
                    jac![i * 3 + 2] = 1
                }
            }
        }
        #expect(r.converged)
        #expect(abs(r.parameters[0] - 3) < 1e-6 && abs(r.parameters[1] + 0.7) < 1e-6 && abs(r.parameters[2] - 0.5) < 1e-6)
        #expect(r.cost < 1e-12)
    }
}
