import Foundation
import Imaging

/// Normalization and global metrics of one channel of a registered frame (METHOD phases 2-3).
public struct ChannelMeasurement: Codable, Sendable, Equatable {
    /// B_f: the raw background level (data numbers, before normalization) that the channel was divided by.
    public var background: Double
    /// sigma_f: robust noise of the background pixels of the normalized channel, unsmoothed
    /// (`Measure.pixelNoise`: MAD of neighbour differences, so smooth structure does not count as noise).
    public var noise: Double
    /// E_f: mean Sobel |grad I|^2 of the normalized channel (1-pixel border and NaN neighbourhoods dropped).
    public var gradient: Double

    /// A measurement from explicit values.
    public init(background: Double, noise: Double, gradient: Double) {
        self.background = background
        self.noise = noise
        self.gradient = gradient
    }
}

/// One star measured on the normalized luminance of a registered frame (reference geometry).
public struct MeasuredStar: Codable, Sendable, Equatable {
    /// Centre column, 0-based pixel centres.
    public var x: Double
    /// Centre row, 0-based pixel centres.
    public var y: Double
    /// FWHM in pixels (geometric mean of the major and minor axes).
    public var fwhm: Double
    /// Minor / major FWHM, in (0, 1].
    public var roundness: Double
    /// 1 - roundness.
    public var ellipticity: Double
    /// Peak height in units of the background noise.
    public var contrast: Double
    /// PSF-photometry signal-to-noise.
    public var snr: Double
    /// Whether a raw pixel within 1 px of the centre reaches 98 % of the sensor's saturation level.
    public var saturated: Bool
    /// Total PSF flux of the fit, normalized units (nil in artifacts written before measure version 4).
    public var flux: Double?

    /// A star from explicit values.
    public init(x: Double, y: Double, fwhm: Double, roundness: Double, ellipticity: Double,
                contrast: Double, snr: Double, saturated: Bool, flux: Double? = nil) {
        self.flux = flux
        self.x = x
        self.y = y
        self.fwhm = fwhm
        self.roundness = roundness
        self.ellipticity = ellipticity
        self.contrast = contrast
        self.snr = snr
        self.saturated = saturated
    }
}

/// The `measure` artifact of `measure/NNNNN`: everything later phases need from one registered frame.
/// Values are rounded to 1e-6 relative precision at most (see `Measure.rounded`), so the JSON is compact
/// and its bytes are a deterministic function of the frame.
public struct FrameMeasurement: Codable, Sendable, Equatable {
    /// Image width, pixels.
    public var width: Int
    /// Image height, pixels.
    public var height: Int
    /// Per-channel normalization and metrics (1 entry for mono, 3 for RGB).
    public var channels: [ChannelMeasurement]
    /// Fraction of luminance pixels that are finite (covered by the registered frame).
    public var coverage: Double
    /// Number of stars detected on the normalized luminance.
    public var starCount: Int
    /// Median FWHM of the unsaturated stars with ellipticity <= 0.4 (a satellite trail or a cosmic
    /// ray detected as a chain of elongated "stars" must not move it), pixels; nil without such stars.
    public var fwhm: Double?
    /// The detected stars, brightest first.
    public var stars: [MeasuredStar]

    /// A measurement from explicit values.
    public init(width: Int, height: Int, channels: [ChannelMeasurement], coverage: Double,
                starCount: Int, fwhm: Double?, stars: [MeasuredStar]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.coverage = coverage
        self.starCount = starCount
        self.fwhm = fwhm
        self.stars = stars
    }
}

