import Foundation
import Testing
@testable import Imaging

@Suite struct KernelTests {
    @Test func sobelEnergyOfKnownRamp() throws {
        // I = 3x - 2y + 100: |grad I|^2 = 9 + 4 = 13 everywhere inside
        var img = Image(width: 20, height: 15)
        for y in 0..<15 { for x in 0..<20 { img[x, y] = Float(3 * x - 2 * y + 100) } }
        let e = try #require(Kernels.gradientEnergy(img))
        #expect(e.count == 18 * 13)  // 1-px border dropped
        #expect(abs(e.mean - 13) < 1e-9)
        #expect(e.median == 13)
        // quadratic in x: I = x^2 -> central difference gives 2x, energy (2x)^2 averaged over x=1...18
        var q = Image(width: 20, height: 5)
        for y in 0..<5 { for x in 0..<20 { q[x, y] = Float(x * x) } }
        let eq = try #require(Kernels.gradientEnergy(q))
        var expected = 0.0
        for x in 1...18 { expected += Double(4 * x * x) / 18 }
        #expect(abs(eq.mean - expected) < 1e-6)
        // a region: only its interior counts, and the flat part has zero energy
        var step = Image(width: 10, height: 10, fill: 5)
        for y in 0..<10 { for x in 6..<10 { step[x, y] = 9 } }
        let flat = try #require(Kernels.gradientEnergy(step, x0: 0, y0: 0, width: 5, height: 10))
        #expect(flat.mean == 0 && flat.count == 3 * 8)
        let edge = try #require(Kernels.gradientEnergy(step))
        #expect(edge.mean > 0)
        #expect(Kernels.gradientEnergy(Image(width: 2, height: 9)) == nil)
    }

    @Test func sobelSkipsNonFiniteNeighbourhoods() throws {
        var img = Image(width: 7, height: 7, fill: 1)
        img[3, 3] = .nan
        let e = try #require(Kernels.gradientEnergy(img))
        #expect(e.count == 25 - 9)  // the 3x3 block around the NaN is skipped
        #expect(e.mean == 0)
    }

    @Test(arguments: [WindowFunction.hanning, .cosine], [1, 2, 7, 32, 64])
    func windowValuesAndSymmetry(kind: WindowFunction, n: Int) {
        let w = kind.weights(n)
        #expect(w.count == n)
        for i in 0..<n {
            #expect(w[i] > 0 && w[i] <= 1)
            #expect(abs(w[i] - w[n - 1 - i]) < 1e-15)
        }
        if n >= 4 { #expect(w[0] < w[n / 2 - 1]) }  // tapers towards the edge
        let w2 = kind.weights2D(width: n, height: 3)
        let wy = kind.weights(3)
        #expect(w2.count == n * 3)
        #expect(w2[2 * n + (n - 1)] == Float(wy[2] * w[n - 1]))
    }

    @Test func hanningDefinitionAndHalfOverlapSum() {
        let n = 64
        let w = WindowFunction.hanning.weights(n)
        #expect(abs(w[0] - (0.5 - 0.5 * cos(2 * Double.pi * 0.5 / 64))) < 1e-15)
        for i in 0..<(n / 2) { #expect(abs(w[i] + w[i + n / 2] - 1) < 1e-12) }
        let c = WindowFunction.cosine.weights(n)
        #expect(abs(c[0] - sin(Double.pi * 0.5 / 64)) < 1e-15)
    }

    @Test func accumulatorWeightedMeanIsExact() {
        var acc = WeightedAccumulator(width: 3, height: 2)
        let a = Image(width: 3, height: 2, pixels: [1, 2, 3, 4, 5, 6])
        let b = Image(width: 3, height: 2, pixels: [10, 20, 30, 40, .nan, 60])
        acc.add(a, weight: 1)
        acc.add(b, weight: 3)
        let out = acc.finalize()
        // (1*1 + 3*10)/4 = 7.75, ..., NaN in b at index 4 -> only a counts there
        #expect(out.pixels == [7.75, 15.5, 23.25, 31, 5, 46.5])
        #expect(acc.weightSum == [4, 4, 4, 4, 1, 4])
        // valid mask and zero weight are skipped
        var m = WeightedAccumulator(width: 3, height: 2)
        m.add(a, weight: 2, valid: [true, false, true, true, true, true])
        m.add(b, weight: 0)
        let mo = m.finalize(empty: -1)
        #expect(mo.pixels == [1, -1, 3, 4, 5, 6])
    }

    @Test func accumulatorOverlapAddWithWindowAndOffsets() {
        // two overlapping windowed tiles of a constant image reconstruct the constant exactly
        let tile = 8
        let win = WindowFunction.hanning.weights2D(width: tile, height: tile)
        var acc = WeightedAccumulator(width: 14, height: 8)
        let flat = Image(width: tile, height: tile, fill: 42)
        acc.add(flat, x: 0, y: 0, weights: win)
        acc.add(flat, x: 6, y: 0, weights: win)
        let out = acc.finalize()
        for v in out.pixels { #expect(abs(v - 42) < 1e-5) }
        // clipping: a source hanging off the canvas only touches the overlap
        var c = WeightedAccumulator(width: 4, height: 4)
        c.add(Image(width: 3, height: 3, fill: 2), x: 2, y: -1, weight: 1)
        let co = c.finalize()
        #expect(co[2, 0] == 2 && co[3, 1] == 2 && co[3, 2].isNaN)
        #expect(co[1, 0].isNaN && co[2, 1] == 2)
        // merging partial accumulators equals adding in sequence
        var p1 = WeightedAccumulator(width: 14, height: 8), p2 = WeightedAccumulator(width: 14, height: 8)
        p1.add(flat, x: 0, y: 0, weights: win)
        p2.add(flat, x: 6, y: 0, weights: win)
        p1.add(p2)
        #expect(p1 == acc)
    }
}
