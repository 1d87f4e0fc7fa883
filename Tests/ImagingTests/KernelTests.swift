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
}
