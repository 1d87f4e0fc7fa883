import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph
@testable import Imaging
@testable import Steps

/// Scan errors: each names the files involved, exits through `StepError`, and leaves the cache
/// intact: after the bad frame is removed, the good frames' inspections are reused.
@Suite struct ScanTests {
    /// A workspace with `frames` synthetic frames in `frames/` and a config with the gate lowered.
    private func workspace(frames: Int = 6, width: Int = 64, height: Int = 48, cfa: Bool = false) throws -> (TemporaryDirectory, TCConfig) {
        let dir = TemporaryDirectory("scan")
        try SynthSeries(SynthConfig(width: width, height: height, frames: frames, seed: 3, cfa: cfa)).write(to: dir.path)
        var config = TCConfig()
        config.data.framesMin = 3
        return (dir, config)
    }

    private func run(_ dir: TemporaryDirectory, _ config: TCConfig) throws -> PipelineResult {
        let ws = try Workspace(root: dir.path, durable: false)
        defer { try? ws.close() }
        return try PipelineRunner.run(workspace: ws, config: config, jobs: 2, until: ["scan"], command: "test")
    }

    private func frame(_ dir: TemporaryDirectory, _ i: Int) -> String { dir.path + "/" + SynthSeries.framePath(i) }

    /// Runs, expects the scan to fail with `message` fragments, removes `bad`, reruns and checks that
    /// only the scan (and nothing already inspected) executes.
    private func expectScanFailure(_ dir: TemporaryDirectory, _ config: TCConfig, bad: String, fragments: [String]) throws {
        let failed = try run(dir, config)
        let message = try #require(failed.report.failed["scan"])
        for f in fragments { #expect(message.contains(f), "\(message)") }
        let ws = try Workspace(root: dir.path, durable: false)
        #expect(try ws.manifest.integrityCheck() == "ok")
        try ws.close()
        try FileManager.default.removeItem(atPath: bad)
        let fixed = try run(dir, config)
        #expect(fixed.report.succeeded)
        #expect(fixed.report.executed == ["scan"])
    }

    @Test func frameListIsSortedAndValidated() throws {
        let (dir, config) = try workspace()
        let result = try run(dir, config)
        #expect(result.report.succeeded)
        let digest = try #require(result.report.outputs["scan"]?["frames"])
        let ws = try Workspace(root: dir.path, writable: false)
        let list = try Artifacts.readJSON(FrameList.self, path: ws.path(of: digest), node: "scan")
        #expect(list.frames.map(\.name) == (0..<6).map { (SynthSeries.framePath($0) as NSString).lastPathComponent })
        #expect(list.width == 64 && list.height == 48 && list.bayer == nil)
        #expect(list.frames.allSatisfy { $0.exposure == 60 && $0.bitpix == 16 })
        // A second run inspects nothing again.
        #expect(try run(dir, config).report.executed.isEmpty)
    }

    @Test func mixedSizesNameBothFiles() throws {
        let (dir, config) = try workspace()
        let other = TemporaryDirectory("scan-other")
        try SynthSeries(SynthConfig(width: 72, height: 48, frames: 1, seed: 9)).write(to: other.path)
        let bad = dir.path + "/frames/zz_odd.fits"
        try FileManager.default.copyItem(atPath: other.path + "/" + SynthSeries.framePath(0), toPath: bad)
        try expectScanFailure(dir, config, bad: bad, fragments: ["frame_00000.fits is 64x48", "zz_odd.fits is 72x48"])
    }

    @Test func mixedBayerPatternsNameBothFiles() throws {
        let (dir, config) = try workspace()
        let other = TemporaryDirectory("scan-cfa")
        try SynthSeries(SynthConfig(width: 64, height: 48, frames: 1, seed: 9, cfa: true)).write(to: other.path)
        let bad = dir.path + "/frames/zz_color.fits"
        try FileManager.default.copyItem(atPath: other.path + "/" + SynthSeries.framePath(0), toPath: bad)
        try expectScanFailure(dir, config, bad: bad, fragments: ["frame_00000.fits is mono", "zz_color.fits is RGGB"])
    }

    @Test func exposureSpreadNamesShortestAndLongest() throws {
        let (dir, config) = try workspace()
        let image = try FITS.read(frame(dir, 2))
        let bad = dir.path + "/frames/zz_long.fits"
        try FITS.write(image, to: bad, as: .uint16, keywords: [FITSKeyword("EXPTIME", .double(90))])
        try expectScanFailure(dir, config, bad: bad, fragments: ["has 60.0 s", "zz_long.fits has 90.0 s", "data.max_exposure_spread_percent"])
    }

    @Test func stretchedFrameIsRejected() throws {
        let (dir, config) = try workspace()
        var image = try FITS.read(frame(dir, 1))
        let lo = image.pixels.min()!, hi = image.pixels.max()!
        image.pixels = image.pixels.map { 65535 * asinh(($0 - lo) / (hi - lo) * 500) / asinh(500) }
        let bad = dir.path + "/frames/zz_stretched.fits"
        try FITS.write(image, to: bad, as: .uint16, keywords: [FITSKeyword("EXPTIME", .double(60))])
        try expectScanFailure(dir, config, bad: bad, fragments: ["zz_stretched.fits looks stretched", "linear"])
    }

    @Test func nonFiniteFractionIsEnforced() throws {
        let (dir, config) = try workspace()
        var image = try FITS.read(frame(dir, 1))
        for k in stride(from: 0, to: image.pixels.count, by: 50) { image.pixels[k] = .nan }  // 2 %
        let bad = dir.path + "/frames/zz_nan.fits"
        try FITS.write(image, to: bad, as: .float32, keywords: [FITSKeyword("EXPTIME", .double(60))])
        try expectScanFailure(dir, config, bad: bad, fragments: ["zz_nan.fits has 2.02 % NaN/Inf", "data.max_nonfinite_fraction"])
    }

    @Test func listingErrorsNameTheDirectoryAndTheFix() throws {
        let (dir, config) = try workspace(frames: 3)
        var strict = config
        strict.data.framesMin = 800
        #expect(throws: StepError.tooFewFrames(count: 3, minimum: 800, directory: dir.path + "/frames")) {
            try Scan.listFrames(config: strict, workspace: dir.path)
        }
        #expect(StepError.tooFewFrames(count: 3, minimum: 800, directory: "d").description.contains("--set data.frames_min=3"))
        var missing = config
        missing.data.inputDir = "nowhere"
        #expect(throws: StepError.inputDirectoryMissing(path: dir.path + "/nowhere")) { try Scan.listFrames(config: missing, workspace: dir.path) }
        var pattern = config
        pattern.data.pattern = "*.cr2"
        #expect(throws: StepError.noFrames(directory: dir.path + "/frames", pattern: "*.cr2")) { try Scan.listFrames(config: pattern, workspace: dir.path) }
    }

