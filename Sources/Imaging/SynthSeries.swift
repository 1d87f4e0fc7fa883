import Foundation

/// Errors of the synthetic series generator.
public enum SynthError: Error, CustomStringConvertible, Equatable {
    /// A config value is out of range.
    case invalidConfig(String)
    /// The output directory (or a subdirectory) could not be created.
    case cannotCreateDirectory(path: String, reason: String)
    /// A frame, the reference or truth.json could not be written.
    case writeFailed(path: String, reason: String)

    /// What is wrong, where, and what to do.
    public var description: String {
        switch self {
        case .invalidConfig(let message):
            return "synthetic series: \(message); choose a valid value and retry"
        case .cannotCreateDirectory(let path, let reason):
            return "synthetic series: cannot create directory '\(path)': \(reason); check the path and its permissions"
        case .writeFailed(let path, let reason):
            return "synthetic series: cannot write '\(path)': \(reason); check free space and permissions"
        }
    }
}

/// A deterministic synthetic observing run with known truth.
///
/// Guarantees: everything (scene, conditions, every frame's pixels) is a pure function of
/// `config`. Frames are independent of each other and of the order or thread they are rendered
/// on, because each frame's noise comes from its own generator seeded by (seed, frame index).
public struct SynthSeries: Sendable {
    /// The generating config.
    public let config: SynthConfig
    /// Stars and nebula in reference coordinates.
    public let scene: SynthScene
    /// The optics.
    public let psf: SynthPSFModel
    /// Hot pixels (sensor coordinates, identical in every frame).
    public let hotPixels: [SynthHotPixel]
    /// Truth for the whole series (what `truth/truth.json` holds).
    public let truth: SynthTruth
    /// Warm columns (sensor coordinates, identical in every frame).
    public let warmColumns: [SynthWarmColumn]
    /// Per-frame conditions, index order.
    let conditions: [SynthConditions]
    /// Per-frame defects (satellite trails, cosmic rays, glitch kernel), index order.
    let defects: [SynthFrameDefects]

    /// Saturation of the uint16 output, ADU.
    public static let saturation: Double = 65535

