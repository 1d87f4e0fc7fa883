import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph
@testable import Imaging
@testable import Steps

/// Incrementality on the real pipeline (scan, registration, metrics, tiles), through the runner.
@Suite(.serialized) struct IncrementalTests {
    /// A series of `total` frames of which only the first `present` are in `frames/`; the rest wait in `spare/`.
    private func series(total: Int, present: Int) throws -> TemporaryDirectory {
        let dir = TemporaryDirectory("incremental")
        var synth = SynthConfig(width: 256, height: 192, frames: total, seed: 5)
        synth.starCount = 700
        try SynthSeries(synth).write(to: dir.path)
        try FileManager.default.createDirectory(atPath: dir.file("spare"), withIntermediateDirectories: true)
        for i in present..<total {
            let name = (SynthSeries.framePath(i) as NSString).lastPathComponent
            try FileManager.default.moveItem(atPath: dir.file("frames/" + name), toPath: dir.file("spare/" + name))
        }
        return dir
    }

    private func run(_ dir: TemporaryDirectory, _ config: TCConfig, jobs: Int = 2) throws -> RunReport {
        let ws = try Workspace(root: dir.path, durable: false)
        defer { try? ws.close() }
        let result = try PipelineRunner.run(workspace: ws, config: config, jobs: jobs, command: "test")
        let failed = result.report.failed
        #expect(failed.isEmpty)
        return result.report
    }

    private func config() -> TCConfig {
        var c = TCConfig()
        c.data.framesMin = 3
        c.registration.reference = .index(0)
        c.tile.maxDivisor = 3
        c.tile.minSize = 16
        return c
    }

    @Test func tileSizeChangeRerunsOnlyTileNodesAndAddedFramesRegisterAlone() throws {
        let dir = try series(total: 20, present: 10)
        var c = config()
        let first = try run(dir, c)
        #expect(first.executed.filter { $0.hasPrefix("register/") }.count == 10)

        // tile.size_factor: tile geometry and local metrics rerun; registration, normalization, global metrics do not.
        c.tile.sizeFactor = 10  // F ~ 3.5 px: T goes from the 64 px cap (192 / max_divisor 3) to ~35 px
        let retiled = try run(dir, c)
        // (Phases 6-10 downstream of the tiles rerun too when the new grid changes the weights.)
        let groups = Set(retiled.executed.map { $0.split(separator: "/").first.map(String.init) ?? $0 })
        #expect(retiled.executed.contains("tiles/geometry"))
        #expect(retiled.executed.contains { $0.hasPrefix("local/") })
        #expect(groups.isDisjoint(with: ["inspect", "scan", "stars", "reference", "register", "measure", "metrics"]), "\(retiled.executed)")

        // Adding frames with a pinned reference registers exactly the new ones.
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.file("spare")) {
            try FileManager.default.moveItem(atPath: dir.file("spare/" + name), toPath: dir.file("frames/" + name))
        }
        let grown = try run(dir, c)
        let registered = grown.executed.filter { $0.hasPrefix("register/") }.sorted()
        #expect(registered == (10..<20).map { NodeName.frame("register", $0) })
        #expect(grown.executed.filter { $0.hasPrefix("stars/") }.count == 10)
        #expect(grown.executed.filter { $0.hasPrefix("inspect/") }.count == 10)
        #expect(!grown.executed.contains("reference"))

        // And the unchanged graph is a no-op.
        #expect(try run(dir, c).executed.isEmpty)
    }

    @Test func jobsOneAndTwoGiveBitIdenticalArtifacts() throws {
        let one = try series(total: 6, present: 6)
        let two = try series(total: 6, present: 6)
        let a = try run(one, config(), jobs: 1)
        let b = try run(two, config(), jobs: 2)
        // The scan's frame list holds absolute paths (different workspaces); everything else is identical.
        let differing = a.outputs.keys.filter { a.outputs[$0] != b.outputs[$0] }.sorted()
        #expect(differing == ["scan"])
        #expect(a.outputs.count == a.executed.count)
    }
}