    @Test func unreadableFrameIsNamed() throws {
        let (dir, config) = try workspace()
        let bad = dir.path + "/frames/zz_broken.fits"
        try "SIMPLE  = not really a FITS file".write(toFile: bad, atomically: true, encoding: .utf8)
        let failed = try run(dir, config)
        let message = try #require(failed.report.failed["scan"])  // the scan reports it, with any other bad frame
        #expect(message.contains("zz_broken.fits") && message.contains("cannot read frame"))
        #expect(failed.report.executed.count == 7)  // every frame was inspected and recorded
        try FileManager.default.removeItem(atPath: bad)
        let fixed = try run(dir, config)
        #expect(fixed.report.executed == ["scan"])
    }

    /// Cameras write `.FITS`, `.fts`, `.Fit`: the default pattern finds them all, whatever the case;
    /// a comma-separated pattern lists several globs.
    @Test func defaultPatternMatchesFITSNamesInAnyCase() throws {
        let (dir, config) = try workspace(frames: 5)
        let fm = FileManager.default
        let names = ["M31_001.FITS", "M31_002.fits", "M31_003.Fit", "M31_004.fts", "M31_005.FZ"]
        for (i, name) in names.enumerated() { try fm.moveItem(atPath: frame(dir, i), toPath: dir.file("frames/" + name)) }
        try Data("not a frame".utf8).write(to: URL(fileURLWithPath: dir.file("frames/notes.txt")))
        #expect(TCConfig().data.pattern == "*.fit,*.fits,*.fts,*.fz")
        let found = try Scan.listFrames(config: config, workspace: dir.path).map { ($0 as NSString).lastPathComponent }
        #expect(found == names.sorted())
        var two = config
        two.data.framesMin = 2
        two.data.pattern = "*.fits, *.FTS"
        #expect(try Scan.listFrames(config: two, workspace: dir.path).count == 3)  // .FITS, .fits, .fts
        #expect(Scan.matches("X.FITS", pattern: "*.fits") && !Scan.matches("X.fits.bak", pattern: "*.fits"))
        // The upper-case series runs through the scan.
        var three = two
        three.data.pattern = "*.fits"
        let result = try run(dir, three)
        #expect(result.report.succeeded)
    }

    @Test("inspect's vectorized smallest value and counts above two levels equal the scalar loops")
    func sampleHelpers() {
        var rng = TestRNG(seed: 12)
        for n in [0, 1, 3, 4, 7, 8, 9, 1001] {
            let a = (0..<n).map { _ in Float(rng.uniform(-50, 500)).rounded() }
            #expect(Scan.smallest(a) == (a.min() ?? 0))
            for (x, y) in [(Float(0), Float(100)), (250, 499), (-60, 600), (a.first ?? 0, a.last ?? 0)] {
                let (above, strong) = Scan.countAbove(a, x, y)
                #expect(above == a.filter { $0 > x }.count && strong == a.filter { $0 > y }.count)
            }
        }
        #expect(Scan.smallest([3, -0.0, 2, 0, 5]) == 0)
    }
}
