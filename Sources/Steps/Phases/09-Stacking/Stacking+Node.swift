import Foundation
import Graph
import Imaging

/// Phase 9: `stack`, the average of the synthetic frames (`stacking.engine` native or siril,
/// `stacking.weights` equal or inverse variance),
/// materialized at `stacking.output_file`.
public struct StackingStep: PipelineStep {
    public var name: String { NodeName.stack }
    public var summary: String { "average the synthetic frames (phase 9, stacking.engine); stacking.output_file" }
    public var prerequisites: [String] { ["synthetic"] }
    public var configSections: [String] { ["stacking", "synthetic"] }
    public var nodes: [String] { [NodeName.stack] }
    public var arguments: [String: String] {
        ["engine": "stacking.engine", "method": "stacking.method", "weights": "stacking.weights", "input": "stacking.input_dir",
         "output": "stacking.output_file"]
    }
    public var defaultDirectives: [String] {
        ["CALL stack_frames(engine=stacking.engine, method=stacking.method, input=stacking.input_dir, output=stacking.output_file)"]
    }

    /// Adds `stack`: output `image` (float32 FITS, as many planes as the synthetic frames: 1 mono,
    /// 3 RGB), materialized at `stacking.output_file`. Zero-byte synthetic artifacts are skipped.
    public func add(to builder: inout PipelineBuilder) throws {
        var inputs: [String: InputSource] = [:]
        for k in 0..<SyntheticFrames.count(builder.config) {
            inputs[NodeName.synthetic(k)] = .node(NodeName.synthetic(k), output: "frame")
        }
        builder.add(Node(name: NodeName.stack, kind: "stack.average", version: Stacking.version,
                 params: StackingParams(config: builder.config), inputs: inputs, outputs: ["image"], group: "stack") { ctx in
            let p = try ctx.params(StackingParams.self)
            let all = try ctx.inputNames.map { try ctx.input($0) }  // sorted by name: synthetic/00, 01, ...
            let paths = Stacking.nonEmpty(all)
            let (image, log) = try Stacking.stack(paths, engine: p.stacking.engine, weights: p.stacking.weights, node: ctx.name)
            for line in log { ctx.log(line) }
            try Artifacts.writeImage(image, ctx, "image", keywords: [
                FITSKeyword("NSYNTH", .int(paths.count), comment: "synthetic frames averaged"),
                FITSKeyword("STACKENG", .string(p.stacking.engine.rawValue), comment: "stacking.engine"),
            ])
        })
        builder.materialize(NodeName.stack, "image", at: builder.config.stacking.outputFile)
    }
}
