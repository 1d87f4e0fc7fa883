import Foundation
import Imaging

/// Phase 10 as pure functions: the measurements (`compareFWHM`, `compareBackground`, `tilePattern`,
/// `tileWeightVariance`, `tileUsability`) and `evaluate`, which turns them into checks. Nothing here
/// reads a clock: the same images and weights give the same report, byte for byte.
public enum Validation {
    /// Code version; bump when a check changes (2: PSF fits with the inlined exp and the
    /// consecutive-rejection stop, which move star measurements in the last bits).
    /// 3: background noise at star scale, FoM, the stacks' quality table; 4: PSF fits drifting more
    /// than 2 px are abandoned (`PSFFitOptions.maxDrift`), `FastMath.expFit` in the fits; 5: Gaussian PSF
    /// fits steered by Float32 normal equations (`PSFGaussianPasses`), star values move ~1e-6; 6: the
    /// source mask's clipping on a fixed 1-in-3 sample of a 1024x768 stack (`sourceMask`); 7: PSF fits
    /// stop at a relative cost gain of 1e-5 and star-mask clips use <= 2^14 samples (stars v9, measure v10).
    public static let version = 7

    /// Check names, in report order.
    public static let fwhmImprovement = "fwhm_improvement_percent"
    /// See `fwhmImprovement`.
    public static let backgroundIncrease = "background_rms_increase_percent"
    /// See `fwhmImprovement`.
    public static let weightVariance = "tile_weight_variance"
    /// See `fwhmImprovement`.
    public static let tilePatternRatio = "tile_pattern_ratio"
    /// See `fwhmImprovement`.
    public static let usableTiles = "usable_tile_fraction"
    /// See `fwhmImprovement`.
    public static let runtimeHours = "runtime_hours"
    /// See `fwhmImprovement`.
    public static let tileAnalysisFactor = "tile_analysis_factor_vs_stack"

    /// Runs every check of phase 10 on the final `stack` and the `classical` stack (same geometry),
    /// with the tile `grid` and `weights`, against the limits of `validation` and `limits`. The runtime
    /// checks are left unmeasured (passed) for the runner to fill (`ValidationReport.recordRuntime`).
    public static func evaluate(stack: Image, classical: Image, grid: TileGrid, weights: TileWeights,
                                validation v: TCConfig.ValidationSection, limits: TCConfig.RuntimeLimitsSection,
                                abortOnFail: Bool, threads: Int = 1) -> ValidationReport {
        let measured = MeasuredStack.measure([stack, classical], threads: threads)
        return evaluate(stack: measured[0], classical: measured[1], grid: grid, weights: weights, validation: v,
                        limits: limits, abortOnFail: abortOnFail, threads: threads)
    }

    /// `evaluate` on stacks already measured (`MeasuredStack`), so the classical stack measured once
    /// also serves the quality table's other comparisons.
    public static func evaluate(stack measuredStack: MeasuredStack, classical measuredClassical: MeasuredStack,
                                grid: TileGrid, weights: TileWeights,
                                validation v: TCConfig.ValidationSection, limits: TCConfig.RuntimeLimitsSection,
                                abortOnFail: Bool, threads: Int = 1) -> ValidationReport {
        let stack = measuredStack.image, classical = measuredClassical.image
        let (fwhm, background) = compare(measuredStack, measuredClassical, threads: threads)
        let pattern = tilePattern(stack, grid: grid)
        let variance = tileWeightVariance(weights)
        let tiles = tileUsability(stack: stack, classical: classical, grid: grid, weights: weights,
                                  classicalNoise: background.classicalNoise, fluxRatio: background.fluxScale)
        func fmt(_ x: Double?) -> String { x.map { String(format: "%.4g", $0) } ?? "n/a" }

        var checks: [ValidationCheck] = []
        checks.append(ValidationCheck(
            name: fwhmImprovement, key: "validation.min_fwhm_improvement_percent", value: fwhm.improvementPercent,
            limit: v.minFwhmImprovementPercent, comparison: ">=", quantum: 1e-4,
            detail: fwhm.matched == 0
                ? "no star found in both stacks (\(fwhm.stackStars) in the stack, \(fwhm.classicalStars) in the classical stack)"
                : "median FWHM \(fmt(fwhm.stackMedian)) px vs classical \(fmt(fwhm.classicalMedian)) px over \(fwhm.matched) matched stars"))
        checks.append(ValidationCheck(
            name: backgroundIncrease, key: "validation.max_background_rms_increase_percent", value: background.increasePercent,
            limit: v.maxBackgroundRmsIncreasePercent, comparison: "<=", quantum: 1e-4,
            detail: (background.blockSize.map { "star-scale noise (\($0) px block means) \(fmt(background.stackStarScaleNoise)) vs classical "
                    + "\(fmt(background.classicalStarScaleNoise)); " } ?? "")
                + "pixel noise \(fmt(background.stackNoise)) vs classical \(fmt(background.classicalNoise)) "
                + "(\(fmt(background.pixelIncreasePercent)) %; flux scale \(fmt(background.fluxScale)), \(background.fluxScaleSource))"))
        checks.append(ValidationCheck(
            name: weightVariance, key: "validation.min_tile_weight_variance", value: variance,
            limit: v.minTileWeightVariance, comparison: ">=",
            detail: "mean over \(weights.tileCount) tiles of the variance of W / mean W over \(weights.frameCount) frames"))
        checks.append(ValidationCheck(
            name: tilePatternRatio, key: "validation.require_no_tile_pattern", value: pattern.ratio,
            limit: pattern.threshold, comparison: "<=", required: v.requireNoTilePattern,
            detail: (v.requireNoTilePattern ? "" : "not required; ")
                + "median jump across tile boundaries / beside them = \(fmt(pattern.ratio))"))
        checks.append(ValidationCheck(
            name: usableTiles, key: "validation.min_usable_tile_fraction", value: tiles.fraction,
            limit: v.minUsableTileFraction, comparison: ">=",
            detail: "\(tiles.usable) of \(tiles.signalCarrying) signal-carrying tiles usable (\(tiles.tiles) tiles)"))
        checks.append(ValidationCheck(
            name: runtimeHours, key: "runtime_limits.hard_abort_hours", value: nil, limit: limits.hardAbortHours,
            comparison: "<=", measured: false, detail: "not measured in-node (no wall clock in a deterministic node); the runner may fill it"))
        checks.append(ValidationCheck(
            name: tileAnalysisFactor, key: "runtime_limits.tile_analysis_max_factor_vs_stack", value: nil,
            limit: limits.tileAnalysisMaxFactorVsStack, comparison: "<=", measured: false,
            detail: "not measured in-node (no wall clock in a deterministic node); the runner may fill it"))
        var report = ValidationReport(abortOnFail: abortOnFail, checks: checks, fwhm: fwhm, background: background,
                                      tilePattern: pattern, tiles: tiles, tileWeightVariance: variance)
        report.stacks = [StackQuality(name: "final stack", fwhm: fwhm, background: background),
                         StackQuality(name: "classical stack", fwhm: fwhm.classicalMedian, fwhmGainPercent: 0,
                                      starScaleNoiseRatio: 1, pixelNoiseRatio: 1, fom: 1)]
        return report
    }
}

