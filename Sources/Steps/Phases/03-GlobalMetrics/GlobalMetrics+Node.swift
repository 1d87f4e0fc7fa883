import Foundation
import Graph

/// Parameters of `metrics`: `global_metrics.*` and the frame file names (for the CSV).
public struct GlobalMetricsParams: Codable, Sendable, Equatable {
    /// `global_metrics.*`.
    public var globalMetrics: TCConfig.GlobalMetricsSection
    /// File names in frame-list order.
    public var frames: [String]

    /// Parameters from `config` and the scanned frames.
    public init(config: TCConfig, frames: FrameList) {
        globalMetrics = config.globalMetrics
        self.frames = frames.frames.map(\.name)
    }
    enum CodingKeys: String, CodingKey { case globalMetrics = "global_metrics", frames }
}

public struct GlobalMetricsStep: PipelineStep {
    public var name: String { NodeName.metrics }
    public var summary: String { "scale the frames' B, sigma, E across the series: Q_f, G_f (phase 3); frame_metrics.csv" }
    public var prerequisites: [String] { ["measure", "register"] }
    public var configSections: [String] { ["global_metrics"] }
    public var nodes: [String] { [NodeName.metrics] }

    /// Code version of `metrics` (2: each row carries the frame's flux scale).
    public static let version = 2

    /// Adds `metrics`: reads every `measure/NNNNN#measure` and `register/NNNNN#transform`, scales the
    /// metrics across frames and writes `metrics` (`FrameMetricsTable` JSON) and `csv`
    /// (materialized at `frame_metrics.csv`).
    public func add(to builder: inout PipelineBuilder) throws {
        var inputs: [String: InputSource] = [:]
        for f in builder.frames.frames {
            inputs[NodeName.measure(f.index)] = .node(NodeName.measure(f.index), output: "measure")
            inputs[NodeName.frame("transform", f.index)] = .node(NodeName.register(f.index), output: "transform")
        }
        let indices = builder.frames.frames.map(\.index)  // scan indices, in frame order (not positions)
        builder.add(Node(name: NodeName.metrics, kind: "metrics.global", version: Self.version,
                 params: GlobalMetricsParams(config: builder.config, frames: builder.frames), inputs: inputs,
                 outputs: ["metrics", "csv"]) { ctx in
            let p = try ctx.params(GlobalMetricsParams.self)
            var measures: [FrameMeasurement] = [], registration: [RegistrationSummary] = []
            for i in indices {
                measures.append(try Artifacts.readJSON(FrameMeasurement.self, ctx, NodeName.measure(i)))
                registration.append(try Artifacts.readJSON(RegistrationSummary.self, ctx, NodeName.frame("transform", i)))
            }
            if let k = measures.first?.channels.count, measures.contains(where: { $0.channels.count != k }) {
                throw MetricsError.inconsistent(node: ctx.name, message: "frames have different channel counts")
            }
            let table = GlobalMetrics.table(measures: measures, registration: registration, files: p.frames,
                                            section: p.globalMetrics)
            try Artifacts.writeJSON(table, ctx, "metrics")
            try Artifacts.writeText(table.csv(), ctx, "csv")
        })
        builder.materialize(NodeName.metrics, "csv", at: "frame_metrics.csv")
    }
}
