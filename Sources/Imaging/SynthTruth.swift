import Foundation

/// An axis-aligned rectangle in pixel coordinates: `x <= px < x + width`, `y <= py < y + height`.
public struct SynthRect: Sendable, Equatable, Codable {
    /// Left edge (first column), px.
    public var x: Double
    /// Top edge (first row), px.
    public var y: Double
    /// Width, px.
    public var width: Double
    /// Height, px.
    public var height: Double

    /// A rectangle from its origin and size.
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// True when (px, py) lies inside, after growing the rectangle by `margin` px on every side.
    public func contains(_ px: Double, _ py: Double, margin: Double = 0) -> Bool {
        px >= x - margin && px < x + width + margin && py >= y - margin && py < y + height + margin
    }
}

/// A catalog star in reference sky coordinates.
public struct SynthStar: Sendable, Equatable, Codable {
    /// Reference x, px.
    public var x: Double
    /// Reference y, px.
    public var y: Double
    /// Total flux at transparency 1 (luminance), ADU summed over the whole PSF.
    public var flux: Double
    /// Relative flux in R, G, B (mean of R, G, G, B is 1); only used for the CFA mosaic and RGB reference.
    public var color: [Double]
}

/// A hot pixel: fixed sensor position, same excess in every frame.
public struct SynthHotPixel: Sendable, Equatable, Codable {
    /// Column.
    public var x: Int
    /// Row.
    public var y: Int
    /// Excess signal added before noise, ADU.
    public var amplitude: Double
}

/// A satellite trail: a straight line through two frame points with a Gaussian cross-section.
public struct SynthTrail: Sendable, Equatable, Codable {
    /// First point on the line (frame coordinates).
    public var x0: Double
    /// First point on the line.
    public var y0: Double
    /// Second point on the line.
    public var x1: Double
    /// Second point on the line.
    public var y1: Double
    /// Peak brightness on the line centre before transparency, ADU.
    public var peak: Double
    /// Gaussian sigma of the cross-section, px.
    public var sigma: Double
    /// "plane" for an aircraft (absent for a satellite): two parallel lines `separation` px apart
    /// (the wing lights, centred on the recorded line) at 25 % of `peak`, with strobe flashes at
    /// full `peak` over the first `dashLength` px of every `dashPeriod` px, measured from (x0, y0)
    /// toward (x1, y1).
    public var kind: String?
    /// Distance between the two lines of a plane trail, px.
    public var separation: Double?
    /// Strobe period along a plane trail, px.
    public var dashPeriod: Double?
    /// Strobe flash length along a plane trail, px.
    public var dashLength: Double?
}

/// A warm column: a whole sensor column with a constant excess, identical in every frame.
public struct SynthWarmColumn: Sendable, Equatable, Codable {
    /// Column.
    public var x: Int
    /// Excess signal added to every pixel of the column before noise, ADU.
    public var amplitude: Double
}

/// Charge deposited in one pixel (before noise), ADU.
public struct SynthDeposit: Sendable, Equatable, Codable {
    /// Column.
    public var x: Int
    /// Row.
    public var y: Int
    /// Deposited signal, ADU (16-bit camera units).
    public var value: Double
}

/// One cosmic-ray hit in one frame: a sharp single pixel or a short straight track (not PSF-shaped).
public struct SynthCosmicRay: Sendable, Equatable, Codable {
    /// Column of the first (brightest) pixel, sensor coordinates.
    public var x: Int
    /// Row of the first (brightest) pixel.
    public var y: Int
    /// Deposit in the first pixel, ADU (16-bit camera units).
    public var amplitude: Double
    /// Every pixel of the hit (the first is (x, y)).
    public var pixels: [SynthDeposit]
}

/// One point of a tracking-glitch kernel: a copy of the sky shifted by (dx, dy) frame px with a
/// fraction `weight` of the light.
public struct SynthKernelPoint: Sendable, Equatable, Codable {
    /// Shift along x, px.
    public var dx: Double
    /// Shift along y, px.
    public var dy: Double
    /// Fraction of the light (the weights of a kernel sum to 1).
    public var weight: Double
}

/// A tracking glitch: the frame's sky (stars and nebula) is the sum of shifted, weighted copies.
/// The first point is always (0, 0), so `transform` locates the first copy.
public struct SynthGlitch: Sendable, Equatable, Codable {
    /// "double" (two points: doubled stars) or "line" (evenly weighted points along a segment: trailed stars).
    public var kind: String
    /// The kernel points.
    public var points: [SynthKernelPoint]
}

