/// Everything that determines a synthetic series. Two equal configs give bit-identical series.
///
/// The CLI sets `width`, `height`, `frames`, `seed` and `cfa`; the remaining fields are the
/// internal knobs with astronomer-plausible defaults (ADU with gain 1 e-/ADU, a 500 ADU pedestal,
/// seeing 2.2..4.5 px, 3 degrees of field rotation over the series).
public struct SynthConfig: Sendable, Equatable, Codable {
    /// Frame width in pixels (also the reference geometry's width).
    public var width: Int
    /// Frame height in pixels.
    public var height: Int
    /// Number of frames in the series.
    public var frames: Int
    /// Master seed: the only source of randomness.
    public var seed: UInt64
    /// When true the frames are RGGB Bayer mosaics sampled from an RGB scene.
    public var cfa: Bool

    /// Number of stars in the catalog; `nil` means one star per 1500 px^2 of catalog area.
    public var starCount: Int?
    /// Moffat beta of the PSF (the fast renderer uses the exact integer power when it is 3).
    public var moffatBeta: Double = 3
    /// Range of the smooth seeing random walk (FWHM in px at the field centre).
    public var seeingRange: ClosedRange<Double> = 2.2...4.5
    /// Relative FWHM growth at the field corner (FWHM(r) = FWHM0 * (1 + k * (r/rmax)^2)).
    public var fieldCurvature: Double = 0.3
    /// Ellipticity (1 - b/a) at the field corner, oriented radially; grows as (r/rmax)^2.
    public var cornerEllipticity: Double = 0.25
    /// Total field rotation over the series, degrees.
    public var totalRotationDegrees: Double = 3
    /// Amplitude of the per-frame random shifts (uniform in +-jitter px on each axis).
    public var jitterPixels: Double = 3
    /// Bias / pedestal added to every pixel, ADU.
    public var pedestal: Double = 500
    /// Gain in e-/ADU (shot noise is Poisson in electrons).
    public var gain: Double = 1
    /// Gaussian read noise, ADU rms.
    public var readNoise: Double = 6
    /// Sky background at the field centre in clear conditions, ADU above the pedestal.
    public var skyLevel: Double = 800
    /// Peak brightness of the nebula, ADU (luminance) at transparency 1.
    public var nebulaPeak: Double = 450
    /// Exposure time of every frame, seconds (FITS EXPTIME).
    public var exposureSeconds: Double = 60
    /// Gap between the end of one exposure and the start of the next, seconds.
    public var frameGapSeconds: Double = 4
    /// DATE-OBS of frame 0, seconds since 1970-01-01T00:00:00 UTC (default 2026-03-14T21:00:00).
    public var startEpochSeconds: Int = 1_773_522_000
    /// Oversampling factor per axis when integrating the PSF over a pixel near a star's core.
    public var oversampling: Int = 5

    /// A config with the CLI-visible fields set and every internal knob at its default.
    public init(width: Int, height: Int, frames: Int, seed: UInt64 = 1, cfa: Bool = false) {
        self.width = width
        self.height = height
        self.frames = frames
        self.seed = seed
        self.cfa = cfa
    }

    /// Checks the values the generator relies on; returns a message naming the bad field, or nil.
    public func validationProblem() -> String? {
        if width < 16 || height < 16 { return "size \(width)x\(height) is too small: width and height must be at least 16 px" }
        if width > 20_000 || height > 20_000 { return "size \(width)x\(height) is too large: at most 20000 px per side" }
        if frames < 1 { return "frames must be at least 1 (got \(frames))" }
        if seeingRange.lowerBound <= 0.5 { return "seeingRange must start above 0.5 px" }
        if moffatBeta <= 1.5 { return "moffatBeta must be above 1.5" }
        if gain <= 0 { return "gain must be positive" }
        if oversampling < 1 || oversampling > 15 { return "oversampling must be in 1...15" }
        if let n = starCount, n < 0 { return "starCount must not be negative" }
        return nil
    }
}
