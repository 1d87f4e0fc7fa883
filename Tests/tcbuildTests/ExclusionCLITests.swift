import Foundation
import Testing
import TestSupport
@testable import Imaging
@testable import Steps

/// `registration.on_failure` through the `tcbuild` binary: a series with three frames that cannot be
/// registered (frame 3: blank sky, no stars; frame 6: another star field; frame 8: every star trailed
/// over 24 px, the mount drifted during the whole exposure).
@Suite(.serialized) struct ExclusionCLITests {
    private func workspace() throws -> TemporaryDirectory {
        let dir = TemporaryDirectory("cli-exclude")
        var synth = SynthConfig(width: 256, height: 192, frames: 10, seed: 21)
        synth.starCount = 700
        let series = try SynthSeries(synth)
        try series.write(to: dir.path, concurrency: 2)
        var blank = synth
        blank.starCount = 0
        blank.nebulaPeak = 0
        try FITS.write(try SynthSeries(blank).render(frame: 3), to: dir.file(SynthSeries.framePath(3)), as: .uint16,
                       keywords: series.frameKeywords(3))
        // Fully trailed: the mean of the frame shifted by 0..23 px along x (edge columns repeated).
        let sharp = series.render(frame: 8)
        var trailed = sharp
        let w = sharp.width, steps = 24
        for y in 0..<sharp.height {
            for x in 0..<w {
                var sum: Float = 0
                for k in 0..<steps { sum += sharp.pixels[y * w + max(0, x - k)] }
                trailed.pixels[y * w + x] = sum / Float(steps)
            }
        }
        try FITS.write(trailed, to: dir.file(SynthSeries.framePath(8)), as: .uint16, keywords: series.frameKeywords(8))
        var other = synth
        other.seed = 99
        try FITS.write(try SynthSeries(other).render(frame: 6), to: dir.file(SynthSeries.framePath(6)), as: .uint16,
                       keywords: series.frameKeywords(6))
        var config = TCConfig()
        config.data.framesMin = 3
        config.registration.reference = .index(0)
        config.tile.minSize = 16
        config.tile.maxDivisor = 3
        config.synthetic.framesMin = 2
        config.synthetic.framesMax = 3
        config.pipeline.abortOnFail = false
        try config.renderedYAML().write(toFile: dir.file("tile_compile.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    private func tcbuild(_ args: [String]) throws -> ProcessResult { try runProcess(tcbuildBinary(), args) }

    @Test func excludeRunsToTheEndNamingEveryFailingFrameAndAbortExitsOneNamingEvery() throws {
        let dir = try workspace()
        let failing = ["frame_00003.fits", "frame_00006.fits", "frame_00008.fits"]
        // abort first: nothing after registration runs, exit 1, every failing frame named.
        let aborted = try tcbuild(["run", "-w", dir.path, "-q", "--set", "registration.on_failure=abort"])
        #expect(aborted.status == 1, "\(aborted.stderr)")
        for frame in failing { #expect(aborted.stderr.contains(frame), "\(frame): \(aborted.stderr)") }
        #expect(aborted.stderr.contains("registration.on_failure: abort"), "\(aborted.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("stacked.fit")))

        let run = try tcbuild(["run", "-w", dir.path])
        #expect(run.status == 0, "\(run.stderr)")
        for frame in failing {
            #expect(run.stdout.contains("    \(frame): "), "\(run.stdout)")
            #expect(run.stderr.contains("warning: \(frame) could not be registered and was left out"), "\(run.stderr)")
        }
        #expect(run.stdout.contains("3 frame(s) excluded"), "\(run.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir.file("stacked.fit")))
        let csv = try String(contentsOfFile: dir.file("excluded_frames.csv"), encoding: .utf8)
        let report = try String(contentsOfFile: dir.file("report.html"), encoding: .utf8)
        for frame in failing {
            #expect(csv.contains(frame), "\(csv)")
            #expect(report.contains(frame), "\(frame) not in report.html")
        }

        let status = try tcbuild(["status", "-w", dir.path])
        #expect(status.status == 0)
        for frame in failing { #expect(status.stdout.contains("excluded: \(frame) ("), "\(status.stdout)") }
        #expect(status.stdout.contains("up to date: a run would execute nothing"), "\(status.stdout)")

        let tooFew = try tcbuild(["run", "-w", dir.path, "-q", "--set", "data.frames_min=8"])
        #expect(tooFew.status == 2)
        #expect(tooFew.stderr.contains("7 frames registered, fewer than data.frames_min = 8"), "\(tooFew.stderr)")
    }
}