/// Phase 2 (normalization) and the per-frame part of phase 3, as pure functions.
public enum Measure {
    /// Largest number of stars kept per frame (the brightest); bounds the artifact size on crowded fields.
    public static let maxStars = 5000
    /// The stars that are PSF-fitted: the 5 highest peaks per 64 x 64 px cell. The fits are what a
    /// measurement costs; per frame (FWHM) and per tile (a tile of 32 FWHM ~ 100 px holds ~10-15 such
    /// stars, SNR-weighted, so the bright ones lead anyway) a bounded, spread set of the brightest stars
    /// measures the same seeing as every detected star, at a bounded cost on crowded fields.
    public static let fitSpread = StarFitSpread(cell: 64, perCell: 5)
    /// The field list `stars/NNNNN` fits for `measure/NNNNN` on mono frames of the relative engine
    /// (`fitSpread`, at most `maxStars`), from the registration's own candidates.
    public static let fieldOptions = StarFieldOptions(spread: fitSpread, maxStars: maxStars)
    /// Edge margin of the measured stars, px: the detection's (`StarDetectionOptions.edgeMargin`).
    public static let edgeMargin = StarDetectionOptions().edgeMargin

    /// Whether `measure/NNNNN` of `frame` takes its stars from `stars/NNNNN#field` (`fieldStars`)
    /// rather than detecting them on the registered frame: mono frames (one plane, no Bayer pattern)
    /// of the relative engine, whose transform comes from those very star lists. CFA frames (debayered
    /// by the registration, measured on the RGB luminance) and the siril / wcs_anchor engines detect.
    public static func usesFieldStars(config: TCConfig, frame: FrameInfo) -> Bool {
        config.registration.engine == .relative && frame.bayer == nil && frame.channels == 1
    }

    /// On planes of at least `sampleMinPixels`, B_f and sigma_f come from a fixed 1-in-`sampleStride`
    /// subsample (every 4th sky pixel, every 4th row of neighbour pairs): the median of >= 6.5 * 10^4
    /// sky pixels has a statistical error below 1e-4 of B_f, far below the frame-to-frame changes the
    /// weights respond to. Smaller planes use every pixel.
    public static let sampleStride = 4
    /// See `sampleStride`.
    public static let sampleMinPixels = 1 << 18
    /// The detection background map's 32 px boxes are clipped on every 2nd pixel of every 2nd row
    /// (256 samples a box: its median is within ~0.08 sigma, against a 5-sigma detection threshold).
    public static let backgroundSampleStride = 2

    /// Normalizes every channel of `image` by its own background (METHOD phase 2):
    /// `I' = I / B`, B from `Statistics.background` in `mode` (`.background`: stars masked by a
    /// 3-sigma clip + 3 px dilation, median of the rest; `.median`: median of all finite pixels).
    /// NaN pixels stay NaN and never count. Also returns each channel's metrics: raw B, the
    /// background noise of the normalized channel (`pixelNoise`, on the pixels that are not masked
    /// as sources in `.background` mode, all finite pixels in `.median` mode) and the mean Sobel
    /// gradient energy of the normalized channel.
    ///
    /// Throws `MetricsError.noBackground` when a channel has no finite pixel or a background <= 0
    /// (a bias-subtracted or broken frame cannot be normalized by division).
    public static func normalize(_ image: Image, mode: TCConfig.NormalizationMode,
                                 file: String) throws -> (normalized: Image, channels: [ChannelMeasurement]) {
        let r = try normalizeMasked(image, mode: mode, file: file)
        return (r.normalized, r.channels)
    }