    /// Builds scene, conditions and truth (cheap: no frame is rendered here).
    public init(_ config: SynthConfig) throws {
        if let problem = config.validationProblem() { throw SynthError.invalidConfig(problem) }
        self.config = config
        let conditions = SynthConditions.simulate(config)
        self.conditions = conditions
        psf = SynthPSFModel(width: config.width, height: config.height, beta: config.moffatBeta,
                            fieldCurvature: config.fieldCurvature, cornerEllipticity: config.cornerEllipticity)

        // Catalog area: the union of every frame's footprint in reference coordinates, plus a margin
        // so stars just outside a frame still spill their wings in.
        var minX = 0.0, minY = 0.0, maxX = Double(config.width), maxY = Double(config.height)
        for c in conditions {
            for (x, y) in [(0.0, 0.0), (Double(config.width), 0), (0, Double(config.height)),
                           (Double(config.width), Double(config.height))] {
                let p = c.transform.preimage(x: x, y: y)
                minX = min(minX, p.x); maxX = max(maxX, p.x)
                minY = min(minY, p.y); maxY = max(maxY, p.y)
            }
        }
        let margin = 12.0
        let area = SynthRect(x: (minX - margin).rounded(.down), y: (minY - margin).rounded(.down),
                             width: (maxX - minX + 2 * margin).rounded(.up), height: (maxY - minY + 2 * margin).rounded(.up))
        scene = SynthScene(config: config, area: area)

        // Hot pixels: fixed sensor defects.
        var rng = SynthRandom(seed: config.seed, stream: 3)
        let hotCount = config.hotPixelsPerMegapixel.map { Int(($0 * Double(config.width * config.height) / 1e6).rounded()) }
            ?? max(3, config.width * config.height / 25_000)
        var seen = Set<Int>()
        var hot: [SynthHotPixel] = []
        while hot.count < hotCount {
            let x = 1 + rng.index(config.width - 2), y = 1 + rng.index(config.height - 2)
            if !seen.insert(y * config.width + x).inserted { continue }
            hot.append(SynthHotPixel(x: x, y: y, amplitude: (1500 * exp(rng.uniform(0...3))).rounded()))
        }
        hot.sort { ($0.y, $0.x) < ($1.y, $1.x) }
        hotPixels = hot

        // The other defects come from their own random streams, so the default series is unchanged.
        let warm = SynthSeries.makeWarmColumns(config)
        warmColumns = warm
        let defects = SynthSeries.makeDefects(config)
        self.defects = defects

        // Best frame: smallest seeing among clear, trail-free, glitch-free frames (all frames if none qualifies).
        let candidates = conditions.indices.filter {
            conditions[$0].transparency >= 0.9 && conditions[$0].trail == nil
                && defects[$0].trails.isEmpty && defects[$0].planes.isEmpty && defects[$0].glitch == nil
        }
        let pool = candidates.isEmpty ? Array(conditions.indices) : candidates
        let best = pool.min { conditions[$0].seeing < conditions[$1].seeing }!

        let fullWell = SynthSeries.saturation - config.pedestal
        let recordSaturation = config.adcBits < 16 || config.blooming
        let psfModel = psf, stars = scene.stars
        let perFrame = conditions.enumerated().map { f, c in
            let d = defects[f]
            return SynthFrameTruth(
                index: f, file: SynthSeries.framePath(f, fileExtension: config.frameExtension), seeingFwhm: c.seeing,
                transparency: c.transparency, background: c.skyCentre, transform: c.transform,
                hasTrail: c.trail != nil, trail: c.trail,
                dateObs: SynthConditions.isoDate(epochSeconds: c.epochSeconds),
                satelliteTrails: d.trails.isEmpty ? nil : d.trails,
                planeTrails: d.planes.isEmpty ? nil : d.planes,
                cosmicRays: config.cosmicRaysPerMegapixel > 0 ? d.cosmicRays : nil,
                glitch: d.glitch,
                saturatedStars: recordSaturation
                    ? SynthSeries.saturatedStars(stars: stars, psf: psfModel, conditions: c, glitch: d.glitch,
                                                 config: config, fullWell: fullWell)
                    : nil)
        }
        truth = SynthTruth(
            width: config.width, height: config.height, frames: config.frames, seed: config.seed,
            cfa: config.cfa, bayerPattern: config.cfa ? "RGGB" : nil, starCount: scene.stars.count,
            starlessNebulaRect: scene.starlessRect, hotPixels: hot, bestFrame: best,
            exptime: config.exposureSeconds, pedestal: config.pedestal, gain: config.gain,
            readNoise: config.readNoise, moffatBeta: config.moffatBeta,
            saturation: config.adcBits < 16 ? Double((1 << config.adcBits) - 1) : SynthSeries.saturation,
            transformConvention: "x = scale*(cos(rotation)*X - sin(rotation)*Y) + tx; "
                + "y = scale*(sin(rotation)*X + cos(rotation)*Y) + ty; (X, Y) reference, (x, y) frame, "
                + "0-based pixel centres, rotation in radians",
            perFrame: perFrame, stars: scene.stars,
            warmColumns: warm.isEmpty ? nil : warm,
            adcBits: config.adcBits < 16 ? config.adcBits : nil,
            adcDivisor: config.adcBits < 16 ? config.adcDivisor : nil,
            fullWell: recordSaturation ? fullWell : nil,
            blooming: config.blooming ? true : nil,
            driftFraction: config.driftFraction,
            frameExtension: config.frameExtension == "fits" ? nil : config.frameExtension,
            seeingCv: config.seeingCV, cloudPassage: config.cloudPassage ? true : nil, skyRise: config.skyRise)
    }

    /// The relative path of frame `index` inside a series directory with the default extension.
    public static func framePath(_ index: Int) -> String {
        framePath(index, fileExtension: "fits")
    }

    /// The relative path of frame `index` with extension `fileExtension` (e.g. "FITS").
    public static func framePath(_ index: Int, fileExtension: String) -> String {
        let digits = String(index)
        return "frames/frame_" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + "." + fileExtension
    }

    /// The relative path of frame `index` of this series (its config's extension).
    public func framePath(_ index: Int) -> String {
        SynthSeries.framePath(index, fileExtension: config.frameExtension)
    }
}
