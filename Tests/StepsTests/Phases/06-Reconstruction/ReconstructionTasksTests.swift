import Cache
import Foundation
import Graph
import Imaging
import Testing
import TestSupport
@testable import Steps

/// The reconstruction nodes run their tiles as tile tasks (`Reconstruction.tileKind` through the local
/// executor, each task reading only its tile's rectangle of each frame): their output must be bit for
/// bit the in-process band kernel's (`Reconstruction.reconstruct` / `reconstructMatched`) on the same
/// artifacts, for both combines, and the tasks' results, memos and plan are gone once the node is done.
@Suite("reconstruction as tile tasks", .serialized)
struct ReconstructionTasksTests {
    @Test("reconstruct through tile tasks == the in-process band kernel, weighted and matched; no task files left")
    func tasksEqualBandKernel() throws {
        let dir = TemporaryDirectory("recon-tasks")
        let frames = try MatchedPipelineTests.series(dir)
        let ws = try Workspace(root: dir.path + "/ws", durable: false)
        for combine in [TCConfig.Combine.weighted, .matched] {
            let config = MatchedPipelineTests.config(combine)
            let (g, _) = try SyntheticFramesTests.graph(frames, config, workspace: dir.path + "/ws")
            let events = EventCollector()
            let r = try ws.run(g, options: RunOptions(jobs: 2), command: "test", events: events)
            #expect(r.succeeded, "failed: \(r.failed)")
            let log = events.lines.filter { $0.node == "reconstruct" }.map(\.message).joined(separator: " | ")
            print("recon tasks (\(combine)): \(log)")
            #expect(log.contains("tile tasks (") && log.contains("executor local"))

            let grid = try Artifacts.readJSON(TileGrid.self, path: ws.path(of: try #require(r.outputs[NodeName.tileGeometry]?["grid"])), node: "test")
            let weights = try TileWeights(path: ws.path(of: try #require(r.outputs[NodeName.tileMetrics]?["weights"])))
            let masks = try RejectionMasks.read(path: ws.path(of: try #require(r.outputs[NodeName.reject]?["masks"])), node: "test")
            let measures = try frames.frames.map {
                try Artifacts.readJSON(FrameMeasurement.self, path: ws.path(of: try #require(r.outputs[NodeName.measure($0.index)]?["measure"])), node: "test")
            }
            let models = combine == .matched ? MatchedModel.estimate(measures, grid: grid).models : nil
            let kernelFrames = try frames.frames.enumerated().map { i, f in
                ReconstructionFrame(index: i, name: f.name, source: .file(ws.path(of: try #require(r.outputs[NodeName.register(f.index)]?["frame"]))),
                                    backgrounds: measures[i].channels.map(\.background), rejected: masks.frames[i], matched: models?[i])
            }
            let expected = combine == .weighted
                ? try Reconstruction.reconstruct(frames: kernelFrames, weights: weights, grid: grid, window: .hanning, eps: config.reconstruction.eps, threads: 2).image
                : try Reconstruction.reconstructMatched(frames: kernelFrames, grid: grid, window: .hanning, beta: config.reconstruction.matchedBeta, threads: 2).image
            let node = try FITS.read(ws.path(of: try #require(r.outputs[NodeName.reconstruct]?["image"])))
            #expect(node.width == expected.width && node.height == expected.height)
            let differing = zip(node.pixels, expected.pixels).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(combine): \(differing) of \(node.pixels.count) pixels differ from the band kernel")
            #expect(grid.tiles.count > 20)
        }
        // The nodes removed their task results and memos (the node outputs supersede them).
        let memos = (try? FileManager.default.subpathsOfDirectory(atPath: dir.path + "/ws/.tcbuild/tasks"))?.filter { !$0.hasPrefix("tmp.") && $0.count > 3 } ?? []
        #expect(memos.isEmpty, "task memos left: \(memos.prefix(3))")
        try ws.close()
    }

    @Test("TileValues round-trips and rejects truncated bytes")
    func tileValuesFormat() throws {
        let v = TileValues(tile: Tile(id: 7, x: 48, y: 16, w: 3, h: 2), channels: 2, unweighted: true, runID: "abc",
                           values: [1, 2, .nan, -0.5, 1e300, 3, 4, 5, 6, 7, 8, .infinity])
        let bytes = v.encoded()
        let back = try #require(TileValues(bytes: bytes))
        #expect(back.tile == v.tile && back.channels == 2 && back.unweighted && back.runID == "abc")
        #expect(back.values.map(\.bitPattern) == v.values.map(\.bitPattern))
        #expect(TileValues(bytes: Array(bytes.dropLast())) == nil)
        #expect(TileValues(bytes: Array("TCBTILE0".utf8) + bytes.dropFirst(8)) == nil)
    }

    @Test("a sub-rectangle read from FITS equals the same pixels of the whole frame, every plane")
    func rectRead() throws {
        let dir = TemporaryDirectory("rect-read")
        var rng = TestRNG(seed: 5)
        let im = Image(width: 37, height: 23, channels: 3, pixels: (0..<(37 * 23 * 3)).map { _ in Float(rng.uniform()) })
        let path = dir.file("f.fits")
        try FITS.write(im, to: path, as: .float32)
        let r = try FITS.readRect(path, x: 5, y: 7, width: 11, height: 9)
        #expect(r.width == 11 && r.height == 9 && r.channels == 3)
        for c in 0..<3 {
            for y in 0..<9 {
                for x in 0..<11 {
                    #expect(r.pixels[c * 99 + y * 11 + x] == im.pixels[c * 37 * 23 + (y + 7) * 37 + x + 5])
                }
            }
        }
        #expect(throws: FITSError.self) { try FITS.readRect(path, x: 30, y: 0, width: 11, height: 9) }
        // The mapped reader gives the very same bits (NaN included); scaled or integer files are not mapped.
        var withNaN = im
        withNaN.pixels[3 * 37 + 7] = .nan
        try FITS.write(withNaN, to: dir.file("n.fits"), as: .float32)
        let mapped = try #require(try FITSMappedImage.open(dir.file("n.fits")))
        #expect(mapped.width == 37 && mapped.height == 23 && mapped.channels == 3)
        for (x, y, w, h) in [(5, 7, 11, 9), (0, 0, 37, 23), (36, 22, 1, 1), (2, 1, 8, 4)] {
            let a = try mapped.rect(x: x, y: y, width: w, height: h, path: "n.fits")
            let b = try FITS.readRect(dir.file("n.fits"), x: x, y: y, width: w, height: h)
            #expect(a.pixels.map(\.bitPattern) == b.pixels.map(\.bitPattern) && a.width == w && a.height == h)
            // One plane into a reused array: that plane of the rectangle.
            var plane: [Float] = [1, 2]
            for c in 0..<3 {
                try mapped.read(x: x, y: y, width: w, height: h, plane: c, into: &plane, path: "n.fits")
                #expect(plane.map(\.bitPattern) == b.pixels[(c * w * h)..<((c + 1) * w * h)].map(\.bitPattern))
            }
        }
        var plane: [Float] = []
        #expect(throws: FITSError.self) { try mapped.read(x: 0, y: 0, width: 4, height: 4, plane: 3, into: &plane, path: "n.fits") }
        #expect(throws: FITSError.self) { try mapped.rect(x: 30, y: 0, width: 11, height: 9, path: "n.fits") }
        try FITS.write(im, to: dir.file("u.fits"), as: .uint16)
        #expect(try FITSMappedImage.open(dir.file("u.fits")) == nil)
    }
}