    /// `normalize`, and the luminance's source mask: in `.background` mode the union of the channels'
    /// star masks (`Statistics.backgroundAndMask`; a pixel is a source of the mean of the planes when
    /// it is one of any plane), nil in `.median` mode.
    static func normalizeMasked(_ image: Image, mode: TCConfig.NormalizationMode, file: String) throws
        -> (normalized: Image, channels: [ChannelMeasurement], luminanceMask: [Bool]?) {
        let n = image.planeSize
        var lumMask: [Bool]? = nil
        var maskless = false
        var out = image
        var channels: [ChannelMeasurement] = []
        let sampleStride = n >= sampleMinPixels ? Self.sampleStride : 1
        for c in 0..<image.channels {
            let m: BackgroundMode = mode == .background ? .background : .median
            let (estimate, mask) = Statistics.backgroundAndMask(image, plane: c, mode: m, sampleStride: sampleStride)
            guard let est = estimate, est.level.isFinite, est.level > 0 else {
                let level = Statistics.background(image, plane: c, mode: .median)?.level
                throw MetricsError.noBackground(file: file, channel: c, level: level.map(Double.init))
            }
            if let mask, !maskless {
                if lumMask == nil { lumMask = mask } else {
                    lumMask!.withUnsafeMutableBufferPointer { u in
                        mask.withUnsafeBufferPointer { m in for i in 0..<n { u[i] = u[i] || m[i] } }
                    }
                }
            } else { maskless = true; lumMask = nil }
            let scale = 1 / est.level
            out.pixels.withUnsafeMutableBufferPointer { all in
                let px = UnsafeMutableBufferPointer(rebasing: all[(c * n)..<((c + 1) * n)])
                for i in 0..<n { px[i] *= scale }
            }
            let energy = Kernels.gradientEnergyMean(out, plane: c)
            channels.append(ChannelMeasurement(background: Double(est.level),
                                               noise: pixelNoise(out, plane: c, mask: mask, rowStride: sampleStride) ?? 0,
                                               gradient: energy ?? 0))
        }
        return (out, channels, lumMask)
    }

    /// Pixel-to-pixel noise of plane `plane`: `1.4826 MAD(I(x+1,y) - I(x,y)) / sqrt(2)` over the
    /// horizontal neighbour pairs that are both finite and not under `mask` (true = source).
    /// Differences of neighbours cancel the sky gradient, the nebula and any other smooth structure,
    /// so this is the noise of the data, not its spread. nil when no pair qualifies. No smoothing.
    /// `rowStride` > 1 uses every `rowStride`-th row only (a fixed subsample).
    public static func pixelNoise(_ image: Image, plane: Int, mask: [Bool]? = nil, rowStride: Int = 1) -> Double? {
        let w = image.width, h = image.height, n = image.planeSize
        let step = max(1, rowStride)
        // The finite differences of the pairs outside the mask, row by row, left to right: each one
        // is written, and kept (the end advanced) when it qualifies, without a branch.
        let diffs = image.pixels.withUnsafeBufferPointer { all in
            [Float](unsafeUninitializedCapacity: n / step + w + 1) { dst, filled in
                var k = 0
                guard w > 1, let base = all.baseAddress else { filled = 0; return }
                let px = base + plane * n
                for y in stride(from: 0, to: h, by: step) {
                    let row = px + y * w
                    if let mask {
                        mask.withUnsafeBufferPointer { mk in
                            let mrow = mk.baseAddress! + y * w
                            for x in 1..<w {
                                let d = row[x] - row[x - 1]
                                dst[k] = d
                                k &+= (d.isFinite ? 1 : 0) & (mrow[x] ? 0 : 1) & (mrow[x - 1] ? 0 : 1)
                            }
                        }
                    } else {
                        for x in 1..<w {
                            let d = row[x] - row[x - 1]
                            dst[k] = d
                            k &+= d.isFinite ? 1 : 0
                        }
                    }
                }
                filled = k
            }
        }
        return Statistics.mad(diffs).map { Statistics.madToSigma * Double($0) / 2.0.squareRoot() }
    }

    /// The luminance of a normalized image: the plane itself for mono, the mean of the planes for
    /// RGB (NaN where any plane is NaN).
    public static func luminance(_ image: Image) -> Image {
        if image.channels == 1 { return image }
        let n = image.planeSize, k = image.channels
        var lum = Image(width: image.width, height: image.height, channels: 1, fill: 0)
        image.pixels.withUnsafeBufferPointer { all in
            lum.pixels.withUnsafeMutableBufferPointer { out in
                for c in 0..<k {
                    let px = UnsafeBufferPointer(rebasing: all[(c * n)..<((c + 1) * n)])
                    for i in 0..<n { out[i] += px[i] }
                }
                let inv = 1 / Float(k)
                for i in 0..<n { out[i] *= inv }
            }
        }
        return lum
    }

