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

    // Camera and observing defects (issue 10). Every default reproduces the series of earlier
    // versions byte for byte; `realistic()` turns on a realistic mix.

    /// Hot pixels per megapixel, fixed in sensor coordinates (so drift turns them into streaks in a
    /// registered stack); `nil` keeps the historic density of one per 25 000 px (40 per Mpx, at least 3).
    public var hotPixelsPerMegapixel: Double?
    /// Warm columns: whole sensor columns with a constant excess of 15..60 ADU (default 0).
    public var warmColumns: Int = 0
    /// Mean number of cosmic-ray hits per frame and megapixel (Poisson per frame; default 0 = none).
    /// A hit is a sharp single pixel or a short 2..6 px track, not PSF-shaped, 1500..20000 ADU.
    public var cosmicRaysPerMegapixel: Double = 0
    /// Extra bright satellite/plane trails (default 0): each crosses the whole frame, Gaussian
    /// cross-section with sigma 0.45..0.8 px (FWHM 1..2 px), peak 4000..30000 ADU, in distinct
    /// frames (the historic faint trail of one frame is kept independently).
    public var satelliteTrails: Int = 0
    /// Plane trails (default 0): two parallel lines 4..8 px apart (wing lights) across the frame with
    /// periodic strobe flashes, each in a seeded frame (independent of the satellite frames).
    public var planeTrails: Int = 0
    /// ADC resolution in bits (default 16). Below 16 the camera's 16-bit scale is divided by
    /// 2^(16 - bits), rounded and clipped to 0...(2^bits - 1), and stored unscaled in BITPIX 16
    /// (12 bits: values 0...4095, no SATURATE keyword).
    public var adcBits: Int = 16
    /// Number of catalog stars drawn near or above saturation (default 3): the first three at
    /// 0.8..1.4 x the flux that saturates at the mean seeing, any further ones at 1..20 x.
    public var saturatingStars: Int = 3
    /// When true, charge above the full well (65535 ADU minus the pedestal) bleeds along the
    /// column, up and down, as on a CCD/CMOS without anti-blooming (default false).
    public var blooming: Bool = false
    /// Total linear drift of the pointing over the series as a fraction of the frame width
    /// (e.g. 0.3), in a seeded direction; `nil` keeps the historic 2..6 px drift.
    public var driftFraction: Double?
    /// Fraction of frames with a tracking glitch (default 0): stars (and nebula) are convolved with
    /// a two-point kernel (doubled stars) or a short line kernel (trailed stars).
    public var glitchFraction: Double = 0
    /// File name extension of the frames (default "fits"; "FITS" writes upper-case names).
    public var frameExtension: String = "fits"

    // The night's noise conditions (issue 11). `nil`/false keep the historic series byte for byte;
    // `realisticNight()` sets the mix that `tcbuild synth` and `tcbuild demo` use by default.

    /// Coefficient of variation of the seeing (e.g. 0.17): a log-normal AR(1) series (frame-to-frame
    /// correlation 0.9) around the geometric middle of `seeingRange`, clipped to the range; `nil` keeps
    /// the historic mean-reverting random walk.
    public var seeingCV: Double?
    /// When true, one cloud passage crosses the series: transparency dips smoothly (cos^2 profile) to
    /// 0.35..0.5 over 10-14 % of the frames, centred at 35-65 % of the night, with cloud glow on the sky.
    public var cloudPassage: Bool = false
    /// Total relative rise of the sky over the series (1.5 = +150 %, a rising moon); `nil` keeps the
    /// historic 10-30 %.
    public var skyRise: Double?

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
        if let d = hotPixelsPerMegapixel, !(d >= 0 && d <= 100_000) { return "hotPixelsPerMegapixel must be in 0...100000" }
        if warmColumns < 0 || warmColumns > width / 4 { return "warmColumns must be in 0...\(width / 4)" }
        if !(cosmicRaysPerMegapixel >= 0 && cosmicRaysPerMegapixel <= 10_000) { return "cosmicRaysPerMegapixel must be in 0...10000" }
        if satelliteTrails < 0 || satelliteTrails > frames { return "satelliteTrails must be in 0...frames (\(frames))" }
        if planeTrails < 0 || planeTrails > frames { return "planeTrails must be in 0...frames (\(frames))" }
        if adcBits < 8 || adcBits > 16 { return "adcBits must be in 8...16" }
        if saturatingStars < 0 { return "saturatingStars must not be negative" }
        if let d = driftFraction, !(d >= 0 && d <= 1) { return "driftFraction must be in 0...1" }
        if !(glitchFraction >= 0 && glitchFraction <= 1) { return "glitchFraction must be in 0...1" }
        if let v = seeingCV, !(v >= 0 && v <= 1) { return "seeingCV must be in 0...1" }
        if let r = skyRise, !(r >= 0 && r <= 20) { return "skyRise must be in 0...20" }
        if frameExtension.isEmpty || frameExtension.contains("/") || frameExtension.contains(".") {
            return "frameExtension must be a plain extension such as fits or FITS"
        }
        return nil
    }

    /// This config with a realistic mix of defects switched on: 300 sensor-fixed hot pixels per
    /// Mpx and 2 warm columns, 3 cosmic rays per frame and Mpx, 2 bright satellite trails and one
    /// plane trail, a 12-bit
    /// ADC, 8 saturating stars with blooming, drift of 30 % of the width with 3 degrees of field
    /// rotation, and tracking glitches in 4 % of the frames (at least one when there are 5+ frames).
    public func realistic() -> SynthConfig {
        var c = self
        c.hotPixelsPerMegapixel = 300
        c.warmColumns = 2
        c.cosmicRaysPerMegapixel = 3
        c.satelliteTrails = min(2, frames)
        c.planeTrails = 1
        c.adcBits = 12
        c.saturatingStars = 8
        c.blooming = true
        c.driftFraction = 0.3
        c.glitchFraction = 0.04
        return c
    }

    /// This config with a realistic night for noise (what `tcbuild synth` and `tcbuild demo` generate
    /// by default): seeing with a CV of 17 %, one cloud passage and a sky rising by 150 % (moonrise).
    /// Frame-to-frame noise then differs as on a real night, which is what noise-aware weights use.
    public func realisticNight() -> SynthConfig {
        var c = self
        c.seeingCV = 0.17
        c.cloudPassage = true
        c.skyRise = 1.5
        return c
    }

    /// True when every defect knob is at its default (the historic series).
    public var defectsAreDefault: Bool {
        hotPixelsPerMegapixel == nil && warmColumns == 0 && cosmicRaysPerMegapixel == 0 && satelliteTrails == 0 && planeTrails == 0
            && adcBits == 16 && saturatingStars == 3 && !blooming && driftFraction == nil && glitchFraction == 0
            && frameExtension == "fits"
    }
}

