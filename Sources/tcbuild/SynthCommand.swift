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
    }

    func run() throws {
        let (width, height) = Synth.parseSize(size)!
        var config = SynthConfig(width: width, height: height, frames: frames, seed: seed, cfa: cfa)
        config.starCount = stars
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
