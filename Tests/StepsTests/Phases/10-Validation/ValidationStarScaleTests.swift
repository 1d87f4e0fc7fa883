import Foundation
import Imaging
import Testing
@testable import Steps

/// The star-scale background noise: block means of star-free background, correlations included.
@Suite struct ValidationStarScaleTests {
    static func noise(_ w: Int, _ h: Int, seed: UInt64) -> [Float] {
        var rng = SynthRandom(seed: seed, stream: 1)
        return (0..<(w * h)).map { _ in Float(10 + rng.normal()) }
    }

    @Test func whiteNoiseAveragesDownAsOneOverBlockSide() throws {
        let w = 320, h = 256
        let white = Image(width: w, height: h, channels: 1, pixels: Self.noise(w, h, seed: 3))
        let pixel = try #require(Validation.backgroundNoise(white))
        let star = try #require(Validation.starScaleNoise(white, block: 4))
        #expect(abs(pixel - 1) < 0.05, "pixel noise \(pixel)")
        // 4 x 4 block means of unit white noise: 1/4 (the 3-sigma mask trims a little).
        #expect(abs(star - 0.25) < 0.04, "star-scale noise \(star)")
    }

    @Test func correlatedNoiseIsSeenAtStarScaleNotPerPixel() throws {
        // 2 x 2 box-smoothed noise: the neighbour-difference pixel noise drops a lot, the noise a star of
        // 4 px sees drops much less: the pixel noise would flatter a blurring or resampling stack.
        let w = 320, h = 256
        let raw = Self.noise(w + 1, h + 1, seed: 4)
        var px = [Float](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w {
            let i = y * (w + 1) + x
            px[y * w + x] = (raw[i] + raw[i + 1] + raw[i + w + 1] + raw[i + w + 2]) / 4
        } }
        let smooth = Image(width: w, height: h, channels: 1, pixels: px)
        let pixel = try #require(Validation.backgroundNoise(smooth))
        let star = try #require(Validation.starScaleNoise(smooth, block: 4))
        #expect(pixel < 0.5, "pixel noise \(pixel)")
        #expect(star > 0.19 && star < 0.26, "star-scale noise \(star)")
        #expect(star / pixel > 0.5)  // white noise: 0.25
    }
}
