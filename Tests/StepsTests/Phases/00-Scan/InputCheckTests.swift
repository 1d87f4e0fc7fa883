import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph
@testable import Imaging
@testable import Steps

/// Input checks that report everything at once (issue 13): every bad frame in one table, only
/// regular files taken from the light folder, duplicates counted once, the linearity check on
/// stretched frames with a dark sky and on noise-only frames.
@Suite struct InputCheckTests {
    private func series(_ label: String, frames: Int = 6, width: Int = 256, height: Int = 192, seed: UInt64 = 3) throws -> (TemporaryDirectory, TCConfig) {
        let dir = TemporaryDirectory(label)
        var synth = SynthConfig(width: width, height: height, frames: frames, seed: seed)
        synth.starCount = width * height / 70
        try SynthSeries(synth).write(to: dir.path)
        var config = TCConfig()
        config.data.framesMin = 3
        return (dir, config)
    }

    private func scan(_ dir: TemporaryDirectory, _ config: TCConfig) throws -> PipelineResult {
        let ws = try Workspace(root: dir.path, durable: false)
        defer { try? ws.close() }
        return try PipelineRunner.run(workspace: ws, config: config, jobs: 2, until: ["scan"], command: "test")
    }

    /// `image` mapped through `stretch` on [0, 1] with the black point at the data minimum, as uint16.
    private func stretched(_ image: Image, _ stretch: (Float) -> Float) -> Image {
        var out = image
        let lo = image.pixels.min()!, hi = image.pixels.max()!
        out.pixels = image.pixels.map { 65535 * stretch(($0 - lo) / (hi - lo)) }
        return out
    }

    @Test func everyBadFrameIsReportedInOneTableAndDirectoriesAreSkipped() throws {
        let (dir, config) = try series("input-all")
        let frames = dir.path + "/frames/"
        let good = try FITS.read(frames + "frame_00001.fits")
        try "SIMPLE  = not a FITS file".write(toFile: frames + "zz_a_broken.fits", atomically: true, encoding: .utf8)
        try FITS.write(stretched(good) { asinh($0 * 500) / asinh(500) }, to: frames + "zz_b_sqrt.fits", as: .uint16, keywords: [FITSKeyword("EXPTIME", .double(60))])
        var rng = TestRNG(seed: 1)
        var noise = good
        noise.pixels = good.pixels.map { _ in Float(1300 + 30 * rng.normal()) }
        try FITS.write(noise, to: frames + "zz_c_noise.fits", as: .uint16, keywords: [FITSKeyword("EXPTIME", .double(60))])
        try Data("SIMPLE".utf8).write(to: URL(fileURLWithPath: frames + "zz_d_short.fits"))
        try FileManager.default.createDirectory(atPath: frames + "zz_dir.fits", withIntermediateDirectories: true)

        #expect(try Scan.listFrames(config: config, workspace: dir.path).count == 10)  // 6 + 4 files, not the directory
        let result = try scan(dir, config)
        #expect(result.report.executed.count == 10)  // every frame inspected, none failed on its own
        let message = try #require(result.report.failed["scan"])
        #expect(message.contains("4 problem(s) in 4 of 10 frames"), "\(message)")
        for fragment in ["zz_a_broken.fits  cannot read frame", "zz_b_sqrt.fits looks stretched", "zz_c_noise.fits holds only noise",
                         "zz_d_short.fits   cannot read frame", "->  tcbuild needs linear frames"] {
            #expect(message.contains(fragment), "missing '\(fragment)' in \(message)")
        }
        #expect(!message.contains("zz_dir"))
        #expect(!message.contains("frame_0000"))  // the good frames are not blamed
    }

    @Test func theSameFrameUnderTwoNamesIsReportedAndCountedOnce() throws {
        let (dir, config) = try series("input-dup")
        try FileManager.default.copyItem(atPath: dir.path + "/frames/frame_00002.fits", toPath: dir.path + "/frames/frame_00002_copy.fits")
        let result = try scan(dir, config)
        #expect(result.report.succeeded)
        #expect(result.duplicates.count == 1)
        #expect(result.duplicates.first?.copy == "frame_00002_copy.fits" && result.duplicates.first?.of == "frame_00002.fits")
        let ws = try Workspace(root: dir.path, writable: false)
        let list = try Artifacts.readJSON(FrameList.self, path: ws.path(of: try #require(result.report.outputs["scan"]?["frames"])), node: "scan")
        #expect(list.frames.count == 6)
    }

    /// The verdicts on frames of synthetic series: linear ones pass (also small frames without a
    /// saturated star); pure noise is called noise; strong stretches (asinh 500, log) are called
    /// stretched, and so is a sqrt or asinh-50 stretch whose sky then sits at 4-7 % of the range
    /// (the case the position check alone let through) on the series where it lifts more than 20 %
    /// of the pixels; the gentler cases are counted, not hidden.
    @Test func linearityVerdictsOnLinearStretchedAndNoiseFrames() throws {
        let strong: [(Float) -> Float] = [{ asinh($0 * 500) / asinh(500) }, { log1p($0 * 1000) / log1p(1000) }]
        let gentle: [(Float) -> Float] = [{ $0.squareRoot() }, { asinh($0 * 50) / asinh(50) }]
        var gentleCaught = 0, gentleTotal = 0
        for (seed, width, height, stars) in [(UInt64(3), 64, 48, 0), (1, 256, 192, 700), (9, 384, 288, 0)] {
            let dir = TemporaryDirectory("linearity")
            var synth = SynthConfig(width: width, height: height, frames: 2, seed: seed)
            if stars > 0 { synth.starCount = stars }
            try SynthSeries(synth).write(to: dir.path)
            func verdict(_ image: Image) throws -> String? {
                let path = dir.file("probe.fits")
                try FITS.write(image, to: path, as: .uint16, keywords: [])
                return Linearity.verdict(try Scan.inspect(path), maxBackgroundPosition: Scan.stretchThreshold)?.problem
            }
            for f in 0..<2 {
                #expect(try verdict(try FITS.read(dir.path + "/" + SynthSeries.framePath(f))) == nil, "linear seed \(seed) frame \(f)")
            }
            let linear = try FITS.read(dir.path + "/" + SynthSeries.framePath(0))
            for f in strong { #expect(try verdict(stretched(linear, f))?.hasPrefix("looks stretched") == true, "seed \(seed)") }
            for f in gentle {
                gentleTotal += 1
                if try verdict(stretched(linear, f))?.hasPrefix("looks stretched") == true { gentleCaught += 1 }
            }
            var rng = TestRNG(seed: seed)
            var noise = linear
            noise.pixels = linear.pixels.map { _ in Float(1300 + 30 * rng.normal()) }
            #expect(try verdict(noise)?.hasPrefix("holds only noise") == true, "seed \(seed)")
        }
        #expect(gentleCaught >= 4, "\(gentleCaught) of \(gentleTotal) gentle stretches caught")
    }
}
