import Cache
import Foundation
import Graph
import Imaging
import Testing
import TestSupport
@testable import Steps

/// `reconstruction.combine: matched` through the real nodes (phases 2-8 on a 36-frame series): sharper
/// than the classical mean, and switching `combine` reruns only `reconstruct` and `synthetic/NN`
/// (thread independence of the bytes: `MatchedReconstructionTests`).
@Suite("matched reconstruction in the pipeline", .serialized)
struct MatchedPipelineTests {
    static func config(_ combine: TCConfig.Combine) -> TCConfig {
        var c = SyntheticFramesTests.config(.kmeans)
        c.reconstruction.combine = combine
        return c
    }

    /// The series of `SyntheticFramesTests` without the slow drift, so the copy-registration stand-in
    /// leaves the frames aligned (the flux scales need stars matched by position).
    static func series(_ dir: TemporaryDirectory) throws -> FrameList {
        var sc = SynthConfig(width: 256, height: 192, frames: SyntheticFramesTests.frameCount, seed: 33)
        sc.totalRotationDegrees = 0
        sc.jitterPixels = 0
        sc.driftFraction = 0
        sc.starCount = 900
        sc.seeingRange = 2.0...5.0
        let series = try SynthSeries(sc)
        try series.write(to: dir.path + "/series", concurrency: 2)
        let frameList = try PipelineFixture.frameList(PipelineFixture.seriesPaths(dir.path + "/series", count: sc.frames))
        try FileManager.default.createDirectory(atPath: dir.path + "/ws", withIntermediateDirectories: true)
        return frameList
    }

    @Test("matched through the nodes: flux scales measured, sharper than the classical mean; combine reruns only reconstruct and synthetic/NN")
    func pipeline() throws {
        let dir = TemporaryDirectory("matched")
        let frames = try Self.series(dir)
        let ws = try Workspace(root: dir.path + "/ws", durable: false)
        let (g1, _) = try SyntheticFramesTests.graph(frames, Self.config(.matched), workspace: dir.path + "/ws")
        let events = EventCollector()
        let a = try ws.run(g1, options: RunOptions(jobs: 2), command: "test", events: events)
        #expect(a.succeeded)
        let log = events.lines.filter { $0.node == "reconstruct" }.map(\.message)
        print("matched pipeline: reconstruct \(String(format: "%.2f", events.seconds["reconstruct"] ?? -1)) s; log \(log)")
        #expect(log.count == 1 && log.contains { $0.hasPrefix("combine: matched, 36 frames") })

        let matched = try FITS.read(ws.path(of: try #require(a.outputs["reconstruct"]?["image"])))
        var sum = [Double](repeating: 0, count: 256 * 192), n = [Double](repeating: 0, count: 256 * 192)
        for f in frames.frames {
            let im = try FITS.read(f.path)
            for i in im.pixels.indices where im.pixels[i].isFinite { sum[i] += Double(im.pixels[i]); n[i] += 1 }
        }
        let classical = Image(width: 256, height: 192, pixels: sum.indices.map { n[$0] > 0 ? Float(sum[$0] / n[$0]) : .nan })
        let fm = try SyntheticFramesTests.fwhm(matched), fc = try SyntheticFramesTests.fwhm(classical)
        print("matched pipeline: FWHM matched \(fm) px, classical mean \(fc) px")
        #expect(fm < fc * 0.985)
        #expect(abs(Double(try #require(Statistics.median(matched.pixels.filter { $0.isFinite }))) - 1) < 0.05)  // normalized sky

        // Back to weighted: only the reconstruction nodes rerun.
        let (g2, _) = try SyntheticFramesTests.graph(frames, Self.config(.weighted), workspace: dir.path + "/ws")
        let b = try ws.run(g2, options: RunOptions(jobs: 2), command: "test")
        #expect(b.succeeded)
        let rerun = Set(b.executed)
        #expect(rerun.contains("reconstruct"))
        #expect(rerun.allSatisfy { $0 == "reconstruct" || $0.hasPrefix("synthetic/") }, "reran \(rerun.sorted())")
        try ws.close()
    }
}
