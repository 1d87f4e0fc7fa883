import Foundation
import Testing
@testable import Imaging
import TestSupport

/// The issue-12 fast paths give the values of the plain code they replace (bit for bit where they
/// claim it), on seeded star fields.
@Suite("Fast paths: same values as the plain kernels")
struct FastPathTests {
    /// A 256 x 192 field of 40 Gaussian stars on a sloped sky, a few NaN pixels.
    static func field() -> Image {
        var rng = TestRNG(seed: 12)
        let stars = (0..<40).map { _ in
            StarTestTruth(x: Double.random(in: 12...244, using: &rng), y: Double.random(in: 12...180, using: &rng),
                          amplitude: Double.random(in: 300...6000, using: &rng), fwhmMajor: 3.2, fwhmMinor: 2.9, angle: 0.4)
        }
        var img = renderStarField(width: 256, height: 192, sky: 800, stars: stars, seed: 3)
        for y in 0..<192 { for x in 0..<256 { img[x, y] += Float(0.5 * Double(x)) } }
        img[10, 10] = .nan; img[200, 100] = .nan
        return img
    }

    @Test("FastMath.exp is within 2 ulp of libm exp on [-708, 709], 0 below, NaN stays NaN")
    func fastExp() {
        var worst = 0.0
        var x = -707.9
        while x < 708 {
            let e = Foundation.exp(x), f = FastMath.exp(x)
            worst = max(worst, abs(f - e) / e)
            x += 0.0137
        }
        for v in [0.0, -1e-300, -0.5, -1, -2.5, 1e-12] { worst = max(worst, abs(FastMath.exp(v) - Foundation.exp(v)) / Foundation.exp(v)) }
        #expect(worst <= 2 * Double.ulpOfOne)
        #expect(FastMath.exp(-800) == 0 && FastMath.exp(0) == 1 && FastMath.exp(.nan).isNaN)
        #expect(FastMath.exp(710) == .infinity)
    }

    @Test("FastMath.expFit (table + degree-6 polynomial) is within 4 ulp of libm exp on [-708, 709], same domain rules")
    func fastExpFit() {
        var worst = 0.0
        var x = -707.9
        while x < 708 {
            let e = Foundation.exp(x), f = FastMath.expFit(x, table: FastMath.exp2Table64Pointer)
            worst = max(worst, abs(f - e) / e)
            x += 0.00137
        }
        for v in [0.0, -1e-300, -0.5, -1, -2.5, 1e-12, -30, -0.0054, 0.0054] {
            worst = max(worst, abs(FastMath.expFit(v, table: FastMath.exp2Table64Pointer) - Foundation.exp(v)) / Foundation.exp(v))
        }
        #expect(worst <= 4 * Double.ulpOfOne, "worst relative error \(worst / Double.ulpOfOne) ulp")
        #expect(FastMath.expFit(-800, table: FastMath.exp2Table64Pointer) == 0 && FastMath.expFit(0, table: FastMath.exp2Table64Pointer) == 1 && FastMath.expFit(.nan, table: FastMath.exp2Table64Pointer).isNaN)
        #expect(FastMath.expFit(710, table: FastMath.exp2Table64Pointer) == .infinity)
    }

    @Test("minimizeNormal (normal equations formed by the caller) is bit-identical to minimize")
    func fusedSolverMatchesPlain() {
        // y = a exp(-b t) + c with noise: 3 parameters, 40 residuals.
        var rng = TestRNG(seed: 5)
        let ts = (0..<40).map { Double($0) * 0.25 }
        let ys = ts.map { 4 * Foundation.exp(-0.7 * $0) + 0.3 + 0.01 * Double.random(in: -1...1, using: &rng) }
        let lm = LevenbergMarquardt()
        let plain = lm.minimize(start: [1, 0.1, 0], residualCount: ts.count) { p, r, jac in
            for i in ts.indices {
                let e = Foundation.exp(-p[1] * ts[i])
                r[i] = p[0] * e + p[2] - ys[i]
                if jac != nil { jac![i * 3] = e; jac![i * 3 + 1] = -p[0] * ts[i] * e; jac![i * 3 + 2] = 1 }
            }
        }
        let fused = lm.minimizeNormal(start: [1, 0.1, 0], isValid: { _ in true }) { p, jtj, jtr in
            var cost = 0.0
            for i in ts.indices {
                let e = Foundation.exp(-p[1] * ts[i])
                let r = p[0] * e + p[2] - ys[i]
                cost += r * r
                guard let jtj, let jtr else { continue }
                let j = [e, -p[0] * ts[i] * e, 1]
                for a in 0..<3 {
                    jtr[a] += j[a] * r
                    for b in a..<3 { jtj[a * 3 + b] += j[a] * j[b] }
                }
            }
            return cost
        }
        #expect(plain == fused)
        #expect(abs(fused.parameters[1] - 0.7) < 0.01 && fused.converged)
    }

