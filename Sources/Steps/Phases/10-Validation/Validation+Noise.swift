import Foundation
import Imaging

/// Background noise of the final and the classical stack, in the classical stack's flux units.
public struct BackgroundComparison: Codable, Sendable, Equatable {
    /// Noise of the final stack's star-free background, divided by `fluxScale`.
    public var stackNoise: Double?
    /// Noise of the classical stack's star-free background.
    public var classicalNoise: Double?
    /// The factor the final stack was divided by (`FWHMComparison.fluxRatio`, or 1).
    public var fluxScale: Double
    /// Where `fluxScale` comes from: `matched stars` or `assumed 1 (...)`.
    public var fluxScaleSource: String
    /// `100 * (stack - classical) / classical`; positive = the final stack is noisier.
    public var increasePercent: Double?
}

extension Validation {
    /// Noise of the star-free background of `image` (luminance): sources are masked
    /// (`Statistics.starMask`: 3-sigma clip + 3 px dilation), then `Measure.pixelNoise`: 1.4826 MAD of
    /// horizontal neighbour differences / sqrt(2) over pairs of unmasked, finite pixels. Neighbour
    /// differences ignore sky gradients and nebulae, so this is the pixel noise, not the spread of the
    /// sky. nil when no pair qualifies.
    public static func backgroundNoise(_ image: Image) -> Double? {
        let l = luminance(image)
        return Measure.pixelNoise(l, plane: 0, mask: Statistics.starMask(l))
    }

    /// Background noise of both stacks in the same flux units: the final stack's noise is divided by
    /// `fluxRatio` (median ratio of matched stars' PSF fluxes, stack / classical), so a stack on another
    /// scale (e.g. after the reconstruction's tile rescaling) is compared fairly. Without enough
    /// matched stars, both are taken to be in the same units already (both come from frames divided
    /// by B_f), and `fluxScaleSource` says so. With `threads` > 1 both stacks are measured at the same time.
    public static func compareBackground(stack: Image, classical: Image, fluxRatio: Double?, threads: Int = 1) -> BackgroundComparison {
        let scale = fluxRatio ?? 1
        let source = fluxRatio == nil
            ? "assumed 1 (fewer than \(minStarsForFluxScale) matched stars; both stacks are in I/B_f units)" : "matched stars"
        let (sn, c) = Parallel.both(threads: threads, { backgroundNoise(stack) }, { backgroundNoise(classical) })
        let s = sn.map { $0 / scale }
        var increase: Double? = nil
        if let s, let c, c > 0 { increase = 100 * (s - c) / c }
        return BackgroundComparison(stackNoise: s, classicalNoise: c, fluxScale: scale, fluxScaleSource: source,
                                    increasePercent: increase)
    }
}
