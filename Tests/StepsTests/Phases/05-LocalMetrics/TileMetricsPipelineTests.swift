import Cache
import Foundation
import Graph
import Imaging
import Testing
import TestSupport
@testable import Steps

/// Runs the metric phases on a synthetic series in a real workspace. Registration lives on another
/// branch, so a stand-in `register/NNNNN` copies each raw frame (the series has no rotation and
/// 1 px jitter, so raw frames are nearly aligned) and reports an empty transform.
@Suite("metric phases end to end on a synthetic series", .serialized)
struct TileMetricsPipelineTests {
    static let frameCount = 30

    struct Fixture {
        let dir: TemporaryDirectory
        let series: SynthSeries
        let frames: FrameList
        var workspace: String { dir.path + "/ws" }
    }

    static func makeFixture(realisticNight: Bool = false) throws -> Fixture {
        let dir = TemporaryDirectory("metrics")
        var sc = SynthConfig(width: 320, height: 240, frames: frameCount, seed: 21)
        if realisticNight { sc = sc.realisticNight() }
        sc.totalRotationDegrees = 0
        sc.jitterPixels = 1
        sc.starCount = 1400
        let series = try SynthSeries(sc)
        try series.write(to: dir.path + "/series", concurrency: 2)
        let frameList = try PipelineFixture.frameList(PipelineFixture.seriesPaths(dir.path + "/series", count: frameCount))
        try FileManager.default.createDirectory(atPath: dir.path + "/ws", withIntermediateDirectories: true)
        return Fixture(dir: dir, series: series, frames: frameList)
    }

    static func config(sizeFactor: Double) -> TCConfig {
        var c = TCConfig()
        c.data.framesMin = 10
        c.tile.sizeFactor = sizeFactor
        c.tile.minSize = 16
        c.tile.maxDivisor = 3
        c.registration.starThresholdSigma = 8  // fewer PSF fits on nebula bumps: keeps the debug build fast
        return c
    }

    static func graph(_ fx: Fixture, _ config: TCConfig) throws -> (BuildGraph, [Materialization]) {
        var b = PipelineBuilder(config: config, frames: fx.frames, workspace: fx.workspace)
        b.addCopyRegistration()
        try b.addMetrics()
        return (try b.graph(), b.materializations)
    }