/// Truth for one frame.
public struct SynthFrameTruth: Sendable, Equatable, Codable {
    /// 0-based frame index.
    public var index: Int
    /// Path relative to the series directory (`frames/frame_00000.fits`).
    public var file: String
    /// PSF FWHM at the field centre, px (the seeing).
    public var seeingFwhm: Double
    /// Atmospheric transmission (1 = clear; clouds 0.4..0.8).
    public var transparency: Double
    /// Sky background at the frame centre, ADU above the pedestal (includes cloud glow).
    public var background: Double
    /// Reference -> frame transform (`SimilarityTransform`'s convention; JSON keys `rotation`,
    /// `scale`, `tx`, `ty`).
    public var transform: SimilarityTransform
    /// True for the single frame with a satellite trail.
    public var hasTrail: Bool
    /// The trail's geometry when `hasTrail`.
    public var trail: SynthTrail?
    /// DATE-OBS written to the FITS header (UTC, ISO 8601).
    public var dateObs: String
    /// Extra bright satellite trails of this frame (`satelliteTrails` knob; absent when none).
    /// (x0, y0) and (x1, y1) are where the line leaves the frame; `sigma` its Gaussian width.
    public var satelliteTrails: [SynthTrail]?
    /// Plane trails of this frame (`planeTrails` knob; absent when none), `kind` "plane".
    public var planeTrails: [SynthTrail]?
    /// Cosmic-ray hits of this frame (`cosmicRaysPerMegapixel` knob; absent when the knob is 0).
    public var cosmicRays: [SynthCosmicRay]?
    /// The tracking-glitch kernel when this is a glitch frame (absent otherwise).
    public var glitch: SynthGlitch?
    /// Catalog indices of the stars whose noise-free central pixel reaches the full well in this
    /// frame (analytic estimate from the PSF's peak density; present with `adcBits` < 16 or `blooming`).
    public var saturatedStars: [Int]?
}

/// Truth for a whole series, written as `truth/truth.json` (snake_case keys, sorted).
public struct SynthTruth: Sendable, Equatable, Codable {
    /// Frame width, px.
    public var width: Int
    /// Frame height, px.
    public var height: Int
    /// Number of frames.
    public var frames: Int
    /// Master seed.
    public var seed: UInt64
    /// True for RGGB mosaics.
    public var cfa: Bool
    /// "RGGB" for CFA series, nil for mono.
    public var bayerPattern: String?
    /// Number of catalog stars (over the catalog area, which is larger than one frame).
    public var starCount: Int
    /// Region of nebulosity without any star centre, reference coordinates.
    public var starlessNebulaRect: SynthRect
    /// Hot pixels, sensor coordinates.
    public var hotPixels: [SynthHotPixel]
    /// Index of the best frame (smallest seeing among clear, trail-free frames); the reference image uses its seeing.
    public var bestFrame: Int
    /// Exposure time of every frame, seconds.
    public var exptime: Double
    /// Pedestal (bias) in every frame, ADU.
    public var pedestal: Double
    /// Gain, e-/ADU.
    public var gain: Double
    /// Read noise, ADU rms.
    public var readNoise: Double
    /// Moffat beta of the PSF.
    public var moffatBeta: Double
    /// Saturation level of the uint16 frames, ADU.
    public var saturation: Double
    /// How to read `transform`.
    public var transformConvention: String
    /// Per-frame truth, in index order.
    public var perFrame: [SynthFrameTruth]
    /// The star catalog, reference coordinates.
    public var stars: [SynthStar]
    /// Warm columns, sensor coordinates (absent when none).
    public var warmColumns: [SynthWarmColumn]?
    /// ADC resolution when below 16 bits (absent for 16-bit series). Pedestal, gain, read noise,
    /// background, fluxes and deposits in this truth are in 16-bit camera units; the stored values
    /// are those divided by `adcDivisor`, rounded and clipped to `saturation` (= 2^bits - 1).
    public var adcBits: Int?
    /// 2^(16 - adcBits) when `adcBits` is set.
    public var adcDivisor: Double?
    /// Full well in signal ADU above the pedestal (16-bit units): above it a pixel reads `saturation`
    /// and, with `blooming`, the excess charge bleeds along its column (absent in the historic series).
    public var fullWell: Double?
    /// True when saturated charge blooms along columns (absent when off).
    public var blooming: Bool?
    /// Total drift over the series as a fraction of the width when the `driftFraction` knob is set;
    /// each frame's drift is in its `transform`.
    public var driftFraction: Double?
    /// Frame file name extension when it is not "fits".
    public var frameExtension: String?
    /// The realistic night's seeing CV when the `seeingCV` knob is set (absent in the historic series).
    public var seeingCv: Double?
    /// True when a cloud passage crosses the series (absent when off).
    public var cloudPassage: Bool?
    /// Total relative sky rise when the `skyRise` knob is set (absent in the historic series).
    public var skyRise: Double?

    /// The canonical JSON bytes: snake_case keys, sorted, pretty-printed; deterministic for equal truth.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(self)
    }

    /// Parses bytes written by `jsonData()`.
    public static func decode(_ data: Data) throws -> SynthTruth {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(SynthTruth.self, from: data)
    }
}
