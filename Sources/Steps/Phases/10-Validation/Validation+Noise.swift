import Foundation
import Imaging

/// Background noise of the final and the classical stack, in the classical stack's flux units: at the
/// scale of a star (what the check compares) and per pixel (reported beside it).
public struct BackgroundComparison: Codable, Sendable, Equatable {
    /// Pixel noise of the final stack's star-free background, divided by `fluxScale`.
    public var stackNoise: Double?
    /// Pixel noise of the classical stack's star-free background.
    public var classicalNoise: Double?
    /// Star-scale noise of the final stack (`Validation.starScaleNoise`), divided by `fluxScale`.
    public var stackStarScaleNoise: Double?
    /// Star-scale noise of the classical stack.
    public var classicalStarScaleNoise: Double?
    /// Side of the blocks of the star-scale noise, px (the classical stack's median FWHM, rounded, >= 2).
    public var blockSize: Int?
    /// `100 * (stack - classical) / classical` of the pixel noise.
    public var pixelIncreasePercent: Double?
    /// The factor the final stack was divided by (`FWHMComparison.fluxRatio`, or 1).
    public var fluxScale: Double
    /// Where `fluxScale` comes from: `matched stars` or `assumed 1 (...)`.
    public var fluxScaleSource: String
    /// `100 * (stack - classical) / classical` of the star-scale noise (the pixel noise when the star
    /// scale could not be measured); positive = the final stack is noisier. The check compares this.
    public var increasePercent: Double?

    /// A comparison; the star-scale fields default to nil (pixel noise only).
    public init(stackNoise: Double?, classicalNoise: Double?, fluxScale: Double, fluxScaleSource: String,
                increasePercent: Double?, stackStarScaleNoise: Double? = nil, classicalStarScaleNoise: Double? = nil,
                blockSize: Int? = nil, pixelIncreasePercent: Double? = nil) {
        self.stackNoise = stackNoise
        self.classicalNoise = classicalNoise
        self.fluxScale = fluxScale
        self.fluxScaleSource = fluxScaleSource
        self.increasePercent = increasePercent
        self.stackStarScaleNoise = stackStarScaleNoise
        self.classicalStarScaleNoise = classicalStarScaleNoise
        self.blockSize = blockSize
        self.pixelIncreasePercent = pixelIncreasePercent
    }
}

extension Validation {
    /// Noise of the star-free background of `image` (luminance): sources are masked
    /// (`sourceMask`: 3-sigma clip + 3 px dilation), then `Measure.pixelNoise`: 1.4826 MAD of
    /// horizontal neighbour differences / sqrt(2) over pairs of unmasked, finite pixels. Neighbour
    /// differences ignore sky gradients and nebulae, so this is the pixel noise, not the spread of the
    /// sky. nil when no pair qualifies.
    public static func backgroundNoise(_ image: Image) -> Double? {
        let l = luminance(image)
        return Measure.pixelNoise(l, plane: 0, mask: sourceMask(l))
    }

    /// The source mask of a luminance for the noise measurements: `Statistics.starMask` (3-sigma clip,
    /// 3 px dilation) with the clipping on a fixed-stride sample of at most 2^18 pixels. The clipped
    /// median and sigma of 2^18 sky pixels have statistical errors of ~0.2 % of sigma, far below what
    /// moves a mask boundary; the full-frame clip was 27 % of the validation node.
    public static func sourceMask(_ l: Image) -> [Bool] { Statistics.starMask(l, sampleLimit: 1 << 18) }

    /// What the noise measurements need of one image, computed once: its luminance, the luminance's
    /// source mask (`sourceMask`) and smooth background (the 32 px `BackgroundMap`, rendered;
    /// nil when no map can be estimated). A stack compared several times is measured once.
    public struct NoiseInputs: Sendable {
        /// `Validation.luminance(image)`.
        public let luminance: Image
        /// `Validation.sourceMask(luminance)`.
        public let mask: [Bool]
        /// The rendered background map of `luminance`, nil without one.
        public let background: [Float]?

        /// Measures `image`.
        public init(_ image: Image) {
            luminance = Validation.luminance(image)
            mask = Validation.sourceMask(luminance)
            background = BackgroundMap.estimate(luminance, plane: 0, mesh: 32)?.render().pixels
        }

        /// `backgroundNoise` of the image.
        public var pixelNoise: Double? { Measure.pixelNoise(luminance, plane: 0, mask: mask) }

        /// `starScaleNoise` of the image with `mask` (nil: the image's own).
        public func starScaleNoise(block: Int, mask given: [Bool]? = nil) -> Double? {
            guard block >= 1, let background else { return nil }
            return Validation.starScaleNoise(luminance: luminance, background: background, block: block, mask: given ?? mask)
        }
    }