    static func pearson(_ a: [Double], _ b: [Double]) -> Double {
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb) }
        return sab / (saa * sbb).squareRoot()
    }

    @Test("FWHM tracks seeing, clouds lower G, starless tiles use structure mode, CSVs, and a tile.size_factor edit reruns only phases 4-5")
    func endToEnd() throws {
        let fx = try Self.makeFixture()
        let ws = try Workspace(root: fx.workspace, durable: false)
        let (g1, mats) = try Self.graph(fx, Self.config(sizeFactor: 10))
        let start = Date()
        let r1 = try ws.run(g1, options: RunOptions(jobs: 2), command: "test")
        let seconds = Date().timeIntervalSince(start)
        #expect(r1.succeeded, "failed: \(r1.failed)")
        print("metrics pipeline: \(Self.frameCount) frames 320x240, first run \(String(format: "%.2f", seconds)) s")
        #expect(Set(mats.map(\.path)) == ["frame_metrics.csv", "tiles/grid.json", "tiles/tile_weights.csv", "tiles/weighting.json"])

        // Global metrics.
        let table = try FrameMetricsTable.read(path: ws.path(of: try #require(r1.outputs["metrics"]?["metrics"])))
        #expect(table.frames.count == Self.frameCount)
        let truth = fx.series.truth.perFrame
        let measured = table.frames.compactMap(\.fwhm)
        #expect(measured.count == Self.frameCount)
        let r = Self.pearson(measured, truth.map(\.seeingFwhm))
        print("metrics pipeline: Pearson r(measured median FWHM, truth seeing) = \(String(format: "%.4f", r))")
        #expect(r > 0.9)
        let clouds = truth.filter { $0.transparency < 0.85 }.map(\.index)
        #expect(!clouds.isEmpty, "the synthetic series should contain a cloud frame")
        let medianG = try #require(Statistics.median(table.frames.map(\.g)))
        for c in clouds { #expect(table.frames[c].g < medianG, "cloud frame \(c) has G \(table.frames[c].g) >= median \(medianG)") }
        print("metrics pipeline: cloud frames \(clouds) G = \(clouds.map { table.frames[$0].g }), median G \(medianG)")

        // frame_metrics.csv, materialized.
        let csvPath = try ws.materialize(try #require(r1.outputs["metrics"]?["csv"]), at: "frame_metrics.csv")
        let lines = try String(contentsOfFile: csvPath, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "file,B,sigma,E,Q,G,residual,stars,fwhm")
        #expect(lines.count == Self.frameCount + 1)
        for (i, line) in lines.dropFirst().enumerated() {
            let cols = line.split(separator: ",", omittingEmptySubsequences: false)
            #expect(cols.count == 9 && cols[0] == "frame_\(String(format: "%05d", i)).fits")
            #expect(Double(cols[5]).map { abs($0 - table.frames[i].g) < 1e-12 } == true)
        }

        // Grid and modes.
        let grid = try TileGrid.read(path: ws.path(of: try #require(r1.outputs["tiles/geometry"]?["grid"])))
        let f = try #require(grid.fwhm)
        #expect(grid.size == Int((10 * f).rounded()) && grid.step == grid.size - grid.overlap)
        let weights = try TileWeights(path: ws.path(of: try #require(r1.outputs["tiles/metrics"]?["weights"])))
        #expect(weights.frameCount == Self.frameCount && weights.tileCount == grid.tiles.count)
        let rect = fx.series.truth.starlessNebulaRect
        let inside = grid.tiles.filter { rect.contains(Double($0.x) + Double($0.w) / 2, Double($0.y) + Double($0.h) / 2) }
        #expect(!inside.isEmpty)
        for t in inside { #expect(weights.modes[t.id] == .structure, "tile \(t.id) inside the starless rect is in star mode") }
        let starTiles = weights.modes.filter { $0 == .star }.count
        print("metrics pipeline: F = \(f) px, T = \(grid.size), \(grid.tiles.count) tiles, \(starTiles) in star mode")
        #expect(starTiles >= 5 && starTiles < grid.tiles.count)  // both modes occur
        let tilesCSV = try String(contentsOfFile: ws.path(of: try #require(r1.outputs["tiles/metrics"]?["csv"])), encoding: .utf8)
        #expect(tilesCSV.split(separator: "\n").count == 1 + grid.tiles.count * Self.frameCount)

        // Nothing changed: nothing runs.
        let (g1b, _) = try Self.graph(fx, Self.config(sizeFactor: 10))
        #expect(try ws.run(g1b, options: RunOptions(jobs: 2), command: "test").executed.isEmpty)

        // tile.size_factor changed: geometry, every local node and tiles/metrics run; no measure, no metrics.
        let (g2, _) = try Self.graph(fx, Self.config(sizeFactor: 14))
        let r2 = try ws.run(g2, options: RunOptions(jobs: 2), command: "test")
        #expect(r2.succeeded)
        let executed = Set(r2.executed)
        #expect(executed.contains("tiles/geometry") && executed.contains("tiles/metrics"))
        #expect(executed.filter { $0.hasPrefix("local/") }.count == Self.frameCount)
        #expect(!executed.contains { $0.hasPrefix("measure/") || $0 == "metrics" || $0.hasPrefix("register/") })
        let grid2 = try TileGrid.read(path: ws.path(of: try #require(r2.outputs["tiles/geometry"]?["grid"])))
        #expect(grid2.size > grid.size)
        try ws.close()
    }

    @Test("noise-aware weights: auto keeps the predicted noise within the budget, follows the seeing; weighting.* edits rerun only tiles/metrics")
    func noiseAwareWeights() throws {
        let fx = try Self.makeFixture(realisticNight: true)
        let ws = try Workspace(root: fx.workspace, durable: false)
        let (g1, _) = try Self.graph(fx, Self.config(sizeFactor: 10))
        let r1 = try ws.run(g1, options: RunOptions(jobs: 2), command: "test")
        #expect(r1.succeeded, "failed: \(r1.failed)")
        let table = try FrameMetricsTable.read(path: ws.path(of: try #require(r1.outputs["metrics"]?["metrics"])))
        let truth = fx.series.truth.perFrame
        // The flux scale follows transparency / B_f (the star scale of the normalized frame); the cloud
        // passage takes it down to ~0.25.
        let scale = table.frames.map { $0.fluxScale ?? .nan }
        let expected = truth.map { $0.transparency / ($0.background + fx.series.truth.pedestal) }
        print("noise-aware: corr(flux scale, t/B) = \(Self.pearson(scale, expected)), scales \(scale.min()!)...\(scale.max()!)")
        // 0.78 here (320x240, few stars above SNR 20 per frame); 0.9995 on the 120-frame 1024x768 bench.
        #expect(Self.pearson(scale, expected) > 0.7, "corr(flux scale, t/B) = \(Self.pearson(scale, expected))")
        let summary = try Artifacts.readJSON(WeightingSummary.self,
                                             path: ws.path(of: try #require(r1.outputs["tiles/metrics"]?["weighting"])),
                                             node: "tiles/metrics")
        #expect(summary.mode == "noise_aware" && summary.strength == "auto")
        #expect(summary.tiles.allSatisfy { $0.noiseRatio <= 1 && $0.fom >= 1 }, "auto exceeded the noise budget")
        let weights = try TileWeights(path: ws.path(of: try #require(r1.outputs["tiles/metrics"]?["weights"])))
        // The weights follow the seeing (field FWHM) where auto chose a strength > 0.
        let seeing = truth.map { -log($0.seeingFwhm) }
        let strong = summary.tiles.filter { $0.alpha >= 0.3 }.map(\.tile)
        if !strong.isEmpty {
            let corr = strong.map { t in Self.pearson(weights.weights(tile: t).map { log(Double($0)) }, seeing) }.sorted()
            print("noise-aware: \(strong.count) tiles with alpha >= 0.3, median corr(log W, -log seeing) \(corr[corr.count / 2])")
            #expect(corr[corr.count / 2] > 0.3)
        }

        // weighting.strength and weighting.mode edits rerun tiles/metrics only (the metric phases' graph).
        var c2 = Self.config(sizeFactor: 10)
        c2.weighting.strength = 1
        let r2 = try ws.run(try Self.graph(fx, c2).0, options: RunOptions(jobs: 2), command: "test")
        #expect(r2.executed == ["tiles/metrics"])
        let fixed = try Artifacts.readJSON(WeightingSummary.self,
                                           path: ws.path(of: try #require(r2.outputs["tiles/metrics"]?["weighting"])), node: "tiles/metrics")
        #expect(fixed.tiles.allSatisfy { $0.alpha == 1 })
        var c3 = Self.config(sizeFactor: 10)
        c3.weighting.mode = .literal
        let r3 = try ws.run(try Self.graph(fx, c3).0, options: RunOptions(jobs: 2), command: "test")
        #expect(r3.executed == ["tiles/metrics"])
        // literal = METHOD's W = G_f L_f,t.
        let lit = try TileWeights(path: ws.path(of: try #require(r3.outputs["tiles/metrics"]?["weights"])))
        for t in [0, lit.tileCount - 1] {
            for f in [0, Self.frameCount - 1] {
                #expect(abs(Double(lit.weight(frame: f, tile: t)) - table.frames[f].g * Double(lit.local(frame: f, tile: t)))
                        <= 1e-5 * Double(lit.weight(frame: f, tile: t)))
            }
        }
        try ws.close()
    }
}