/// FWHM, noise and faint-star figure of merit of one stack against the classical stack (same matched-star
/// measurement, flux-normalized noise).
public struct StackQuality: Codable, Sendable, Equatable {
    /// `final stack`, `reconstruction`, `classical stack`, `inverse-variance stack`.
    public var name: String
    /// Median FWHM over the stars matched with the classical stack, px.
    public var fwhm: Double?
    /// `100 * (classical - this) / classical` of the median FWHM (> 0 = sharper).
    public var fwhmGainPercent: Double?
    /// Star-scale background noise / the classical stack's (flux-normalized).
    public var starScaleNoiseRatio: Double?
    /// Pixel noise / the classical stack's (flux-normalized).
    public var pixelNoiseRatio: Double?
    /// (noise x FWHM of the classical stack) / (noise x FWHM of this stack), star-scale noise: the gain in
    /// a faint star's detection SNR (> 1 is better).
    public var fom: Double?
    enum CodingKeys: String, CodingKey {
        case name, fwhm, fwhmGainPercent = "fwhm_gain_percent", starScaleNoiseRatio = "star_scale_noise_ratio"
        case pixelNoiseRatio = "pixel_noise_ratio", fom
    }

    /// Explicit values.
    public init(name: String, fwhm: Double?, fwhmGainPercent: Double?, starScaleNoiseRatio: Double?, pixelNoiseRatio: Double?, fom: Double?) {
        self.name = name
        self.fwhm = fwhm
        self.fwhmGainPercent = fwhmGainPercent
        self.starScaleNoiseRatio = starScaleNoiseRatio
        self.pixelNoiseRatio = pixelNoiseRatio
        self.fom = fom
    }

    /// From the comparisons of one stack with the classical stack.
    public init(name: String, fwhm: FWHMComparison, background: BackgroundComparison) {
        func ratio(_ a: Double?, _ b: Double?) -> Double? {
            guard let a, let b, b > 0 else { return nil }
            return ValidationCheck.rounded(a / b, quantum: 1e-6)
        }
        let star = ratio(background.stackStarScaleNoise, background.classicalStarScaleNoise)
        let pixel = ratio(background.stackNoise, background.classicalNoise)
        var fom: Double? = nil
        if let n = star ?? pixel, let sf = fwhm.stackMedian, let cf = fwhm.classicalMedian, n > 0, sf > 0 {
            fom = ValidationCheck.rounded(cf / (n * sf), quantum: 1e-6)
        }
        self.init(name: name, fwhm: fwhm.stackMedian, fwhmGainPercent: fwhm.improvementPercent.map { ValidationCheck.rounded($0, quantum: 1e-4) },
                  starScaleNoiseRatio: star, pixelNoiseRatio: pixel, fom: fom)
    }
}
