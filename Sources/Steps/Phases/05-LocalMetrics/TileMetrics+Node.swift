import Foundation
import Graph

/// Parameters of `tiles/metrics`: `local_metrics.*`, `tile.star_min_count`, and the frame names (CSV).
public struct TileMetricsParams: Codable, Sendable, Equatable {
    /// `tile.star_min_count`.
    public struct StarGate: Codable, Sendable, Equatable {
        /// Stars a tile needs (median over frames) for star mode.
        public var starMinCount: Int
        /// The gate.
        public init(starMinCount: Int) { self.starMinCount = starMinCount }
        enum CodingKeys: String, CodingKey { case starMinCount = "star_min_count" }
    }
    /// `local_metrics.*`.
    public var localMetrics: TCConfig.LocalMetricsSection
    /// `tile.star_min_count`.
    public var tile: StarGate
    /// `weighting.*`.
    public var weighting: TCConfig.WeightingSection
    /// Frame file names, frame order.
    public var frames: [String]

    /// Parameters from `config` and the scanned frames.
    public init(config: TCConfig, frames: FrameList) {
        localMetrics = config.localMetrics
        tile = StarGate(starMinCount: config.tile.starMinCount)
        weighting = config.weighting
        self.frames = frames.frames.map(\.name)
    }
    enum CodingKeys: String, CodingKey { case localMetrics = "local_metrics", tile, weighting, frames }
}

public struct TileMetricsStep: PipelineStep {
    public var name: String { NodeName.tileMetrics }
    public var summary: String { "scale the local metrics per tile across frames: W_f,t, noise-aware (weighting.*) or METHOD's G_f L_f,t (phase 5); tile_weights.csv, tiles/weighting.json" }
    public var prerequisites: [String] { [NodeName.metrics, NodeName.tileGeometry, "local"] }
    public var configSections: [String] { ["local_metrics", "tile", "weighting"] }
    public var nodes: [String] { [NodeName.tileMetrics] }

    /// Code version of `tiles/metrics` (2: noise-aware weights, the `weighting` output).
    public static let version = 2

    /// Adds `tiles/metrics`: reads every `local/NNNNN#local`, `metrics#metrics` and the grid; writes
    /// `weights` (`TileWeights`, binary) and `csv` (materialized at `tiles/tile_weights.csv`).
    public func add(to builder: inout PipelineBuilder) throws {
        var inputs: [String: InputSource] = ["metrics": .node(NodeName.metrics, output: "metrics"),
                                             "grid": .node(NodeName.tileGeometry, output: "grid")]
        for f in builder.frames.frames {
            inputs[NodeName.local(f.index)] = .node(NodeName.local(f.index), output: "local")
        }
        let indices = builder.frames.frames.map(\.index)  // scan indices, in frame order (not positions)
        let count = indices.count
        builder.add(Node(name: NodeName.tileMetrics, kind: "tiles.metrics", version: Self.version,
                 params: TileMetricsParams(config: builder.config, frames: builder.frames), inputs: inputs,
                 outputs: ["weights", "csv", "weighting"], group: "tiles") { ctx in
            let p = try ctx.params(TileMetricsParams.self)
            let table = try Artifacts.readJSON(FrameMetricsTable.self, ctx, "metrics")
            let grid = try Artifacts.readJSON(TileGrid.self, ctx, "grid")
            var local: [[TileLocalMetrics]] = []
            for i in indices {
                let name = NodeName.local(i)
                let file = try LocalMetricsFile(path: try ctx.input(name), node: name)
                guard file.tiles.count == grid.tiles.count else {
                    throw MetricsError.inconsistent(node: ctx.name, message: "\(name) has \(file.tiles.count) tiles, the grid \(grid.tiles.count)")
                }
                local.append(file.tiles)
            }
            guard table.frames.count == count else {
                throw MetricsError.inconsistent(node: ctx.name, message: "metrics has \(table.frames.count) frames, expected \(count)")
            }
            let literal = TileMetrics.weights(local: local, g: table.frames.map(\.g), section: p.localMetrics,
                                              starMinCount: p.tile.starMinCount)
            let weights: TileWeights, summary: WeightingSummary
            switch p.weighting.mode {
            case .literal:
                weights = literal
                summary = WeightingSummary(mode: p.weighting.mode.rawValue, strength: "1", inverseVariance: [], tiles: [])
            case .noiseAware:
                (weights, summary) = NoiseAwareWeights.weights(local: local, literal: literal, table: table, grid: grid,
                                                               section: p.localMetrics, weighting: p.weighting, threads: ctx.threads)
                let alphas = summary.tiles.map(\.alpha).sorted()
                if let lo = alphas.first, let hi = alphas.last {
                    ctx.log("noise-aware weights: alpha \(formatNumber(lo))..\(formatNumber(hi)) (median \(formatNumber(alphas[alphas.count / 2]))) over \(alphas.count) tiles")
                }
            }
            try Artifacts.writeJSON(summary, ctx, "weighting")
            try ctx.writeOutput("weights", weights.encoded())
            try Artifacts.writeText(weights.csv(files: p.frames), ctx, "csv")
        })
        builder.materialize(NodeName.tileMetrics, "csv", at: "tiles/tile_weights.csv")
        builder.materialize(NodeName.tileMetrics, "weighting", at: "tiles/weighting.json")
    }
}