extension SynthConfig {
    enum CodingKeys: String, CodingKey {
        case width, height, frames, seed, cfa, starCount, moffatBeta, seeingRange, fieldCurvature, cornerEllipticity
        case totalRotationDegrees, jitterPixels, pedestal, gain, readNoise, skyLevel, nebulaPeak, exposureSeconds
        case frameGapSeconds, startEpochSeconds, oversampling, hotPixelsPerMegapixel, warmColumns
        case cosmicRaysPerMegapixel, satelliteTrails, planeTrails, adcBits, saturatingStars, blooming, driftFraction
        case glitchFraction, frameExtension, seeingCV, cloudPassage, skyRise
    }

    /// Decodes a config; every knob missing from the data (e.g. JSON written before the knob
    /// existed) takes its documented default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(width: try c.decode(Int.self, forKey: .width), height: try c.decode(Int.self, forKey: .height),
                  frames: try c.decode(Int.self, forKey: .frames), seed: try c.decode(UInt64.self, forKey: .seed),
                  cfa: try c.decode(Bool.self, forKey: .cfa))
        func load<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        starCount = try c.decodeIfPresent(Int.self, forKey: .starCount)
        try load(.moffatBeta, &moffatBeta)
        try load(.seeingRange, &seeingRange)
        try load(.fieldCurvature, &fieldCurvature)
        try load(.cornerEllipticity, &cornerEllipticity)
        try load(.totalRotationDegrees, &totalRotationDegrees)
        try load(.jitterPixels, &jitterPixels)
        try load(.pedestal, &pedestal)
        try load(.gain, &gain)
        try load(.readNoise, &readNoise)
        try load(.skyLevel, &skyLevel)
        try load(.nebulaPeak, &nebulaPeak)
        try load(.exposureSeconds, &exposureSeconds)
        try load(.frameGapSeconds, &frameGapSeconds)
        try load(.startEpochSeconds, &startEpochSeconds)
        try load(.oversampling, &oversampling)
        hotPixelsPerMegapixel = try c.decodeIfPresent(Double.self, forKey: .hotPixelsPerMegapixel)
        try load(.warmColumns, &warmColumns)
        try load(.cosmicRaysPerMegapixel, &cosmicRaysPerMegapixel)
        try load(.satelliteTrails, &satelliteTrails)
        try load(.planeTrails, &planeTrails)
        try load(.adcBits, &adcBits)
        try load(.saturatingStars, &saturatingStars)
        try load(.blooming, &blooming)
        driftFraction = try c.decodeIfPresent(Double.self, forKey: .driftFraction)
        try load(.glitchFraction, &glitchFraction)
        try load(.frameExtension, &frameExtension)
        seeingCV = try c.decodeIfPresent(Double.self, forKey: .seeingCV)
        try load(.cloudPassage, &cloudPassage)
        skyRise = try c.decodeIfPresent(Double.self, forKey: .skyRise)
    }
}
