import Foundation
import Graph
import Imaging

/// Parameters of `validation`: the `validation`, `runtime_limits` and `pipeline` sections.
public struct ValidationParams: Codable, Sendable, Equatable {
    /// `validation.*`.
    public var validation: TCConfig.ValidationSection
    /// `runtime_limits.*` (recorded as limits; measured by the runner).
    public var runtimeLimits: TCConfig.RuntimeLimitsSection
    /// `pipeline.*` (`abort_on_fail` is copied into the report for the runner).
    public var pipeline: TCConfig.PipelineSection

    /// Parameters from `config`.
    public init(config: TCConfig) {
        validation = config.validation
        runtimeLimits = config.runtimeLimits
        pipeline = config.pipeline
    }
    enum CodingKeys: String, CodingKey { case validation, runtimeLimits = "runtime_limits", pipeline }
}

/// Phase 10: `validation`, the verdict against the classical stack (materialized at `validation.json`;
/// the runner fills in the runtime checks). Optional.
public struct ValidationStep: PipelineStep {
    public var name: String { NodeName.validation }
    public var summary: String { "phase 10: FWHM, background noise, tile weight variance, tile pattern vs the classical stack; validation.json" }
    public var prerequisites: [String] { [NodeName.stack, "classical", NodeName.tileMetrics, NodeName.tileGeometry, NodeName.metrics, NodeName.reconstruct] }
    public var isOptional: Bool { true }
    public var configSections: [String] { ["validation", "runtime_limits", "pipeline"] }
    public var nodes: [String] { [NodeName.validation] }

    /// Adds `validation` (phase 10): inputs `stack#image`, `stack/classical#image`,
    /// `tiles/metrics#weights`, `tiles/geometry#grid`, `metrics#metrics`; output `validation`
    /// (`ValidationReport` JSON), materialized at `validation.json`. A failed check does not fail the
    /// node: the runner reads `passed`. The node fails only on unreadable or inconsistent inputs.
    public func add(to builder: inout PipelineBuilder) throws {
        var inputs: [String: InputSource] = [
            "stack": .node(NodeName.stack, output: "image"),
            "classical": .node(NodeName.classicalStack, output: "image"),
            "weights": .node(NodeName.tileMetrics, output: "weights"),
            "grid": .node(NodeName.tileGeometry, output: "grid"),
            "metrics": .node(NodeName.metrics, output: "metrics"),
        ]
        // The quality table's other stacks, when the graph has them.
        let others = [("reconstruction", NodeName.reconstruct, "reconstruction"),
                      ("inverse_variance", NodeName.inverseVarianceStack, "inverse-variance stack")]
            .filter { o in builder.nodes.contains { $0.name == o.1 } }
        for (input, node, _) in others { inputs[input] = .node(node, output: "image") }
        builder.add(Node(name: NodeName.validation, kind: "validation", version: Validation.version,
                 params: ValidationParams(config: builder.config), inputs: inputs, outputs: ["validation"]) { ctx in
            let p = try ctx.params(ValidationParams.self)
            func image(_ name: String) throws -> Image {
                do { return try FITS.read(try ctx.input(name)) } catch let e as StepError { throw e } catch {
                    throw StepError.badArtifact(node: ctx.name, message: "input \(name) unreadable: \(error)")
                }
            }
            let stack = try image("stack"), classical = try image("classical")
            let grid = try Artifacts.readJSON(TileGrid.self, ctx, "grid")
            let weights = try TileWeights(path: try ctx.input("weights"))
            let table = try Artifacts.readJSON(FrameMetricsTable.self, ctx, "metrics")
            guard stack.width == classical.width, stack.height == classical.height, stack.channels == classical.channels else {
                throw StepError.badArtifact(node: ctx.name, message: "the stack is \(stack.width)x\(stack.height)x\(stack.channels) "
                    + "but the classical stack \(classical.width)x\(classical.height)x\(classical.channels)")
            }
            guard grid.width == stack.width, grid.height == stack.height, weights.tileCount == grid.tiles.count,
                  weights.frameCount == table.frames.count else {
                throw StepError.badArtifact(node: ctx.name, message: "inconsistent inputs: grid \(grid.width)x\(grid.height) with "
                    + "\(grid.tiles.count) tiles, weights for \(weights.frameCount) frames x \(weights.tileCount) tiles, "
                    + "metrics for \(table.frames.count) frames, stack \(stack.width)x\(stack.height)")
            }
            // Every stack measured once (stars, noise, mask), `threads` at a time; the classical stack's
            // measurement serves all three comparisons.
            let measured = MeasuredStack.measure([stack, classical] + (try others.map { try image($0.0) }), threads: ctx.threads)
            var report = Validation.evaluate(stack: measured[0], classical: measured[1], grid: grid, weights: weights,
                                             validation: p.validation, limits: p.runtimeLimits,
                                             abortOnFail: p.pipeline.abortOnFail, threads: ctx.threads)
            var stacks = report.stacks ?? []
            for (k, (_, _, label)) in others.enumerated() {
                stacks.append(Validation.quality(of: measured[2 + k], name: label, classical: measured[1], threads: ctx.threads))
            }
            report.stacks = stacks
            for c in report.checks where !c.passed { ctx.log("validation check \(c.name) failed: \(c.detail)") }
            try Artifacts.writeJSON(report, ctx, "validation")
        })
        builder.materialize(NodeName.validation, "validation", at: "validation.json")
    }
}
