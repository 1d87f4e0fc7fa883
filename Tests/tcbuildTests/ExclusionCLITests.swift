import Foundation
import Testing
import TestSupport
@testable import Imaging
@testable import Steps

/// `registration.on_failure` through the `tcbuild` binary: a series with two frames that cannot be
/// registered (frame 3: three stars; frame 6: another star field).
@Suite(.serialized) struct ExclusionCLITests {
    private func workspace() throws -> TemporaryDirectory {
        let dir = TemporaryDirectory("cli-exclude")
        var synth = SynthConfig(width: 256, height: 192, frames: 10, seed: 21)
        synth.starCount = 700
        let series = try SynthSeries(synth)
        try series.write(to: dir.path, concurrency: 2)
        var starless = synth
        starless.starCount = 3
        try FITS.write(try SynthSeries(starless).render(frame: 3), to: dir.file(SynthSeries.framePath(3)), as: .uint16,
                       keywords: series.frameKeywords(3))
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

    @Test func excludeRunsToTheEndNamingBothFramesAndAbortExitsOneNamingBoth() throws {
        let dir = try workspace()
        // abort first: nothing after registration runs, exit 1, both frames named.
        let aborted = try tcbuild(["run", "-w", dir.path, "-q", "--set", "registration.on_failure=abort"])
        #expect(aborted.status == 1, "\(aborted.stderr)")
        #expect(aborted.stderr.contains("frame_00003.fits") && aborted.stderr.contains("frame_00006.fits"), "\(aborted.stderr)")
        #expect(aborted.stderr.contains("registration.on_failure: abort"), "\(aborted.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("stacked.fit")))

        let run = try tcbuild(["run", "-w", dir.path])
        #expect(run.status == 0, "\(run.stderr)")
        for frame in ["frame_00003.fits", "frame_00006.fits"] {
            #expect(run.stdout.contains("    \(frame): "), "\(run.stdout)")
            #expect(run.stderr.contains("warning: \(frame) could not be registered and was left out"), "\(run.stderr)")
        }
        #expect(run.stdout.contains("2 frame(s) excluded"), "\(run.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir.file("stacked.fit")))
        #expect(FileManager.default.fileExists(atPath: dir.file("excluded_frames.csv")))

        let status = try tcbuild(["status", "-w", dir.path])
        #expect(status.status == 0)
        #expect(status.stdout.contains("excluded: frame_00003.fits ("), "\(status.stdout)")
        #expect(status.stdout.contains("excluded: frame_00006.fits ("), "\(status.stdout)")
        #expect(status.stdout.contains("up to date: a run would execute nothing"), "\(status.stdout)")

        let tooFew = try tcbuild(["run", "-w", dir.path, "-q", "--set", "data.frames_min=9"])
        #expect(tooFew.status == 2)
        #expect(tooFew.stderr.contains("8 frames registered, fewer than data.frames_min = 9"), "\(tooFew.stderr)")
    }
}
