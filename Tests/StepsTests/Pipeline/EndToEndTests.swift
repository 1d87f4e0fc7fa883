import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph
@testable import Imaging
@testable import Steps

/// The whole pipeline (real registration through validation) on a small generated series.
@Suite(.serialized) struct EndToEndTests {
    private func run(_ dir: TemporaryDirectory, _ config: TCConfig, jobs: Int = 2) throws -> PipelineResult {
        let ws = try Workspace(root: dir.path, durable: false)
        defer { try? ws.close() }
        let result = try PipelineRunner.run(workspace: ws, config: config, jobs: jobs, command: "test")
        let failed = result.report.failed
        #expect(failed.isEmpty)
        return result
    }

    @Test func wholePipelineProducesCheckedOutputsAndReusesWork() throws {
        let dir = TemporaryDirectory("e2e")
        var synth = SynthConfig(width: 256, height: 192, frames: 30, seed: 11)
        synth.starCount = 700
        try SynthSeries(synth).write(to: dir.path)
        var config = TCConfig()
        config.data.framesMin = 10
        config.tile.minSize = 16
        config.tile.maxDivisor = 3
        config.synthetic.framesMin = 3
        config.synthetic.framesMax = 8
        config.pipeline.abortOnFail = false

        let first = try run(dir, config)
        let stack = try FITS.read(dir.file("stacked.fit"))
        #expect(stack.width == 256 && stack.height == 192 && stack.channels == 1)
        let validation = try #require(first.validation)
        let fwhm = try #require(validation.checks.first { $0.name == "fwhm_improvement_percent" }?.value)
        #expect(fwhm > 0)  // the tile-weighted stack is sharper than the classical mean
        #expect(validation.checks.count == 7)
        #expect(validation.checks.allSatisfy { !$0.name.isEmpty })
        let metricsRows = try String(contentsOfFile: dir.file("frame_metrics.csv"), encoding: .utf8).split(separator: "\n")
        #expect(metricsRows.count == 31)  // header + one row per frame
        let clusterRows = try String(contentsOfFile: dir.file("clusters.csv"), encoding: .utf8).split(separator: "\n")
        #expect(clusterRows.count == 31)
        let synthetic = try FileManager.default.contentsOfDirectory(atPath: dir.file("synthetic")).filter { $0.hasPrefix("syn_") }
        #expect((3...7).contains(synthetic.count))  // k below frames_max: every further cluster gained < 1 %
        #expect(FileManager.default.fileExists(atPath: dir.file("report.html")))

        // synthetic.frames_max: only clustering and the final stack; lowered to the k chosen, the same k
        // is chosen again, so every cluster keeps its frames (`clusters#members_NN` has the same bytes)
        // and no synthetic frame is recomputed.
        func labels() throws -> [Substring] {
            try String(contentsOfFile: dir.file("clusters.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
                .map { $0.split(separator: ",")[2] }
        }
        let labelsBefore = try labels()
        var fewer = config
        fewer.synthetic.framesMax = synthetic.count
        let reclustered = try run(dir, fewer)
        #expect(reclustered.report.executed.contains("clusters"))
        #expect(try labels() == labelsBefore)
        // (the stack's inputs are the synthetic nodes up to frames_max: it reruns, with the same bytes)
        #expect(reclustered.report.executed.allSatisfy { $0 == "clusters" || $0 == "stack" }, "\(reclustered.report.executed)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("synthetic")).filter { $0.hasPrefix("syn_") }.count == synthetic.count)

        // stacking.engine: only the final stack and what follows it.
        var siril = fewer
        siril.stacking.engine = .siril
        let restacked = try run(dir, siril)
        #expect(restacked.report.executed.contains("stack"))
        #expect(restacked.report.executed.allSatisfy { $0 == "stack" || $0 == "validation" }, "\(restacked.report.executed)")
    }
}
