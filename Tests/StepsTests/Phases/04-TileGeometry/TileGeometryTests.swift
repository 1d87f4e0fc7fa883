import Foundation
import Testing
import Graph
@testable import Steps

@Suite("tiles/geometry: seeing-adaptive tile size and grid")
struct TileGeometryTests {
    private func star(_ fwhm: Double, ell: Double = 0.1, snr: Double = 100, sat: Bool = false) -> MeasuredStar {
        MeasuredStar(x: 10, y: 10, fwhm: fwhm, roundness: 1 - ell, ellipticity: ell, contrast: 50, snr: snr, saturated: sat)
    }

    @Test("F is the median FWHM of round, bright, unsaturated stars of all frames")
    func seeing() {
        let frames = [[star(3), star(3.2), star(9, ell: 0.5), star(12, sat: true)],
                      [star(3.4), star(20, snr: 5), star(2.8)]]
        let (f, n) = TileGeometry.seeingFWHM(frames)
        #expect(n == 4)
        #expect(f == 3.1)
        #expect(TileGeometry.seeingFWHM([[star(4, ell: 0.6)]]).fwhm == nil)
    }

    @Test("T = clip(size_factor*F, min_size, min(W,H)/max_divisor); the upper bound wins on small images; floor 16")
    func tileSize() {
        // Large image: 32 * 3 = 96 inside [64, 2000/6].
        #expect(TileGeometry.tileSize(fwhm: 3, sizeFactor: 32, minSize: 64, maxDivisor: 6, width: 3000, height: 2000) == 96)
        // Sharp seeing: the lower bound.
        #expect(TileGeometry.tileSize(fwhm: 1.5, sizeFactor: 32, minSize: 64, maxDivisor: 6, width: 3000, height: 2000) == 64)
        // Bad seeing: the upper bound 2000/6 = 333.3 -> 333.
        #expect(TileGeometry.tileSize(fwhm: 20, sizeFactor: 32, minSize: 64, maxDivisor: 6, width: 3000, height: 2000) == 333)
        // Small image: min_size 64 > 240/6 = 40, the upper bound wins.
        #expect(TileGeometry.tileSize(fwhm: 3, sizeFactor: 32, minSize: 64, maxDivisor: 6, width: 320, height: 240) == 40)
        // Tiny image: 60/6 = 10 < 16, floor.
        #expect(TileGeometry.tileSize(fwhm: 3, sizeFactor: 32, minSize: 64, maxDivisor: 6, width: 60, height: 60) == 16)
        // No F: the lower bound.
        #expect(TileGeometry.tileSize(fwhm: nil, sizeFactor: 32, minSize: 64, maxDivisor: 6, width: 3000, height: 2000) == 64)
    }

    @Test("grid: O = round(fraction*T), S = T - O, every pixel covered, last row/column aligned to the edge")
    func gridCoversImage() {
        for (w, h, t) in [(320, 240, 40), (1000, 700, 96), (97, 61, 16), (50, 30, 40)] {
            let g = TileGeometry.grid(width: w, height: h, size: t, overlapFraction: 0.25, fwhm: 3, starsUsed: 9)
            #expect(g.overlap == Int((0.25 * Double(t)).rounded()) && g.step == t - g.overlap)
            var covered = [Int](repeating: 0, count: w * h)
            for tile in g.tiles {
                #expect(tile.x >= 0 && tile.y >= 0 && tile.x + tile.w <= w && tile.y + tile.h <= h)
                #expect(tile.w == min(t, w) && tile.h == min(t, h))
                for y in tile.y..<(tile.y + tile.h) { for x in tile.x..<(tile.x + tile.w) { covered[y * w + x] += 1 } }
            }
            #expect(covered.allSatisfy { $0 > 0 }, "grid \(w)x\(h) T=\(t) leaves a hole")
            #expect(g.tiles.map(\.id) == Array(0..<g.tiles.count))
            #expect(g.tiles.contains { $0.x + $0.w == w && $0.y + $0.h == h })
        }
        let g = TileGeometry.grid(width: 320, height: 240, size: 40, overlapFraction: 0.25, fwhm: 3, starsUsed: 1)
        #expect(g.overlap == 10 && g.step == 30)
        #expect(TileGeometry.origins(length: 320, size: 40, step: 30) == [0, 30, 60, 90, 120, 150, 180, 210, 240, 270, 280])
        #expect(g.tiles.count == 11 * 8)
    }

