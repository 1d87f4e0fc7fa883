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
    public static func compareBackground(stack: Image, classical: Image, fluxRatio: Double?, starFWHM: Double? = nil,
                                         threads: Int = 1) -> BackgroundComparison {
        let (sn, c) = Parallel.both(threads: threads, { backgroundNoise(stack) }, { backgroundNoise(classical) })
        return compareBackground(stack: stack, classical: classical, stackNoise: sn, classicalNoise: c,
                                 masks: { Parallel.both(threads: threads, { Statistics.starMask(luminance(stack)) },
                                                        { Statistics.starMask(luminance(classical)) }) },
                                 fluxRatio: fluxRatio, starFWHM: starFWHM, threads: threads)
    }

    /// `compareBackground(stack:classical:fluxRatio:starFWHM:threads:)` with each image's own
    /// measurements already taken (`backgroundNoise`, and `masks` giving both `Statistics.starMask`s of
    /// the luminances, asked for only when the star-scale noise is measured), so a stack compared
    /// several times is measured once.
    public static func compareBackground(stack: Image, classical: Image, stackNoise sn: Double?, classicalNoise c: Double?,
                                         masks: () -> ([Bool], [Bool]), fluxRatio: Double?, starFWHM: Double? = nil,
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
            let (ms, mc) = masks()
            let union = zip(ms, mc).map { $0 || $1 }
            let (a, b) = Parallel.both(threads: threads, { starScaleNoise(stack, block: block, mask: union) },
                                       { starScaleNoise(classical, block: block, mask: union) })
            ss = a.map { $0 / scale }; cs = b
        }
        var star: Double? = nil
        if let ss, let cs, cs > 0 { star = 100 * (ss - cs) / cs }
        return BackgroundComparison(stackNoise: s, classicalNoise: c, fluxScale: scale, fluxScaleSource: source,
                                    increasePercent: star ?? pixel, stackStarScaleNoise: ss, classicalStarScaleNoise: cs,
                                    blockSize: block, pixelIncreasePercent: pixel)
    }

    /// Background noise at the scale of a star: the smooth background (a 32 px mesh, `BackgroundMap`) is
    /// subtracted from the luminance, sources are masked (`Statistics.starMask`), and the means of the
    /// `block` x `block` blocks (a grid from the origin) whose pixels are all finite and unmasked are
    /// taken; the noise is 1.4826 MAD of those means. This is the noise a faint star of that size sits
    /// on, correlations between neighbouring pixels (resampling, weighting) included, which the pixel
    /// noise misses. `mask` (true = excluded) replaces the image's own source mask, e.g. the union of
    /// two images' masks so that both are measured on the same blocks. nil with fewer than 30 blocks.
    public static func starScaleNoise(_ image: Image, block: Int, mask given: [Bool]? = nil) -> Double? {
        let l = luminance(image)
        guard block >= 1, let map = BackgroundMap.estimate(l, plane: 0, mesh: 32) else { return nil }
        let bg = map.render().pixels
        let mask = given ?? Statistics.starMask(l)
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
