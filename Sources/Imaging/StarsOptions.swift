import Foundation

/// Where star detection takes the sky level and noise from.
public enum StarBackground: Sendable, Codable, Equatable {
    /// One level for the plane: `Statistics.background` (stars masked, median; noise 1.4826 MAD).
    case global
    /// A smooth local map: `BackgroundMap.estimate(mesh:)` for the level (flattens gradients);
    /// the noise is the global `Statistics.background` noise.
    case map(mesh: Int)
    /// Known values, e.g. for an image that is already background-subtracted (`level: 0`).
    case constant(level: Float, noise: Float)
}

/// A spatial bound on the PSF fits of `detectStars`: at most `perCell` candidates (the highest peaks)
/// in each `cell` x `cell` pixel square of the plane, so a crowded field costs a bounded number of fits
/// per area and the fitted stars stay spread over the field.
public struct StarFitSpread: Sendable, Codable, Equatable {
    /// Cell side, px of the searched plane (>= 1).
    public var cell: Int
    /// Candidates fitted per cell (>= 1).
    public var perCell: Int
    /// A bound of `perCell` fits per `cell` x `cell` square.
    public init(cell: Int, perCell: Int) {
        self.cell = cell
        self.perCell = perCell
    }
}

/// The second list of `detectStars(in:channel:options:field:sourceMask:)`, the *field*: a spread set
/// of stars over the whole plane (e.g. for seeing and tile measurements), fitted from the same
/// candidates as the main list, with the same fit options.
public struct StarFieldOptions: Sendable, Codable, Equatable {
    /// At most `spread.perCell` candidates per cell are fitted (highest peaks first); no fit budget.
    public var spread: StarFitSpread
    /// The field list keeps at most this many stars, the highest-flux ones.
    public var maxStars: Int
    /// A field of `spread`, capped at `maxStars`.
    public init(spread: StarFitSpread, maxStars: Int) {
        self.spread = spread
        self.maxStars = maxStars
    }

    enum CodingKeys: String, CodingKey {
        case spread
        case maxStars = "max_stars"
    }
}

/// The line test of `detectStars` (step 5b): the *half-maximum footprint* of a candidate is the
/// 8-connected set of pixels around its peak whose background-subtracted value is at least half the
/// peak's, within `radius` px (Chebyshev) of it. Its second moments (each pixel a unit square, so
/// a single pixel has variance 1/12 on both axes) give a major and a minor axis; the candidate is a
/// line (a trail segment, not a star) when major / minor exceeds `maxElongation` and the footprint's
/// equivalent length sqrt(12 x major variance) is at least `minLength` px. A round star's footprint
/// is a disc of diameter ~FWHM (ratio ~1); a trail's is a band 1-2 px wide across the whole window
/// (ratio > 10).
public struct StarLineRejection: Sendable, Codable, Equatable {
    /// Footprint window radius, px of the searched plane.
    public var radius: Int
    /// Largest accepted major / minor axis ratio of the footprint.
    public var maxElongation: Double
    /// Shorter footprints are never lines (tiny footprints of undersampled stars).
    public var minLength: Double
    /// Defaults: radius 12 px, ratio 3, length 5 px.
    public init(radius: Int = 12, maxElongation: Double = 3, minLength: Double = 5) {
        self.radius = radius
        self.maxElongation = maxElongation
        self.minLength = minLength
    }
}

/// Parameters of `detectStars`. All lengths are in pixels of the plane searched.
public struct StarDetectionOptions: Sendable, Codable, Equatable {
    /// Detection threshold: a pixel is a candidate when (value - background) > thresholdSigma * noise.
    public var thresholdSigma: Double
    /// Sky level and noise source.
    public var background: StarBackground
    /// A candidate must be the maximum of the (2r+1) x (2r+1) window around it (r = 1: 3x3).
    /// On a plateau of equal values the first pixel in reading order wins.
    public var localMaximumRadius: Int
    /// Of two candidates closer than this (Euclidean, between peak pixels), only the brighter peak is
    /// kept. Saturated peaks take part (they suppress faint neighbours, whose measurement they would
    /// spoil) and are rejected afterwards.
    public var minSeparation: Double
    /// Raw pixel value (before background subtraction) at or above which a peak is saturated and the
    /// star rejected; nil disables the check.
    public var saturationLevel: Float?
    /// Hot-pixel rejection: a candidate whose 4 orthogonal neighbours (background-subtracted) are
    /// all below `hotPixelRatio` times its own value is a single-pixel spike, not a star.
    /// 0 disables. (A sampled Gaussian with FWHM 2 has neighbours at >= 0.5 of the peak.)
    public var hotPixelRatio: Double
    /// Candidates closer than this to the plane border are ignored.
    public var edgeMargin: Int
    /// Keep at most this many stars (the highest-flux ones); nil keeps all. When set, only the
    /// `4 * maxStars` highest-peak candidates are fitted (bounded cost on crowded fields).
    public var maxStars: Int?
    /// Fit at most this many candidates (the highest peaks, after the saturation check); nil fits up
    /// to `4 * maxStars` (every candidate without a cap).
    public var fitBudget: Int?
    /// Fit at most `perCell` candidates per cell (highest peaks first); nil: no spatial bound.
    public var fitSpread: StarFitSpread?
    /// PSF fit used to refine each star.
    public var fit: PSFFitOptions
    /// Fitted stars with a mean FWHM outside [minFWHM, maxFWHM] are dropped (cosmic rays, galaxies).
    public var minFWHM: Double
    /// See `minFWHM`.
    public var maxFWHM: Double
    /// A fit whose centre lands farther than this from the intensity-weighted centroid is dropped.
    public var maxCentroidShift: Double
    /// Line rejection before the fit (nil: off): a candidate whose half-maximum footprint is a line
    /// is dropped (see `StarLineRejection`), so satellite and plane trails, whose ridge yields a
    /// local maximum every few pixels, never take fit slots or places in the star list.
    public var lineRejection: StarLineRejection? = nil
    /// With `background: .map`, the map's boxes are sigma-clipped on every k-th pixel of every k-th
    /// row (`BackgroundMap.estimate(sampleStride:)`); nil or 1: every pixel.
    public var backgroundSampleStride: Int? = nil

    /// Defaults: 5 sigma, global background, 3x3 maxima, 3 px separation, no saturation level,
    /// hot-pixel ratio 0.3, 8 px margin, no cap, no fit budget or spread, Gaussian fit, FWHM 0.8...25 px, 2 px centroid shift.
    public init(thresholdSigma: Double = 5, background: StarBackground = .global, localMaximumRadius: Int = 1,
                minSeparation: Double = 3, saturationLevel: Float? = nil, hotPixelRatio: Double = 0.3,
                edgeMargin: Int = 8, maxStars: Int? = nil, fitBudget: Int? = nil, fitSpread: StarFitSpread? = nil,
                fit: PSFFitOptions = PSFFitOptions(),
                minFWHM: Double = 0.8, maxFWHM: Double = 25, maxCentroidShift: Double = 2) {
        self.thresholdSigma = thresholdSigma
        self.background = background
        self.localMaximumRadius = localMaximumRadius
        self.minSeparation = minSeparation
        self.saturationLevel = saturationLevel
        self.hotPixelRatio = hotPixelRatio
        self.edgeMargin = edgeMargin
        self.maxStars = maxStars
        self.fitBudget = fitBudget
        self.fitSpread = fitSpread
        self.fit = fit
        self.minFWHM = minFWHM
        self.maxFWHM = maxFWHM
        self.maxCentroidShift = maxCentroidShift
    }
}
