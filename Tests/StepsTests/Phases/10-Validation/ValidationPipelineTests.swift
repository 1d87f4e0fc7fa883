import Cache
import Foundation
import Graph
import Imaging
import Testing
import TestSupport
@testable import Steps

/// Phases 9-10 wired behind the real metric phases on a synthetic series. Registration and phases
/// 6-8 live on other branches, so stand-ins: `register/NNNNN` copies the raw frame (no rotation, 1 px
/// jitter), and `synthetic/NN` (NN < 3) is the classical mean of the frames with index % 3 == NN; the
/// other synthetic slots are zero-byte. The final stack is then a plain mean too, so validation must
/// find no FWHM gain (and fail that check), no noise change, no tile pattern, usable tiles.
@Suite("stacking and validation behind the metric phases", .serialized)
struct ValidationPipelineTests {
    static let frameCount = 15

    static func graph(_ frames: FrameList, workspace: String, config: TCConfig) throws -> (BuildGraph, [Materialization]) {
        var b = PipelineBuilder(config: config, frames: frames, workspace: workspace)
        b.addCopyRegistration()
        try b.addMetrics()
        for k in 0..<config.synthetic.framesMax {
            let members = frames.frames.map(\.index).filter { $0 % 3 == k }
            var inputs: [String: InputSource] = [:]
            for i in members {
                inputs[NodeName.frame("register", i)] = .node(NodeName.frame("register", i), output: "frame")
                inputs[NodeName.frame("measure", i)] = .node(NodeName.frame("measure", i), output: "measure")
            }
            b.add(Node(name: NodeName.synthetic(k), kind: "test.synthetic.mean", version: 1, params: ["k": k],
                       inputs: inputs, outputs: ["frame"]) { ctx in
                guard !members.isEmpty else { return try ctx.writeOutput("frame", Data()) }
                let list = try members.map { i in
                    (path: try ctx.input(NodeName.frame("register", i)),
                     measurement: try Artifacts.readJSON(FrameNormalization.self, ctx, NodeName.frame("measure", i)), name: "\(i)")
                }
                try Artifacts.writeImage(try ClassicalStack.mean(frames: list, node: ctx.name), ctx, "frame")
            })
        }
        try b.add(RejectionStep(), ClassicalStackStep(), StackingStep(), ValidationStep())
        return (try b.graph(), b.materializations)
    }

    @Test("validation.json on real metrics: no FWHM gain (fails), no noise change, no pattern; a limit edit reruns only validation")
    func endToEnd() throws {
        let dir = TemporaryDirectory("validation-pipeline")
        var sc = SynthConfig(width: 256, height: 192, frames: Self.frameCount, seed: 21)
        sc.totalRotationDegrees = 0
        sc.jitterPixels = 1
        sc.starCount = 900
        let series = try SynthSeries(sc)
        try series.write(to: dir.path + "/series", concurrency: 2)
        let frameList = try PipelineFixture.frameList(PipelineFixture.seriesPaths(dir.path + "/series", count: Self.frameCount))
        let ws = try Workspace(root: dir.path + "/ws", durable: false)
        var config = TCConfig()
        config.data.framesMin = 10
        config.tile.sizeFactor = 10
        config.tile.minSize = 16
        config.tile.maxDivisor = 3
        config.registration.starThresholdSigma = 8
        config.synthetic.framesMin = 1
        config.synthetic.framesMax = 4
        // The stand-in synthetic frames do not apply the rejection masks; without rejection the stack is
        // exactly the classical mean (with winsorized rejection the star-scale noise measured +2.7 %).
        config.reconstruction.rejection = .none
        let (g, mats) = try Self.graph(frameList, workspace: ws.root, config: config)
        #expect(Set(mats.map(\.path)).isSuperset(of: ["classical.fit", "stacked.fit", "validation.json"]))
        let start = Date()
        let r = try ws.run(g, options: RunOptions(jobs: 2), command: "test")
        print("validation pipeline: \(Self.frameCount) frames 256x192, \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        #expect(r.succeeded, "failed: \(r.failed)")
        let report = try ValidationReport.read(path: ws.path(of: try #require(r.outputs["validation"]?["validation"])))
        for c in report.checks {
            print("validation pipeline: \(c.name) = \(c.value.map { String(format: "%.4g", $0) } ?? "n/a") (limit \(c.limit)) "
                  + "\(c.passed ? "pass" : "FAIL"): \(c.detail)")
        }
        #expect(report.fwhm.matched >= 20)
        #expect(abs(try #require(report.fwhm.improvementPercent)) < 2)
        #expect(report.check(Validation.fwhmImprovement)?.passed == false)
        #expect(!report.passed)
        #expect(abs(try #require(report.background.increasePercent)) < 3)
        // Identical noise up to float rounding passes the default limit of 0 % (values rounded to 1e-4 %).
        #expect(report.check(Validation.backgroundIncrease)?.passed == true)
        #expect(!report.tilePattern.pattern)
        #expect((report.tiles.fraction ?? 0) > 0.9)
        #expect(report.check(Validation.weightVariance)?.value.map { $0 > 0 } == true)

        // Lowering the FWHM limit reruns validation alone, and it now passes that check.
        config.validation.minFwhmImprovementPercent = -5
        let (g2, _) = try Self.graph(frameList, workspace: ws.root, config: config)
        let r2 = try ws.run(g2, options: RunOptions(jobs: 2), command: "test")
        #expect(r2.executed == ["validation"])
        let report2 = try ValidationReport.read(path: ws.path(of: try #require(r2.outputs["validation"]?["validation"])))
        #expect(report2.check(Validation.fwhmImprovement)?.passed == true)
        try ws.close()
    }
}
