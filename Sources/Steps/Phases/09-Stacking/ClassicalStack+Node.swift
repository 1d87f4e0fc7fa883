import Foundation
import Graph
import Imaging

/// The classical reference stack, validation's yardstick: `stack/classical`, the plain mean of every
/// registered frame without the outliers `reject` found, materialized at `classical.fit`. Optional: a process without validation may
/// leave it out.
public struct ClassicalStackStep: PipelineStep {
    public var name: String { "classical" }
    public var summary: String { "classical mean of every registered frame, each divided by its background, outliers rejected (validation's yardstick); classical.fit; and their inverse-variance mean (stack/inverse_variance)" }
    public var prerequisites: [String] { ["register", "measure", NodeName.reject, NodeName.metrics] }
    public var isOptional: Bool { true }
    public var configSections: [String] { [] }
    public var nodes: [String] { [NodeName.classicalStack, NodeName.inverseVarianceStack] }

    /// Adds `stack/classical` (inputs `register/NNNNN#frame` and `measure/NNNNN#measure` of every frame and
    /// `reject#masks`, output `image`, materialized at `classical.fit`). It has no tile-phase input, so the scheduler
    /// runs it concurrently with phases 4-8.
    public func add(to builder: inout PipelineBuilder) throws {
        var inputs: [String: InputSource] = ["masks": .node(NodeName.reject, output: "masks")]
        for f in builder.frames.frames {
            inputs[NodeName.register(f.index)] = .node(NodeName.register(f.index), output: "frame")
            inputs[NodeName.measure(f.index)] = .node(NodeName.measure(f.index), output: "measure")
        }
        let files = builder.frames.frames.map { ($0.index, $0.name) }  // for messages only
        builder.add(Node(name: NodeName.classicalStack, kind: "stack.classical", version: ClassicalStack.version,
                 params: ClassicalStackParams(frames: builder.frames), inputs: inputs, outputs: ["image"], group: "stack") { ctx in
            var list: [(path: String, measurement: FrameNormalization, name: String)] = []
            for (index, name) in files {
                let m = try Artifacts.readJSON(FrameNormalization.self, ctx, NodeName.measure(index))
                list.append((try ctx.input(NodeName.register(index)), m, name))
            }
            let masks = try RejectionMasks.read(path: try ctx.input("masks"), node: ctx.name)
            let image = try ClassicalStack.mean(frames: list, masks: masks, node: ctx.name)
            try Artifacts.writeImage(image, ctx, "image", keywords: [
                FITSKeyword("NFRAMES", .int(list.count), comment: "registered frames averaged"),
                FITSKeyword("TCBUNIT", .string("I/B_f"), comment: "each frame divided by its background"),
            ])
        })
        builder.materialize(NodeName.classicalStack, "image", at: "classical.fit")

        // The inverse-variance mean: the same frames and masks, weights s_f / sigma_f^2 from `metrics`
        // (left out of a graph without `metrics`).
        guard builder.nodes.contains(where: { $0.name == NodeName.metrics }) else { return }
        var ivInputs = inputs
        ivInputs["metrics"] = .node(NodeName.metrics, output: "metrics")
        builder.add(Node(name: NodeName.inverseVarianceStack, kind: "stack.inverse_variance", version: ClassicalStack.version,
                 params: ClassicalStackParams(frames: builder.frames), inputs: ivInputs, outputs: ["image"], group: "stack") { ctx in
            var list: [(path: String, measurement: FrameNormalization, name: String)] = []
            for (index, name) in files {
                let m = try Artifacts.readJSON(FrameNormalization.self, ctx, NodeName.measure(index))
                list.append((try ctx.input(NodeName.register(index)), m, name))
            }
            let table = try Artifacts.readJSON(FrameMetricsTable.self, ctx, "metrics")
            guard table.frames.count == list.count else {
                throw StepError.badArtifact(node: ctx.name, message: "metrics has \(table.frames.count) frames, \(list.count) are stacked")
            }
            let masks = try RejectionMasks.read(path: try ctx.input("masks"), node: ctx.name)
            let image = try ClassicalStack.mean(frames: list, masks: masks, weights: ClassicalStack.inverseVarianceWeights(table),
                                                node: ctx.name)
            try Artifacts.writeImage(image, ctx, "image", keywords: [
                FITSKeyword("NFRAMES", .int(list.count), comment: "registered frames averaged"),
                FITSKeyword("TCBUNIT", .string("I/B_f"), comment: "each frame divided by its background"),
                FITSKeyword("TCBWGT", .string("s_f/sigma_f^2"), comment: "inverse-variance weights"),
            ])
        })
        builder.materialize(NodeName.inverseVarianceStack, "image", at: "inverse_variance.fit")
    }
}
