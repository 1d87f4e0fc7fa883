import Foundation
import Graph

/// Parameters of `clusters`: `synthetic.*` and the frame file names (for the CSV).
public struct ClusteringParams: Codable, Sendable, Equatable {
    /// `synthetic.*` (frames_min, frames_max, clustering, kmeans_restarts, seed).
    public var synthetic: TCConfig.SyntheticSection
    /// File names in frame-list order.
    public var frames: [String]
    /// Observation times (seconds, UTC) in frame-list order, for the time buckets; nil when a frame has
    /// none (time order is then file order).
    public var times: [Double]?

    /// Parameters from `config` and the scanned frames.
    public init(config: TCConfig, frames: FrameList) {
        synthetic = config.synthetic
        self.frames = frames.frames.map(\.name)
        times = frames.observationTimes
    }
}

/// Phase 7: `clusters`, the frames' state clustering (outputs `clusters`, JSON `FrameClusters`,
/// `csv`, materialized at `clusters.csv`, and `members_NN`, each synthetic frame's frame indices).
public struct ClusteringStep: PipelineStep {
    public var name: String { NodeName.clusters }
    public var summary: String { "cluster the frames by state vector into k in [synthetic.frames_min, frames_max] (phase 7); clusters.csv" }
    public var prerequisites: [String] { [NodeName.metrics, NodeName.tileMetrics] }
    public var configSections: [String] { ["synthetic"] }
    public var nodes: [String] { [NodeName.clusters] }

    /// Code version of `clusters` (3: k-means balanced on the frames' tile-weight shares; 4: one
    /// `members_NN` output per synthetic frame).
    public static let version = 4

    /// The output holding cluster `nn`'s frame indices (JSON `[Int]`, ascending; `[]` when the chosen k
    /// has no cluster `nn`). `synthetic/NN` reads only this, so a change that leaves a cluster's frames
    /// as they were (another `synthetic.frames_max` that picks the same k, a frame joining another
    /// cluster) does not recompute its synthetic frame: the engine's early cutoff stops at the bytes.
    public static func membersOutput(_ nn: Int) -> String { String(format: "members_%02d", nn) }

    /// Adds `clusters`: reads `metrics#metrics` and `tiles/metrics#weights`, builds the state vectors,
    /// clusters them (`Clustering.cluster`) and writes `clusters` (JSON `FrameClusters`) and `csv`
    /// (materialized at `clusters.csv`).
    public func add(to builder: inout PipelineBuilder) throws {
        let count = SyntheticFrames.count(builder.config)
        builder.add(Node(name: NodeName.clusters, kind: "clusters", version: Self.version,
                 params: ClusteringParams(config: builder.config, frames: builder.frames),
                 inputs: ["metrics": .node(NodeName.metrics, output: "metrics"), "weights": .node(NodeName.tileMetrics, output: "weights")],
                 outputs: ["clusters", "csv"] + (0..<count).map(Self.membersOutput)) { ctx in
            let p = try ctx.params(ClusteringParams.self)
            let table = try Artifacts.readJSON(FrameMetricsTable.self, ctx, "metrics")
            let weights = try TileWeights(path: try ctx.input("weights"))
            guard table.frames.count == p.frames.count, weights.frameCount == p.frames.count else {
                throw MetricsError.inconsistent(node: ctx.name, message: "metrics has \(table.frames.count) frames, weights "
                                                + "\(weights.frameCount), the series \(p.frames.count)")
            }
            let state = Clustering.stateVectors(metrics: table, weights: weights)
            let result = Clustering.cluster(state: state, files: p.frames, section: p.synthetic,
                                            mass: Clustering.weightShares(weights), times: p.times, threads: ctx.threads)
            ctx.log("\(result.method) (\(result.reason)): k = \(result.k)")
            try Artifacts.writeJSON(result, ctx, "clusters")
            try Artifacts.writeText(result.csv(), ctx, "csv")
            for nn in 0..<count { try Artifacts.writeJSON(nn < result.k ? result.members(nn) : [], ctx, Self.membersOutput(nn)) }
        })
        builder.materialize(NodeName.clusters, "csv", at: "clusters.csv")
    }
}