    @Test("tile membership uses pixel-centre coordinates, half-open")
    func membership() {
        let t = Tile(id: 0, x: 10, y: 20, w: 8, h: 8)
        #expect(t.contains(10, 20) && t.contains(9.5, 19.5) && t.contains(17.49, 27.49))
        #expect(!t.contains(17.5, 22) && !t.contains(9.49, 22))
    }
}

@Suite("metric nodes: names, inputs and params follow the pipeline contract")
struct MetricNodesContractTests {
    @Test("addMetrics declares the contract's nodes, inputs and outputs; params show config key paths")
    func contract() throws {
        let frames = FrameList(frames: (0..<3).map {
            FrameInfo(index: $0, path: "/data/f\($0).fits", properties: FrameProperties(width: 300, height: 200, exposure: 60))
        }, saturation: SaturationLevel(adu: 65535, source: .bitpix))
        var b = PipelineBuilder(config: TCConfig(), frames: frames, workspace: "/ws")
        try b.addMetrics()
        let byName = Dictionary(uniqueKeysWithValues: b.nodes.map { ($0.name, $0) })
        #expect(Set(byName.keys) == ["measure/00000", "measure/00001", "measure/00002", "metrics", "tiles/geometry",
                                     "local/00000", "local/00001", "local/00002", "tiles/metrics"])
        let measure = try #require(byName["measure/00001"])
        // With a saturation level the measurement also reads the input frame and its transform (the flags
        // come from the raw pixels); without one, only the registered frame.
        #expect(Set(measure.inputs.map(\.source)) == [.node("register/00001", output: "frame"), .file("/data/f1.fits"),
                                                       .node("register/00001", output: "transform")] && measure.outputs == ["measure"])
        var unsaturated = PipelineBuilder(config: TCConfig(), frames: FrameList(frames: frames.frames), workspace: "/ws")
        try unsaturated.addMetrics()
        #expect(unsaturated.nodes.first { $0.name == "measure/00001" }?.inputs.map(\.source) == [.node("register/00001", output: "frame")])
        #expect(measure.params.byPath["normalization.mode"] == "\"background\"")
        #expect(measure.params.byPath["registration.star_threshold_sigma"] == "5")
        #expect(measure.params.byPath["data.saturation_level"] == "65535")
        let metrics = try #require(byName["metrics"])
        #expect(metrics.inputs.count == 6 && metrics.outputs == ["metrics", "csv"])
        #expect(metrics.inputs.contains { $0.source == .node("register/00002", output: "transform") })
        #expect(metrics.params.byPath["global_metrics.weights.background"] == "0.4")
        let geometry = try #require(byName["tiles/geometry"])
        #expect(geometry.params.byPath["tile.size_factor"] == "32" && geometry.params.byPath["image.width"] == "300")
        #expect(geometry.params.byPath["tile.star_min_count"] == nil)  // phase 5 only: editing it must not touch the grid
        let local = try #require(byName["local/00002"])
        #expect(Set(local.inputs.map(\.source)) == [.node("register/00002", output: "frame"),
                                                     .node("measure/00002", output: "measure"),
                                                     .node("tiles/geometry", output: "grid")])
        let tiles = try #require(byName["tiles/metrics"])
        #expect(tiles.params.byPath["tile.star_min_count"] == "3")
        #expect(tiles.params.byPath["local_metrics.star_mode.weights.fwhm"] == "0.6")
        #expect(tiles.params.byPath["local_metrics.structure_mode.metric_weight"] == "0.7")
        #expect(tiles.outputs == ["weights", "csv", "weighting"] && tiles.inputs.count == 5)
        #expect(tiles.params.byPath["weighting.strength"] == "\"auto\"" && tiles.params.byPath["weighting.mode"] == "\"noise_aware\"")
        #expect(Set(b.materializations.map(\.path)) == ["frame_metrics.csv", "tiles/grid.json", "tiles/tile_weights.csv", "tiles/weighting.json"])
    }
}