    @Test("gradientEnergyMean is gradientEnergy's mean, bit for bit, on the plane and on a region")
    func gradientMean() throws {
        let img = Self.field()
        #expect(Kernels.gradientEnergyMean(img) == Kernels.gradientEnergy(img)?.mean)
        let region = Kernels.gradientEnergyMean(img, x0: 30, y0: 40, width: 70, height: 50)
        #expect(region == Kernels.gradientEnergy(img, x0: 30, y0: 40, width: 70, height: 50)?.mean)
        #expect(try #require(region) > 0)
        #expect(Kernels.gradientEnergyMean(Image(width: 2, height: 9)) == nil)
    }

    @Test("madInPlace / medianInPlace equal mad / median bit for bit, dropping non-finite values")
    func inPlaceStatistics() {
        var values = Self.field().pixels
        values.append(.infinity)
        let mad = Statistics.mad(values), median = Statistics.median(values)
        var a = values, b = values
        #expect(Statistics.madInPlace(&a) == mad && mad != nil)
        #expect(Statistics.medianInPlace(&b) == median && median != nil)
        var empty: [Float] = [.nan]
        #expect(Statistics.medianInPlace(&empty) == nil)
    }

    @Test("backgroundAndMask: the estimate and mask of background/starMask; a 1-in-4 sample agrees closely")
    func backgroundWithMask() throws {
        let img = Self.field()
        let (estimate, mask) = Statistics.backgroundAndMask(img)
        #expect(estimate == Statistics.background(img))
        #expect(mask == Statistics.starMask(img))
        let full = try #require(estimate)
        let sampled = try #require(Statistics.background(img, sampleStride: 4))
        #expect(abs(sampled.level - full.level) < 0.05 * full.noise)
        #expect(abs(sampled.noise / full.noise - 1) < 0.05)
        #expect(abs(sampled.maskedFraction - full.maskedFraction) < 0.02)
        #expect(Statistics.backgroundAndMask(img, mode: .median).mask == nil)
    }

    @Test("BackgroundMap.render equals value(x:y:) at every pixel")
    func mapRender() throws {
        let map = try #require(BackgroundMap.estimate(Self.field(), mesh: 48))
        let plane = map.render()
        for y in 0..<map.height { for x in 0..<map.width { #expect(plane[x, y] == map.value(x: Double(x), y: Double(y))) } }
    }

    @Test("fit bounds: fitSpread keeps at most perCell stars per cell, fitBudget at most that many fits")
    func fitBounds() {
        let img = Self.field()
        let all = detectStars(in: img)
        let spread = detectStars(in: img, options: StarDetectionOptions(fitSpread: StarFitSpread(cell: 64, perCell: 1)))
        var cells: [Int: Int] = [:]
        #expect(all.count >= 30 && spread.count < all.count && spread.count >= 8)
        // Cells by the fitted centre's pixel (the fit moves a centre by well under a pixel here).
        for s in spread { cells[Int(s.y.rounded()) / 64 * 4 + Int(s.x.rounded()) / 64, default: 0] += 1 }
        #expect(cells.values.allSatisfy { $0 == 1 })
        // Each kept star is one of the full detection's (the bound selects, it does not move stars).
        #expect(spread.allSatisfy { s in all.contains { abs($0.x - s.x) < 1e-9 && abs($0.y - s.y) < 1e-9 } })
        let budget = detectStars(in: img, options: StarDetectionOptions(fitBudget: 10))
        #expect(budget.count <= 10 && budget.count >= 8)
    }

    @Test("Parallel.both returns both results, on one thread or two")
    func parallelBoth() {
        let img = Self.field()
        let one = Parallel.both(threads: 1, { Statistics.median(img.pixels) }, { Kernels.gradientEnergyMean(img) })
        let two = Parallel.both(threads: 2, { Statistics.median(img.pixels) }, { Kernels.gradientEnergyMean(img) })
        #expect(one.0 == two.0 && one.1 == two.1 && one.0 != nil)
    }

    @Test("Parallel.map returns the results in index order, on one thread or two")
    func parallelMap() {
        let squares = (0..<37).map { $0 * $0 }
        #expect(Parallel.map(37, threads: 1) { $0 * $0 } == squares)
        #expect(Parallel.map(37, threads: 2) { $0 * $0 } == squares)
        #expect(Parallel.map(0, threads: 2) { $0 }.isEmpty)
    }
}
