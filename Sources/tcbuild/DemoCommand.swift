import ArgumentParser
import Cache
import Foundation
import Imaging
import Steps

/// `tcbuild demo`: the zero-setup main job. Generates a realistic synthetic series (as
/// `tcbuild synth` does) in a workspace, writes a config suited to it, runs the whole graph with a
/// progress display and prints where the results are. Running it again reuses everything.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a synthetic series and run the whole pipeline on it (a second run is incremental).")

    @Option(help: "Workspace directory (created; reused when it already holds a demo).")
    var dir: String = "tcbuild-demo"
    @Option(help: "Number of frames to generate.") var frames: Int = 60
    @Option(help: "Frame size WIDTHxHEIGHT.") var size: String = "384x288"
    @Flag(help: "One-shot-colour (Bayer RGGB) frames.") var cfa = false
    @Option(help: "Random seed of the series.") var seed: UInt64 = 1
    @Option(help: "Concurrent nodes (default: number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
    @Flag(name: .shortAndLong, help: "Print nothing but errors and the final summary.") var quiet = false

    /// Version of the demo's defect mix (a demo directory made with another mix is regenerated).
    static let mix = "real-1 night=realistic"

    /// The demo series: a realistic night (`realisticNight`: seeing varying by ~17 %, a cloud passage, a
    /// rising sky) over a rich field (~2500 stars per Mpx, enough to register small frames) with what
    /// real frames have: 300 sensor-fixed hot pixels per Mpx and a warm column (a drift of 10 % of the
    /// width turns them into streaks in a plain stack), 3 cosmic rays per frame and Mpx, one satellite
    /// and one plane trail, and a tracking glitch in 2 % of the frames (at least one), which
    /// registration registers or excludes and names. 16-bit ADC.
    static func series(width: Int, height: Int, frames: Int, seed: UInt64, cfa: Bool) -> SynthConfig {
        var synth = SynthConfig(width: width, height: height, frames: frames, seed: seed, cfa: cfa).realisticNight()
        synth.starCount = width * height / 400
        synth.hotPixelsPerMegapixel = 300
        synth.warmColumns = 1
        synth.cosmicRaysPerMegapixel = 3
        synth.satelliteTrails = min(1, frames)
        synth.planeTrails = 1
        synth.driftFraction = 0.1
        synth.glitchFraction = 0.02
        return synth
    }

    func validate() throws {
        guard frames >= 3 else { throw ValidationError("--frames must be at least 3") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard Synth.parseSize(size) != nil else { throw ValidationError("--size '\(size)' is not valid: use WIDTHxHEIGHT, e.g. 384x288") }
    }

    func run() throws {
        let root = (URL(fileURLWithPath: dir).standardizedFileURL.path as NSString).standardizingPath
        let (width, height) = Synth.parseSize(size)!
        let marker = root + "/.demo-series"
        let signature = "frames=\(frames) size=\(width)x\(height) cfa=\(cfa) seed=\(seed) mix=\(Self.mix)\n"
        if (try? String(contentsOfFile: marker, encoding: .utf8)) != signature {
            if FileManager.default.fileExists(atPath: root + "/tile_compile.yaml"),
               !FileManager.default.fileExists(atPath: marker) {
                throw UsageError("\(root) holds a workspace that is not a demo; pass --dir with a new directory")
            }
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let t0 = Date()
            if !quiet { print("generating \(frames) synthetic frames of \(width)x\(height)\(cfa ? " (RGGB)" : "") in \(root)/frames ...") }
            try SynthSeries(Self.series(width: width, height: height, frames: frames, seed: seed, cfa: cfa)).write(to: root)
            if !quiet { print(String(format: "  done in %.1f s (truth in %@/truth)", Date().timeIntervalSince(t0), root)) }
            try signature.write(toFile: marker, atomically: true, encoding: .utf8)
        }
        var config = TCConfig()
        config.data.framesMin = min(frames, config.data.framesMin)
        config.synthetic.framesMax = max(1, min(config.synthetic.framesMax, frames / 3))
        config.synthetic.framesMin = min(config.synthetic.framesMin, config.synthetic.framesMax)
        config.pipeline.abortOnFail = false  // the demo shows the verdict; 'tcbuild run' aborts on it by default
        try config.renderedYAML().write(toFile: root + "/tile_compile.yaml", atomically: true, encoding: .utf8)

        let workspace = try Workspace(root: root)
        defer { try? workspace.close() }
        warnAboutRecovery(workspace)
        let progress = ProgressDisplay(quiet: quiet, verbose: false)
        let result = try PipelineRunner.run(workspace: workspace, config: config, jobs: jobs, command: "demo",
                                            configSource: "tile_compile.yaml (written by demo)", events: progress)
        progress.finish()
        let r = result.report
        warnAboutExcluded(result)
        print("demo run \(result.runID): \(r.executed.count) nodes executed, \(r.cached.count) cached, \(r.failed.count) failed"
              + String(format: " in %.1f s", r.seconds))
        printExcluded(result)
        if let scanned = result.scanned { printSeries(scanned, indent: "  ") }
        let shown = Set(result.materialized.map { $0.split(separator: "/").count > 1 && !$0.hasSuffix(".csv") && !$0.hasSuffix(".json")
            ? String($0.split(separator: "/")[0]) + "/" : $0 })
        for path in shown.sorted() { print("  \(root)/\(path)") }
        print("rerun it, or edit \(root)/tile_compile.yaml and run 'tcbuild run -w \(root)': only what changed executes")
        if !r.succeeded { throw RunFailed(report: r) }
        try concludeValidation(result.validation, quiet: quiet)
    }
}
