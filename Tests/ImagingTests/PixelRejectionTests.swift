import Foundation
import Imaging
import Testing
import TestSupport

/// Per-pixel outlier clipping across frames.
@Suite("pixel rejection")
struct PixelRejectionTests {
    /// A cube of `frames x count` Gaussian values with per-frame noise `noise[f]`.
    static func noiseCube(frames: Int, count: Int, noise: [Double], seed: UInt64) -> PixelRejection.Cube {
        var rng = TestRNG(seed: seed)
        var cube = PixelRejection.Cube(frames: frames, count: count)
        for f in 0..<frames {
            for i in 0..<count { cube.values[f * count + i] = Float(noise[f] * rng.normal()) }
        }
        return cube
    }

    static let winsorized = PixelRejection.Options(method: .winsorized, kappaLow: 3, kappaHigh: 3, iterations: 3)
    static let sigma = PixelRejection.Options(method: .sigma, kappaLow: 3, kappaHigh: 3, iterations: 3)

    @Test("outliers of a few frames are rejected, and only they, with either estimator",
          arguments: [winsorized, sigma])
    func outliers(_ options: PixelRejection.Options) {
        let frames = 40, count = 500
        let noise = [Double](repeating: 0.01, count: frames)
        var cube = Self.noiseCube(frames: frames, count: count, noise: noise, seed: 7)
        // A trail (frame 3, pixels 100..<140, +50 sigma), a cosmic ray (frame 20, pixel 7, +1000 sigma),
        // a dead pixel (frame 11, pixel 300, -30 sigma).
        for i in 100..<140 { cube.values[3 * count + i] += 0.5 }
        cube.values[20 * count + 7] += 10
        cube.values[11 * count + 300] -= 0.3
        let rejected = PixelRejection.clip(cube, noise: noise, options: options, threads: 1)
        #expect(Set(100..<140).isSubset(of: Set(rejected[3])))
        #expect(rejected[20].contains(7))
        #expect(rejected[11].contains(300))
        let total = rejected.reduce(0) { $0 + $1.count }
        // Beyond the 42 planted outliers only the Gaussian tails at ~3 sigma: 0.27 % of 20000 = 54 expected.
        #expect(total >= 42 && total < 42 + 120, "total \(total)")
        for list in rejected { #expect(list == list.sorted()) }
    }

    @Test("a noisy frame is not rejected for being noisy: residuals are scaled by each frame's noise")
    func noiseScaled() {
        let frames = 30, count = 4000
        var noise = [Double](repeating: 0.01, count: frames)
        noise[5] = 0.04
        let cube = Self.noiseCube(frames: frames, count: count, noise: noise, seed: 11)
        let rejected = PixelRejection.clip(cube, noise: noise, options: Self.winsorized, threads: 2)
        let noisy = Double(rejected[5].count) / Double(count)
        let others = Double(rejected.enumerated().filter { $0.offset != 5 }.reduce(0) { $0 + $1.element.count })
            / Double((frames - 1) * count)
        #expect(noisy < 0.01 && others < 0.01, "noisy \(noisy), others \(others)")
        // Unscaled (every frame claimed to have the same noise) the noisy frame loses a third of its values.
        let unscaled = PixelRejection.clip(cube, noise: [Double](repeating: 0.01, count: frames), options: Self.winsorized, threads: 2)
        #expect(Double(unscaled[5].count) / Double(count) > 0.2)
    }

    @Test("the decisions do not depend on the thread count")
    func threads() {
        let noise = (0..<25).map { 0.01 + 0.001 * Double($0) }
        var cube = Self.noiseCube(frames: 25, count: 20_000, noise: noise, seed: 3)
        cube.values[4 * 20_000 + 12_345] = 5
        cube.values[9 * 20_000 + 19_999] = .nan
        let one = PixelRejection.clip(cube, noise: noise, options: Self.winsorized, threads: 1)
        let four = PixelRejection.clip(cube, noise: noise, options: Self.winsorized, threads: 4)
        #expect(one == four)
        #expect(one[4].contains(12_345))
    }

    @Test("NaN values and pixels with fewer than 3 finite frames are left alone")
    func sparse() {
        var cube = PixelRejection.Cube(frames: 5, count: 2)
        // pixel 0: only two finite values, one wild: nothing to compare with.
        cube.values[0 * 2] = 0
        cube.values[1 * 2] = 100
        // pixel 1: four agreeing values and one wild.
        for f in 0..<4 { cube.values[f * 2 + 1] = Float(f) * 0.001 }
        cube.values[4 * 2 + 1] = 100
        let rejected = PixelRejection.clip(cube, noise: [Double](repeating: 0.01, count: 5), options: Self.sigma, threads: 1)
        #expect(rejected == [[], [], [], [], [1]])
    }

    @Test("star pixels whose height follows the seeing keep the sharp frames' peaks")
    func seeingVariation() {
        // One star pixel over 60 frames: peak ~ 1 / seeing^2 with seeing 2.3...4.5 px, noise 1 % of sky.
        let frames = 60
        var cube = PixelRejection.Cube(frames: frames, count: 1)
        var rng = TestRNG(seed: 5)
        for f in 0..<frames {
            let seeing = 2.3 + 2.2 * Double(f) / Double(frames - 1)
            cube.values[f] = Float(20 / (seeing * seeing) + 0.01 * rng.normal())
        }
        let rejected = PixelRejection.clip(cube, noise: [Double](repeating: 0.01, count: frames), options: Self.winsorized, threads: 1)
        #expect(rejected.allSatisfy { $0.isEmpty })
    }
}