    /// Fraction of finite pixels of a mono image.
    public static func coverage(_ image: Image) -> Double {
        guard image.planeSize > 0 else { return 0 }
        // Finite: exponent bits not all ones; eight lanes at a time.
        let finite = image.pixels.withUnsafeBufferPointer { px -> Int in
            let count = px.count
            guard let base = px.baseAddress else { return 0 }
            let raw = UnsafeRawPointer(base)
            var acc = SIMD8<Int32>()
            let magnitude = SIMD8<UInt32>(repeating: 0x7fff_ffff), infBits = SIMD8<UInt32>(repeating: 0x7f80_0000)
            var i = 0
            while i + 8 <= count {
                let bits = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<UInt32>.self)
                acc &-= unsafeBitCast((bits & magnitude) .< infBits, to: SIMD8<Int32>.self)
                i += 8
            }
            var f = Int(acc.wrappedSum())
            while i < count { f += base[i].isFinite ? 1 : 0; i += 1 }
            return f
        }
        return Double(finite) / Double(image.planeSize)
    }

    /// The frame as the camera wrote it, for the saturation flags: resampling spreads a saturated
    /// star's flat top (often a single pixel at the ceiling) below the level, so the registered frame
    /// cannot tell; its raw pixels can.
    public struct SensorFrame: Sendable {
        /// The input frame (mono or CFA mosaic), raw ADU.
        public var image: Image
        /// Registered (reference) pixel coordinates -> `image` pixel coordinates (`RegistrationResult.transform`).
        public var transform: SimilarityTransform
        /// A frame and its transform.
        public init(image: Image, transform: SimilarityTransform) {
            self.image = image
            self.transform = transform
        }
    }

    /// Detects stars on `luminance` (normalized) and flags saturated ones: a star is saturated when
    /// a raw pixel of any plane within 1 px of its centre reaches `SaturationLevel.threshold` of
    /// `saturation` (nil: no flagging), looked up in `sensor` (the input frame, at the star's centre
    /// mapped back through the registration) or, without it, in `image` (the registered frame).
    /// Background for detection is a 32 px mesh map, so sky gradients and nebulae do not create false
    /// detections or inflate the noise. Only the candidates within `fitSpread` are fitted (and so measured).
    /// `sourceMask`: the luminance's star mask from the normalization (`normalizeMasked`); the detection
    /// noise is then taken outside it on the flattened luminance (`detectStars(sourceMask:)`), with no
    /// second sigma clip and mask. nil: `detectStars` builds its own.
    public static func stars(luminance: Image, raw image: Image, sensor: SensorFrame? = nil, thresholdSigma: Double,
                             saturation: Double?, sourceMask: [Bool]? = nil) -> [MeasuredStar] {
        var options = StarDetectionOptions(thresholdSigma: thresholdSigma, background: .map(mesh: 32),
                                           maxStars: maxStars, fitSpread: fitSpread)
        options.backgroundSampleStride = backgroundSampleStride
        let found = detectStars(in: luminance, options: options, sourceMask: sourceMask)
        return found.map { s in
            var saturated = false
            if let saturation {
                if let sensor {
                    let p = sensor.transform.apply(x: s.x, y: s.y)
                    saturated = SaturationLevel.touches(sensor.image, x: p.x, y: p.y, adu: saturation)
                } else {
                    saturated = SaturationLevel.touches(image, x: s.x, y: s.y, adu: saturation)
                }
            }
            return MeasuredStar(x: rounded(s.x), y: rounded(s.y), fwhm: rounded(s.fwhm),
                                roundness: rounded(s.roundness), ellipticity: rounded(s.ellipticity),
                                contrast: rounded(s.contrast), snr: rounded(s.snr), saturated: saturated,
                                flux: s.flux.isFinite ? rounded(s.flux) : nil)
        }
    }

    /// The field stars of a frame (`stars/NNNNN#field`, raw frame coordinates) and its registration.
    public struct FieldStars: Sendable {
        /// The stars fitted on the (cosmetic-corrected) input frame, brightest first.
        public var stars: [StarMeasurement]
        /// Registered (reference) pixel coordinates -> input frame pixel coordinates (`RegistrationResult.transform`).
        public var transform: SimilarityTransform
        /// Field stars and the transform.
        public init(stars: [StarMeasurement], transform: SimilarityTransform) {
            self.stars = stars
            self.transform = transform
        }
    }

    /// The stars of `field` in the registered frame: each centre mapped through the inverse of the
    /// registration (a similarity of scale s), FWHMs divided by s (roundness and ellipticity are
    /// invariant), the flux divided by s^2 (the warp keeps surface brightness, so a star covers
    /// 1/s^2 as many reference pixels) and by `background` (B_f: normalized units); contrast and SNR as
    /// fitted (the input frame's detection noise). Kept when the mapped centre's nearest pixel lies
    /// at least `edgeMargin` px inside the frame and `luminance` (the registered, normalized
    /// luminance) is finite there. Never saturated: `stars/NNNNN` drops saturated peaks. Order kept.
    public static func stars(field: FieldStars, luminance: Image, background: Double) -> [MeasuredStar] {
        let w = luminance.width, h = luminance.height, margin = edgeMargin
        let inverse = field.transform.inverse
        let s = field.transform.scale
        let fluxScale = 1 / (s * s * background)
        var out: [MeasuredStar] = []
        out.reserveCapacity(field.stars.count)
        luminance.pixels.withUnsafeBufferPointer { lum in
            for star in field.stars {
                let p = inverse.apply(x: star.x, y: star.y)
                guard p.x.isFinite, p.y.isFinite else { continue }
                let ix = Int(p.x.rounded()), iy = Int(p.y.rounded())
                guard ix >= margin, ix < w - margin, iy >= margin, iy < h - margin, lum[iy * w + ix].isFinite else { continue }
                let flux = star.flux * fluxScale
                out.append(MeasuredStar(x: rounded(p.x), y: rounded(p.y), fwhm: rounded(star.fwhm / s),
                                        roundness: rounded(star.roundness), ellipticity: rounded(star.ellipticity),
                                        contrast: rounded(star.contrast), snr: rounded(star.snr), saturated: false,
                                        flux: flux.isFinite ? rounded(flux) : nil))
            }
        }
        return out
    }

    /// Phases 2-3 on one registered frame: normalization, channel metrics, luminance stars (detected
    /// on the normalized luminance, or with `field` its stars mapped into the frame: `stars(field:...)`).
    public static func measure(_ image: Image, mode: TCConfig.NormalizationMode, thresholdSigma: Double,
                               saturation: Double?, sensor: SensorFrame? = nil, field: FieldStars? = nil,
                               file: String) throws -> FrameMeasurement {
        let (normalized, channels, mask) = try normalizeMasked(image, mode: mode, file: file)
        let lum = luminance(normalized)
        let stars: [MeasuredStar]
        if let field, channels.count == 1 {
            stars = Self.stars(field: field, luminance: lum, background: channels[0].background)
        } else {
            stars = Self.stars(luminance: lum, raw: image, sensor: sensor, thresholdSigma: thresholdSigma,
                               saturation: saturation, sourceMask: mask)
        }
        let fwhm = Statistics.median(stars.filter { !$0.saturated && $0.ellipticity <= TileGeometry.maxEllipticity }.map(\.fwhm))
        return FrameMeasurement(
            width: image.width, height: image.height,
            channels: channels.map { ChannelMeasurement(background: rounded($0.background), noise: rounded($0.noise),
                                                        gradient: rounded($0.gradient)) },
            coverage: rounded(coverage(lum)), starCount: stars.count, fwhm: fwhm.map(rounded), stars: stars)
    }

    /// `x` rounded to 7 significant digits (0 and non-finite values map to 0): compact, deterministic JSON.
    public static func rounded(_ x: Double) -> Double {
        guard x.isFinite, x != 0 else { return 0 }
        let digits = 6 - Int(log10(abs(x)).rounded(.down))
        let p = pow(10.0, Double(digits))
        let r = (x * p).rounded() / p
        return r.isFinite ? r : x
    }
}
