import Foundation
import Graph
import Imaging

/// Star detection for registration: what a `stars/NNNNN` (or `stars/ref`) node computes.
///
/// Settings (all part of the node's params, so changing one reruns detection):
/// - threshold: `registration.star_threshold_sigma` background sigmas;
/// - background: a smooth local map (`BackgroundMap`, mesh 64 px of the searched plane; on mono
///   frames each box clipped on a 1-in-4 grid sample, 1024 pixels), so sky gradients and nebulosity
///   do not raise the threshold or create false detections;
/// - saturation: peaks at or above 98 % of the series' saturation level (`data.saturation_level`,
///   resolved by the scan: `SaturationLevel`, e.g. 4095 for a 12-bit camera) are rejected, their flat
///   tops give poor centroids and fluxes; without a level (float frames) there is no check;
/// - shape: detections with ellipticity above `maxEllipticity` (0.5) are dropped: satellite and
///   plane trails break up into bright, strongly elongated blobs (ellipticity ~0.95) that would
///   otherwise crowd the brightest-star list that matching relies on, and so do nebula knots;
/// - lines: before any fit, a candidate whose half-maximum footprint (connected pixels >= half its
///   peak within 12 px) is more than `maxFootprintElongation` (3) times longer than wide, and at
///   least 5 px long, is a trail segment and dropped (`StarLineRejection`). A bright satellite trail
///   has a local maximum every few pixels along its ridge: thousands of candidates on a large frame,
///   all brighter than most stars, which used to fill the whole fit budget (a 3264x2448 frame with a
///   trail kept 9 stars instead of 300);
/// - cosmetic correction (`registration.cosmetic_correction`, `Cosmetic.correctSpikes`) first, as the
///   register node does before its warp;
/// - cap: the `maxStars` (300) highest-flux remaining stars, brightest first. Detection fits the
///   1.5 x `maxStars` highest-peak candidates (flux follows peak within a frame, so the brightest
///   stars by flux are among them; the margin covers the shape cut) instead of every candidate;
/// - fit stamp: at most 17 x 17 px (radius 8, i.e. 2.5 FWHM + 2 up to FWHM 2.4 px, then capped):
///   registration needs the centre, flux and shape, which the core determines; the far wings only
///   cost fit time. (A 1.5 FWHM stamp was tried: as accurate on a dense field, but it fits one
///   component of a doubled star, whose frame then looks sharpest and becomes the reference);
/// - drift: a fit whose centre moves more than 2 px (`maxCentroidShift`) from the centroid is
///   abandoned at that step (`PSFFitOptions.maxDrift`); it would be dropped at the end anyway.
///
/// CFA mosaics are searched on the half-resolution luminance proxy `cfaLuminance` (mean of each
/// 2x2 cell), whose pixel (i, j) is centred on mosaic coordinate (2i + 0.5, 2j + 0.5). Positions are
/// converted back to full-resolution pixel centres with `x = 2 x_lum + 0.5`, `y = 2 y_lum + 0.5`, and
/// FWHMs are doubled, so every star list is in raw frame pixel coordinates whatever the sensor.
public struct StarListParams: Codable, Sendable, Equatable {
    /// Detection threshold in background sigmas (`registration.star_threshold_sigma`).
    public var thresholdSigma: Double
    /// Bayer pattern of the frame (`RGGB`...), nil for mono.
    public var bayer: String?
    /// The series' saturation level, raw ADU (`FrameList.saturation`); a peak at or above
    /// `SaturationLevel.threshold` of it is saturated. Nil disables the check.
    public var saturationLevel: Double?
    /// Maximum number of stars kept.
    public var maxStars: Int
    /// Background mesh (px of the searched plane).
    public var backgroundMesh: Int
    /// Detections more elongated than this (1 - minor/major) are not stars.
    public var maxEllipticity: Double
    /// `registration.cosmetic_correction`: single-pixel spikes are replaced before detection (a hot
    /// pixel on a star's wing pulls its centroid by up to ~0.8 px on a 4.4 px FWHM star, measured).
    public var cosmeticCorrection: Bool
    /// Candidates whose half-maximum footprint (within 12 px) has a major / minor axis ratio above
    /// this and is at least 5 px long are lines (trail segments), dropped before the fit budget.
    public var maxFootprintElongation: Double
    /// The field list (`measure/NNNNN`'s stars, `Measure.fieldOptions`) fitted from the same candidates
    /// on mono frames of the relative engine, `detectStars(in:options:field:)`; nil: none (not encoded,
    /// so the params of a node without it, and register's copy of them, read as before).
    public var field: StarFieldOptions? = nil

    enum CodingKeys: String, CodingKey {
        case thresholdSigma = "registration.star_threshold_sigma"
        case bayer = "bayer"
        case saturationLevel = "data.saturation_level"
        case maxStars = "max_stars"
        case backgroundMesh = "background_mesh"
        case maxEllipticity = "max_ellipticity"
        case cosmeticCorrection = "registration.cosmetic_correction"
        case maxFootprintElongation = "max_footprint_elongation"
        case field = "field"
    }

