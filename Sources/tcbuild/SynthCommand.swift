import ArgumentParser
import Dispatch
import Foundation
import Imaging

/// `tcbuild synth DIR`: writes a deterministic, realistic synthetic series with known truth.
///
/// Same arguments give byte-identical files. Output: `DIR/frames/frame_NNNNN.fits` (uint16),
/// `DIR/truth/reference.fits`, `DIR/truth/truth.json`.
struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a synthetic test series with known truth.",
        discussion: """
            Writes DIR/frames/frame_00000.fits ... (uint16 light frames with stars, nebula, seeing \
            changes, clouds, sky gradient, field rotation, jitter, noise, hot pixels and one satellite \
            trail), DIR/truth/reference.fits (noise-free, best seeing, reference geometry) and \
            DIR/truth/truth.json (per-frame seeing, transparency, background, transform). \
            The same arguments always produce byte-identical files.

            The night is realistic in noise by default: seeing varying with a CV of 17 %, one cloud \
            passage (transparency down to 0.35-0.5 with cloud glow) and a sky rising by 150 % (moonrise), \
            so frames differ in noise as on a real night (--seeing-cv, --[no-]cloud-passage, --sky-rise; \
            --historic-night for the series of earlier versions).

            Camera and observing defects (off by default; --realistic turns on a realistic mix, \
            which the individual options then override): sensor-fixed hot pixels (--hot-pixels, per Mpx; \
            drift turns them into streaks in a stack) and warm columns, cosmic rays (--cosmic-rays, hits \
            per frame and Mpx), bright satellite trails across the frame (--trails), plane trails with strobe \
            flashes (--planes), a 12-bit ADC \
            (--adc-bits 12: values 0...4095 stored unscaled in BITPIX 16, no SATURATE keyword), \
            saturating stars with blooming along columns, drift of a fraction of the width with field \
            rotation (--drift, --rotation), tracking-glitch frames with doubled or trailed stars \
            (--glitches) and upper-case file names (--extension FITS). truth.json records each defect.

            --realistic = --hot-pixels 300 --warm-columns 2 --cosmic-rays 3 --trails 2 --planes 1 --adc-bits 12 \
            --saturating-stars 8 --blooming --drift 0.3 --glitches 0.04 (rotation stays 3 degrees).
            """)

    @Argument(help: "Output directory (created if missing).")
    var directory: String

    @Option(name: .long, help: "Number of frames (>= 1).")
    var frames: Int = 50

    @Option(name: .long, help: "Frame size as WIDTHxHEIGHT, each side 16...20000 px.")
    var size: String = "1024x768"

    @Flag(name: .long, help: "Write RGGB Bayer mosaics (BAYERPAT) sampled from an RGB scene.")
    var cfa: Bool = false

    @Option(name: .long, help: "Seed; the only source of randomness.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Stars in the catalog (default: one per 1500 px^2 of catalog area); e.g. --stars 3000 on 650x500 for a dense field.")
    var stars: Int?

    @Flag(name: .long, help: "Turn on a realistic mix of camera and observing defects (listed above).")
    var realistic: Bool = false

    @Option(name: .long, help: ArgumentHelp("Sensor-fixed hot pixels per megapixel (default 40).", valueName: "per-Mpx"))
    var hotPixels: Double?

    @Option(name: .long, help: "Warm columns (constant excess on whole columns; default 0).")
    var warmColumns: Int?

    @Option(name: .long, help: ArgumentHelp("Mean cosmic-ray hits per frame and megapixel (default 0).", valueName: "per-Mpx"))
    var cosmicRays: Double?

    @Option(name: .long, help: "Bright satellite trails across the frame, each in its own frame (default 0).")
    var trails: Int?

    @Option(name: .long, help: "Plane trails (two lines with strobe flashes) across the frame (default 0).")
    var planes: Int?

    @Option(name: .long, help: "ADC bits, 8...16 (default 16); 12 stores 0...4095 in BITPIX 16.")
    var adcBits: Int?

    @Option(name: .long, help: "Catalog stars drawn near or above saturation (default 3).")
    var saturatingStars: Int?

    @Flag(name: .long, inversion: .prefixedNo, help: "Saturated charge blooms along columns (default off).")
    var blooming: Bool?

    @Option(name: .long, help: ArgumentHelp("Total drift over the series as a fraction of the width, 0...1 (default: 2-6 px).", valueName: "fraction"))
    var drift: Double?

    @Option(name: .long, help: ArgumentHelp("Field rotation over the series, degrees (default 3).", valueName: "degrees"))
    var rotation: Double?

    @Option(name: .long, help: ArgumentHelp("Fraction of tracking-glitch frames with doubled or trailed stars, 0...1 (default 0).", valueName: "fraction"))
    var glitches: Double?

    @Flag(name: .long, help: "The historic night (seeing random walk, 1-2 short cloud events, sky rising 10-30 %) instead of the realistic one (seeing CV 17 %, a cloud passage, sky rising 150 %).")
    var historicNight: Bool = false

    @Option(name: .long, help: ArgumentHelp("Seeing coefficient of variation, 0...1 (realistic night: 0.17).", valueName: "cv"))
    var seeingCv: Double?

    @Flag(name: .long, inversion: .prefixedNo, help: "A cloud passage over 10-14 % of the frames (realistic night: on).")
    var cloudPassage: Bool?

    @Option(name: .long, help: ArgumentHelp("Total relative sky rise over the series, e.g. 1.5 = +150 % (realistic night: 1.5).", valueName: "fraction"))
    var skyRise: Double?

    @Option(name: .customLong("extension"), help: ArgumentHelp("Frame file extension, e.g. FITS for upper-case names (default fits).", valueName: "ext"))
    var fileExtension: String?

    /// The generator config for the parsed arguments (`--realistic` first, then the individual options).
    func makeConfig(width: Int, height: Int) -> SynthConfig {
        var config = SynthConfig(width: width, height: height, frames: frames, seed: seed, cfa: cfa)
        if !historicNight { config = config.realisticNight() }
        if realistic { config = config.realistic() }
        if let seeingCv { config.seeingCV = seeingCv }
        if let cloudPassage { config.cloudPassage = cloudPassage }
        if let skyRise { config.skyRise = skyRise }
        if let stars { config.starCount = stars }
        if let hotPixels { config.hotPixelsPerMegapixel = hotPixels }
        if let warmColumns { config.warmColumns = warmColumns }
        if let cosmicRays { config.cosmicRaysPerMegapixel = cosmicRays }
        if let trails { config.satelliteTrails = trails }
        if let planes { config.planeTrails = planes }
        if let adcBits { config.adcBits = adcBits }
        if let saturatingStars { config.saturatingStars = saturatingStars }
        if let blooming { config.blooming = blooming }
        if let drift { config.driftFraction = drift }
        if let rotation { config.totalRotationDegrees = rotation }
        if let glitches { config.glitchFraction = glitches }
        if let fileExtension { config.frameExtension = fileExtension }
        return config
    }

    /// Parses "WxH" into a size; nil when malformed or out of range.
    static func parseSize(_ text: String) -> (width: Int, height: Int)? {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]),
              (16...20_000).contains(w), (16...20_000).contains(h) else { return nil }
        return (w, h)
    }

    func validate() throws {
        if Synth.parseSize(size) == nil {
            throw ValidationError("--size '\(size)' is not valid: use WIDTHxHEIGHT with each side 16...20000 px, e.g. --size 1024x768")
        }
        if let stars, stars < 0 {
            throw ValidationError("--stars \(stars) is not valid: use a count >= 0, e.g. --stars 3000")
        }
        if frames < 1 {
            throw ValidationError("--frames \(frames) is not valid: a series needs at least 1 frame, e.g. --frames 200")
        }
        let (width, height) = Synth.parseSize(size)!
        if let problem = makeConfig(width: width, height: height).validationProblem() {
            throw ValidationError("synth options are not valid: \(problem)")
        }
    }

    func run() throws {
        let (width, height) = Synth.parseSize(size)!
        let config = makeConfig(width: width, height: height)
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let series = try SynthSeries(config)
            let written = try series.write(to: directory)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            print("synth: wrote \(written) frame\(written == 1 ? "" : "s") (\(width)x\(height)\(cfa ? ", RGGB" : ""), seed \(seed)) to \(directory) in \(String(format: "%.2f", seconds)) s")
        } catch let error as SynthError {
            FileHandle.standardError.write(Data(("error: " + error.description + "\n").utf8))
            throw ExitCode(1)
        }
    }
}