    /// Background noise of both stacks in the same flux units: the final stack's noise is divided by
    /// `fluxRatio` (median ratio of matched stars' PSF fluxes, stack / classical), so a stack on another
    /// scale (e.g. after the reconstruction's tile rescaling) is compared fairly. Without enough
    /// matched stars, both are taken to be in the same units already (both come from frames divided
    /// by B_f), and `fluxScaleSource` says so. With `threads` > 1 both stacks are measured at the same time.
    public static func compareBackground(stack: Image, classical: Image, fluxRatio: Double?, starFWHM: Double? = nil,
                                         threads: Int = 1) -> BackgroundComparison {
        let (s, c) = Parallel.both(threads: threads, { NoiseInputs(stack) }, { NoiseInputs(classical) })
        return compareBackground(stack: s, classical: c, stackNoise: s.pixelNoise, classicalNoise: c.pixelNoise,
                                 fluxRatio: fluxRatio, starFWHM: starFWHM, threads: threads)
    }

    /// `compareBackground(stack:classical:fluxRatio:starFWHM:threads:)` with each image's own
    /// measurements already taken (`NoiseInputs`, and its pixel noise), so a stack compared several
    /// times is measured once.
    public static func compareBackground(stack: NoiseInputs, classical: NoiseInputs, stackNoise sn: Double?, classicalNoise c: Double?,
                                         fluxRatio: Double?, starFWHM: Double? = nil,
                                         threads: Int = 1) -> BackgroundComparison {
        let scale = fluxRatio ?? 1
        let source = fluxRatio == nil
            ? "assumed 1 (fewer than \(minStarsForFluxScale) matched stars; both stacks are in I/B_f units)" : "matched stars"
        let s = sn.map { $0 / scale }
        var pixel: Double? = nil
        if let s, let c, c > 0 { pixel = 100 * (s - c) / c }
        let block = starFWHM.map { max(2, Int($0.rounded())) }
        var ss: Double? = nil, cs: Double? = nil
        if let block {
            // One set of blocks for both: star-free in both images, so the two noises differ by the
            // images, not by which blocks each mask happened to keep.
            let union = zip(stack.mask, classical.mask).map { $0 || $1 }
            let (a, b) = Parallel.both(threads: threads, { stack.starScaleNoise(block: block, mask: union) },
                                       { classical.starScaleNoise(block: block, mask: union) })
            ss = a.map { $0 / scale }; cs = b
        }
        var star: Double? = nil
        if let ss, let cs, cs > 0 { star = 100 * (ss - cs) / cs }
        return BackgroundComparison(stackNoise: s, classicalNoise: c, fluxScale: scale, fluxScaleSource: source,
                                    increasePercent: star ?? pixel, stackStarScaleNoise: ss, classicalStarScaleNoise: cs,
                                    blockSize: block, pixelIncreasePercent: pixel)
    }

    /// Background noise at the scale of a star: the smooth background (a 32 px mesh, `BackgroundMap`) is
    /// subtracted from the luminance, sources are masked (`sourceMask`), and the means of the
    /// `block` x `block` blocks (a grid from the origin) whose pixels are all finite and unmasked are
    /// taken; the noise is 1.4826 MAD of those means. This is the noise a faint star of that size sits
    /// on, correlations between neighbouring pixels (resampling, weighting) included, which the pixel
    /// noise misses. `mask` (true = excluded) replaces the image's own source mask, e.g. the union of
    /// two images' masks so that both are measured on the same blocks. nil with fewer than 30 blocks.
    public static func starScaleNoise(_ image: Image, block: Int, mask given: [Bool]? = nil) -> Double? {
        let l = luminance(image)
        guard block >= 1, let map = BackgroundMap.estimate(l, plane: 0, mesh: 32) else { return nil }
        return starScaleNoise(luminance: l, background: map.render().pixels, block: block, mask: given ?? sourceMask(l))
    }

    /// `starScaleNoise` of a luminance `l` with its rendered background `bg` and the mask to use.
    static func starScaleNoise(luminance l: Image, background bg: [Float], block: Int, mask: [Bool]) -> Double? {
        let w = l.width, h = l.height
        var means: [Double] = []
        l.pixels.withUnsafeBufferPointer { p in
            var by = 0
            while by + block <= h {
                var bx = 0
                while bx + block <= w {
                    var sum = 0.0, ok = true
                    outer: for y in by..<(by + block) {
                        for x in bx..<(bx + block) {
                            let i = y * w + x
                            let v = p[i]
                            if !v.isFinite || mask[i] { ok = false; break outer }
                            sum += Double(v) - Double(bg[i])
                        }
                    }
                    if ok { means.append(sum / Double(block * block)) }
                    bx += block
                }
                by += block
            }
        }
        guard means.count >= 30, let mad = Statistics.mad(means) else { return nil }
        return 1.4826 * mad
    }
}
