import Foundation
import Testing
@testable import Steps

/// The pieces of the noise-aware weights on hand-made numbers.
@Suite struct NoiseAwareWeightsTests {
    @Test func mixtureFWHMOfGaussians() {
        // One Gaussian: its own FWHM.
        #expect(abs(NoiseAwareWeights.mixtureFWHM(flux: [1], fwhm: [3]) - 3) < 1e-9)
        // Equal flux at 2 and 4 px: the sharp one dominates the peak; between the two, closer to 2.
        let m = NoiseAwareWeights.mixtureFWHM(flux: [1, 1], fwhm: [2, 4])
        #expect(m > 2 && m < 3, "mixture FWHM \(m)")
        // Scaling every flux does not change it; weighting the sharp frame makes it sharper.
        #expect(abs(NoiseAwareWeights.mixtureFWHM(flux: [5, 5], fwhm: [2, 4]) - m) < 1e-9)
        #expect(NoiseAwareWeights.mixtureFWHM(flux: [3, 1], fwhm: [2, 4]) < m)
    }

    @Test func predictedNoiseAndInverseVariance() {
        // Two frames, the second twice as noisy at the same flux scale.
        let sigma = [1.0, 2.0], scale = [1.0, 1.0]
        let equal = NoiseAwareWeights.noise([1, 1], sigma: sigma, scale: scale)
        #expect(abs(equal - 5.0.squareRoot() / 2) < 1e-12)
        // Inverse variance s/sigma^2 = (1, 1/4): noise 1/sqrt(1 + 1/4), the minimum over weights.
        let ivar = NoiseAwareWeights.noise([1, 0.25], sigma: sigma, scale: scale)
        #expect(abs(ivar - 1 / 1.25.squareRoot()) < 1e-12)
        for w2 in stride(from: 0.0, through: 2, by: 0.1) {
            #expect(NoiseAwareWeights.noise([1, w2], sigma: sigma, scale: scale) >= ivar - 1e-12)
        }
        // A frame at half the flux scale (a cloud) counts as twice the noise per unit flux.
        let cloud = NoiseAwareWeights.noise([1, 1], sigma: [1, 1], scale: [1, 0.5])
        #expect(abs(cloud - 2.0.squareRoot() / 1.5) < 1e-12)
    }
}
