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

/// METHOD phase 8: one synthetic frame per cluster.
public enum SyntheticFrames {
    /// `synthetic/NN` (two digits, as `syn_NN.fits`).
    public static func nodeName(_ cluster: Int) -> String { "synthetic/" + String(format: "%02d", cluster) }
    /// `syn_NN.fits`.
    public static func fileName(_ cluster: Int) -> String { "syn_" + String(format: "%02d", cluster) + ".fits" }
}

extension PipelineBuilder {
    /// Adds `synthetic/NN` for NN in 0 ..< `synthetic.frames_max`: each reads the `clusters` artifact and
    /// reconstructs (phase 6 kernel) from the frames of cluster NN only; output `frame`, a float32 FITS in
    /// normalized units, or a zero-byte file when the chosen k has no cluster NN (the runner does not
    /// materialize empty artifacts). Materialized at `stacking.input_dir/syn_NN.fits`.
    public mutating func addSyntheticFrames() throws {
        let names = frames.frames.map(\.name)
        var inputs = reconstructionInputs()
        inputs["clusters"] = .node("clusters", output: "clusters")
        let dir = config.stacking.inputDir
        for nn in 0..<max(1, config.synthetic.framesMax) {
            let name = SyntheticFrames.nodeName(nn)
            add(Node(name: name, kind: "synthetic", version: Self.reconstructionVersion,
                     params: SyntheticFrameParams(config: config, cluster: nn), inputs: inputs,
                     outputs: ["frame"], group: "synthetic") { ctx in
                let p = try ctx.params(SyntheticFrameParams.self)
                let clusters = try Artifacts.readJSON(FrameClusters.self, ctx, "clusters")
                guard clusters.frames.count == names.count else {
                    throw MetricsError.inconsistent(node: ctx.name, message: "clusters cover \(clusters.frames.count) frames, the series has \(names.count)")
                }
                let members = clusters.members(p.cluster)
                guard p.cluster < clusters.k, !members.isEmpty else {
                    ctx.log("no cluster \(p.cluster) (k = \(clusters.k)): empty output")
                    try ctx.writeOutput("frame", Data())
                    return
                }
                let image = try Reconstruction.run(ctx, members: members, files: names, section: p.reconstruction)
                try Artifacts.writeImage(image, ctx, "frame", keywords: [
                    FITSKeyword("TCBCLUS", .int(p.cluster), comment: "cluster of this synthetic frame"),
                    FITSKeyword("NCOMBINE", .int(members.count), comment: "frames combined"),
                ])
            })
            materialize(name, "frame", at: dir + "/" + SyntheticFrames.fileName(nn))
        }
    }
}
