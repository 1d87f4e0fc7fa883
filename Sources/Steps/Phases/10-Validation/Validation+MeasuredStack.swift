import Foundation
import Imaging

/// One stack with what validation measures on it by itself: its seeing stars, its pixel noise and its
/// luminance's source mask. Every comparison against the classical stack (the final stack, the
/// reconstruction, the inverse-variance stack) reuses the classical stack's measurement instead of
/// detecting and fitting its stars again; the values are the same as measuring per comparison.
public struct MeasuredStack: Sendable {
    /// The stack.
    public let image: Image
    /// `Validation.seeingStars(in:)`.
    public let stars: [StarMeasurement]
    /// `Validation.backgroundNoise(_:)`.
    public let noise: Double?
    /// The luminance, its source mask (`Validation.sourceMask`) and its smooth background (`Validation.NoiseInputs`).
    public let noiseInputs: Validation.NoiseInputs

    /// Measures `image`: one luminance, one source mask (the pixel noise and the star-scale noise use
    /// the same), one background map, whatever the number of comparisons.
    public init(_ image: Image) {
        self.image = image
        noiseInputs = Validation.NoiseInputs(image)
        stars = Validation.seeingStars(luminance: noiseInputs.luminance)
        noise = noiseInputs.pixelNoise
    }

    /// Measures `images` on up to `threads` threads (results in input order, independent of `threads`).
    public static func measure(_ images: [Image], threads: Int) -> [MeasuredStack] {
        Parallel.map(images.count, threads: max(1, threads)) { MeasuredStack(images[$0]) }
    }
}

extension Validation {
    /// The quality of `stack` against `classical`: matched-star FWHM, star-scale and pixel noise, FoM.
    public static func quality(of stack: MeasuredStack, name: String, classical: MeasuredStack, threads: Int = 1) -> StackQuality {
        let (fwhm, background) = compare(stack, classical, threads: threads)
        return StackQuality(name: name, fwhm: fwhm, background: background)
    }

    /// The matched-star FWHM comparison and the background comparison of two measured stacks.
    static func compare(_ stack: MeasuredStack, _ classical: MeasuredStack,
                        threads: Int) -> (FWHMComparison, BackgroundComparison) {
        let fwhm = compareFWHM(stackStars: stack.stars, classicalStars: classical.stars)
        let background = compareBackground(stack: stack.noiseInputs, classical: classical.noiseInputs, stackNoise: stack.noise,
                                           classicalNoise: classical.noise,
                                           fluxRatio: fwhm.fluxRatio, starFWHM: fwhm.classicalMedian, threads: threads)
        return (fwhm, background)
    }
}