    /// Params for a frame with `bayer` of a series saturating at `saturation` under `config`.
    public init(config: TCConfig, bayer: String?, saturation: SaturationLevel?, maxStars: Int = 300) {
        thresholdSigma = config.registration.starThresholdSigma
        self.bayer = bayer
        saturationLevel = saturation?.adu
        self.maxStars = maxStars
        backgroundMesh = 64
        maxEllipticity = 0.5
        cosmeticCorrection = config.registration.cosmeticCorrection
        maxFootprintElongation = 3
    }

    /// The detection options these params stand for (lengths in pixels of the searched plane).
    public var detectionOptions: StarDetectionOptions {
        let mosaic = bayer != nil
        let mesh: Int = mosaic ? backgroundMesh / 2 : backgroundMesh
        let margin: Int = mosaic ? 4 : 8
        let budget: Int = maxStars * 3 / 2
        var options = StarDetectionOptions(thresholdSigma: thresholdSigma, background: .map(mesh: mesh),
                                           saturationLevel: saturationLevel.map { Float(SaturationLevel.threshold($0)) }, edgeMargin: margin, maxStars: 2 * maxStars,
                                           fitBudget: budget, fit: PSFFitOptions(maxStampRadius: 8))
        options.backgroundSampleStride = mosaic ? 1 : 2
        options.lineRejection = StarLineRejection(radius: mosaic ? 6 : 12, maxElongation: maxFootprintElongation,
                                                  minLength: mosaic ? 2.5 : 5)
        return options
    }
}

/// Star detection on one frame in raw frame coordinates (see `StarListParams`).
public enum StarList {
    /// Detects stars in `image` (a mono frame or a CFA mosaic) with `params`; brightest first, at
    /// most `params.maxStars`. Deterministic.
    /// - Throws: `StepError.unreadable` when the Bayer pattern is unknown or the mosaic is not mono.
    public static func detect(in raw: Image, params: StarListParams, file: String) throws -> [StarMeasurement] {
        try detectCorrected(in: raw, params: params, file: file).stars
    }

    /// `detect`, and the cosmetic correction it applied first as a patch of the raw frame (empty
    /// without `params.cosmeticCorrection`): the registration applies it instead of correcting again.
    public static func detectCorrected(in raw: Image, params: StarListParams,
                                       file: String) throws -> (stars: [StarMeasurement], cosmetic: PixelPatch) {
        let r = try detectWithField(in: raw, params: params, file: file)
        return (r.stars, r.cosmetic)
    }

    /// `detectCorrected`, and the field list (`params.field`, raw frame coordinates, brightest first)
    /// from the same detection: nil without `params.field` or on a CFA mosaic.
    public static func detectWithField(in raw: Image, params: StarListParams, file: String) throws
        -> (stars: [StarMeasurement], field: [StarMeasurement]?, cosmetic: PixelPatch) {
        var image = raw
        var patch = PixelPatch(pixelCount: raw.pixels.count)
        if params.cosmeticCorrection {
            let fixed = Cosmetic.correctSpikes(&image, step: cosmeticStep(bayer: params.bayer, raw))
            patch = PixelPatch(before: raw, after: image, hot: fixed.hot, dead: fixed.dead)
        }
        let r = try detect(corrected: image, params: params, file: file)
        return (r.stars, r.field, patch)
    }

    /// `Cosmetic.correctSpikes`'s neighbour distance for a frame: 2 on a CFA mosaic (same-colour
    /// neighbours), 1 otherwise.
    static func cosmeticStep(bayer: String?, _ raw: Image) -> Int { bayer != nil && raw.channels == 1 ? 2 : 1 }

    /// Detection on a frame already cosmetic-corrected (or not to be corrected); the field list only
    /// on a mono frame with `params.field`.
    static func detect(corrected image: Image, params: StarListParams,
                       file: String) throws -> (stars: [StarMeasurement], field: [StarMeasurement]?) {
        let options = params.detectionOptions
        func cut(_ s: [StarMeasurement]) -> [StarMeasurement] {
            Array(s.filter { $0.ellipticity <= params.maxEllipticity }.prefix(params.maxStars))
        }
        guard params.bayer != nil else {
            guard let field = params.field else { return (cut(detectStars(in: image, options: options)), nil) }
            let r = detectStars(in: image, options: options, field: field)
            return (cut(r.stars), r.field)
        }
        let lum: Image
        do { lum = try cfaLuminance(image) } catch {
            throw StepError.unreadable(file: file, message: "cannot build the CFA luminance proxy: \(error)")
        }
        return (cut(detectStars(in: lum, options: options)).map(toMosaic), nil)
    }

    /// Converts a star measured on the half-resolution luminance proxy to mosaic coordinates.
    static func toMosaic(_ s: StarMeasurement) -> StarMeasurement {
        var m = s
        m.x = 2 * s.x + 0.5
        m.y = 2 * s.y + 0.5
        m.fwhm = 2 * s.fwhm
        m.fwhmMajor = 2 * s.fwhmMajor
        m.fwhmMinor = 2 * s.fwhmMinor
        return m
    }

    /// Median FWHM of a star list (0 for an empty list).
    public static func medianFWHM(_ stars: [StarMeasurement]) -> Double {
        let f = stars.map(\.fwhm).filter(\.isFinite).sorted()
        guard !f.isEmpty else { return 0 }
        return f.count % 2 == 1 ? f[f.count / 2] : 0.5 * (f[f.count / 2 - 1] + f[f.count / 2])
    }
}
