import Foundation
import Graph
import Imaging

/// Parameters of `synthetic/NN`: `reconstruction.*` and the cluster number NN (so that two synthetic
/// nodes never share one fingerprint).
public struct SyntheticFrameParams: Codable, Sendable, Equatable {
    /// `reconstruction.*`.
    public var reconstruction: TCConfig.ReconstructionSection
    /// NN: the cluster this node reconstructs.
    public var cluster: Int

    /// Parameters from `config` for cluster `cluster`.
    public init(config: TCConfig, cluster: Int) {
        reconstruction = config.reconstruction
        self.cluster = cluster
    }
}

/// Phase 8: `synthetic/NN` for NN in 0 ..< `synthetic.frames_max`.
public struct SyntheticFramesStep: PipelineStep {
    public var name: String { "synthetic" }
    public var summary: String { "one synthetic frame per cluster, reconstructed from that cluster's frames (phase 8); stacking.input_dir/syn_NN.fits" }
    public var prerequisites: [String] { [NodeName.clusters, "register", "measure", NodeName.reject, NodeName.tileGeometry, NodeName.tileMetrics] }
    public var configSections: [String] { ["reconstruction", "stacking"] }
    public var nodes: [String] { [NodeName.pattern(NodeName.synthetic(0))] }
    public var frameWrite: ProcessDescription.FrameWrite? { .init(directoryKey: "stacking.input_dir", pattern: "syn_XX.fits") }
    public var defaultDirectives: [String] {
        ["ENSURE_DIR stacking.input_dir", "STEP synthetic", "WRITE stacking.input_dir/syn_XX.fits"]
    }

    /// Adds `synthetic/NN` for NN in 0 ..< `synthetic.frames_max`: each reads `clusters#members_NN` (its
    /// frames; a synthetic frame whose frames did not change is not recomputed) and
    /// reconstructs (phase 6 kernel) from the frames of cluster NN only; output `frame`, a float32 FITS in
    /// normalized units, or a zero-byte file when the chosen k has no cluster NN (the runner does not
    /// materialize empty artifacts). Materialized at `stacking.input_dir/syn_NN.fits`.
    public func add(to builder: inout PipelineBuilder) throws {
        let names = builder.frames.frames.map(\.name), indices = builder.frames.frames.map(\.index)
        let tiles = builder.tileTasks
        let shared = NodeInputs(ReconstructionStep.inputs(builder.frames))  // one list for every synthetic frame
        for nn in 0..<SyntheticFrames.count(builder.config) {
            let name = NodeName.synthetic(nn)
            builder.add(Node(name: name, kind: "synthetic", version: ReconstructionStep.version,
                     params: SyntheticFrameParams(config: builder.config, cluster: nn),
                     inputs: ["members": .node(NodeName.clusters, output: ClusteringStep.membersOutput(nn))], sharing: shared,
                     outputs: ["frame"], group: "synthetic") { ctx in
                let p = try ctx.params(SyntheticFrameParams.self)
                let members = try Artifacts.readJSON([Int].self, ctx, "members")
                guard members.allSatisfy({ $0 >= 0 && $0 < names.count }) else {
                    throw MetricsError.inconsistent(node: ctx.name, message: "cluster \(p.cluster) names frames \(members) outside the series (\(names.count) frames)")
                }
                guard !members.isEmpty else {
                    ctx.log("no cluster \(p.cluster) in the chosen k: empty output")
                    try ctx.writeOutput("frame", Data())
                    return
                }
                let image = try Reconstruction.run(ctx, members: members, files: names, indices: indices, section: p.reconstruction, tiles: tiles)
                try Artifacts.writeImage(image, ctx, "frame", keywords: [
                    FITSKeyword("TCBCLUS", .int(p.cluster), comment: "cluster of this synthetic frame"),
                    FITSKeyword("NCOMBINE", .int(members.count), comment: "frames combined"),
                ])
            })
            if let path = builder.process.framePath(step: self.name, index: nn, config: builder.config) {
                builder.materialize(name, "frame", at: path)
            }
        }
    }
}
