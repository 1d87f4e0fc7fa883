import Foundation
import Graph
import Imaging

/// Parameters of `reject`: the rejection keys of `reconstruction.*` (not eps or window, so changing those
/// does not redo the rejection; key paths as in the config, so `explain` names them) and the image size.
public struct RejectionParams: Codable, Sendable, Equatable {
    /// The `reconstruction.rejection*` keys.
    public struct Keys: Codable, Sendable, Equatable {
        /// `reconstruction.rejection`.
        public var rejection: TCConfig.Rejection
        /// `reconstruction.rejection_kappa_low`.
        public var kappaLow: Double
        /// `reconstruction.rejection_kappa_high`.
        public var kappaHigh: Double
        /// `reconstruction.rejection_iterations`.
        public var iterations: Int

        enum CodingKeys: String, CodingKey {
            case rejection, kappaLow = "rejection_kappa_low", kappaHigh = "rejection_kappa_high"
            case iterations = "rejection_iterations"
        }
    }
    /// `reconstruction.rejection*`.
    public var reconstruction: Keys
    /// Width of the registered frames.
    public var width: Int
    /// Height of the registered frames.
    public var height: Int

    /// Parameters from `config` for the scanned series.
    public init(config: TCConfig, frames: FrameList) {
        let r = config.reconstruction
        reconstruction = Keys(rejection: r.rejection, kappaLow: r.rejectionKappaLow, kappaHigh: r.rejectionKappaHigh,
                              iterations: r.rejectionIterations)
        width = frames.width
        height = frames.height
    }

    /// The kernel's options, nil for `none`.
    var options: PixelRejection.Options? {
        let r = reconstruction
        switch r.rejection {
        case .none: return nil
        case .sigma: return .init(method: .sigma, kappaLow: r.kappaLow, kappaHigh: r.kappaHigh, iterations: r.iterations)
        case .winsorized: return .init(method: .winsorized, kappaLow: r.kappaLow, kappaHigh: r.kappaHigh, iterations: r.iterations)
        }
    }
}

/// The `summary` artifact of `reject`: what was rejected, per frame (the report's table and chart).
public struct RejectionSummary: Codable, Sendable, Equatable {
    /// One frame's rejections.
    public struct Frame: Codable, Sendable, Equatable {
        /// Scan index NNNNN.
        public var index: Int
        /// File name.
        public var name: String
        /// Rejected values (pixels x planes).
        public var rejected: Int
        /// Rejected values / (width x height x planes).
        public var fraction: Double
    }
    /// `none`, `sigma` or `winsorized`.
    public var method: String
    /// `reconstruction.rejection_kappa_low`.
    public var kappaLow: Double
    /// `reconstruction.rejection_kappa_high`.
    public var kappaHigh: Double
    /// Clipping rounds.
    public var iterations: Int
    /// Rows per chunk of the second pass (memory budget).
    public var chunkRows: Int
    /// Every frame, in frame-list order.
    public var frames: [Frame]

    enum CodingKeys: String, CodingKey {
        case method, kappaLow = "kappa_low", kappaHigh = "kappa_high", iterations, chunkRows = "chunk_rows", frames
    }
}

/// Phase 6 (first half): `reject`, outlier masks of every registered frame (outputs `masks`, `summary`,
/// `map`; the map of rejection counts is materialized at `rejection_map.fit`).
public struct RejectionStep: PipelineStep {
    public var name: String { NodeName.reject }
    public var summary: String {
        "per-pixel outlier rejection (trails, cosmic rays, hot pixels) over every registered frame (phase 6); rejection_map.fit"
    }
    public var prerequisites: [String] { ["register", "measure"] }
    public var configSections: [String] { ["reconstruction"] }
    public var nodes: [String] { [NodeName.reject] }

    /// Adds `reject`: inputs `register/NNNNN#frame` and `measure/NNNNN#measure` of every frame.
    public func add(to builder: inout PipelineBuilder) throws {
        var inputs: [String: InputSource] = [:]
        for f in builder.frames.frames {
            inputs[NodeName.register(f.index)] = .node(NodeName.register(f.index), output: "frame")
            inputs[NodeName.measure(f.index)] = .node(NodeName.measure(f.index), output: "measure")
        }
        let files = builder.frames.frames.map { ($0.index, $0.name) }
        let channels = builder.frames.isColor ? 3 : 1
        builder.add(Node(name: NodeName.reject, kind: "reject", version: Rejection.version,
                         params: RejectionParams(config: builder.config, frames: builder.frames), inputs: inputs,
                         outputs: ["masks", "summary", "map"], group: "reconstruct") { ctx in
            let p = try ctx.params(RejectionParams.self)
            var frames: [RejectionFrame] = []
            for (index, name) in files {
                let m = try Artifacts.readJSON(MeasuredLevels.self, ctx, NodeName.measure(index))
                frames.append(RejectionFrame(name: name, index: index, source: .file(try ctx.input(NodeName.register(index))),
                                             backgrounds: m.channels.map(\.background), noise: m.channels.map(\.noise)))
            }
            let planes = frames.first?.backgrounds.count ?? channels
            let result: RejectionResult
            if let options = p.options {
                result = try Rejection.run(frames: frames, width: p.width, height: p.height, channels: planes,
                                           options: options, threads: max(1, ctx.threads), node: ctx.name)
            } else {
                result = RejectionResult(masks: .empty(width: p.width, height: p.height, channels: planes, count: frames.count),
                                         map: Image(width: p.width, height: p.height, channels: planes, fill: 0), chunkRows: 0)
            }
            let values = Double(p.width * p.height * planes)
            let summary = RejectionSummary(
                method: p.reconstruction.rejection.rawValue, kappaLow: p.reconstruction.kappaLow,
                kappaHigh: p.reconstruction.kappaHigh, iterations: p.reconstruction.iterations,
                chunkRows: result.chunkRows,
                frames: zip(frames, result.masks.frames).map {
                    .init(index: $0.index, name: $0.name, rejected: $1.count, fraction: Measure.rounded(Double($1.count) / values))
                })
            try ctx.writeOutput("masks", result.masks.encoded())
            try Artifacts.writeJSON(summary, ctx, "summary")
            try Artifacts.writeImage(result.map, ctx, "map", keywords: [
                FITSKeyword("TCBUNIT", .string("frames"), comment: "frames rejected at the pixel"),
            ])
            let total = summary.frames.reduce(0) { $0 + $1.rejected }
            let top = summary.frames.sorted { $0.rejected > $1.rejected }.prefix(3)
                .map { "\($0.name) \($0.rejected)" }.joined(separator: ", ")
            ctx.log("\(p.reconstruction.rejection.rawValue): \(total) values rejected over \(frames.count) frames "
                    + "(\(String(format: "%.3f", 100 * Double(total) / max(1, values * Double(frames.count)))) %), "
                    + "chunks of \(result.chunkRows) rows; most: \(top)")
        })
        builder.materialize(NodeName.reject, "map", at: "rejection_map.fit")
    }
}

/// The part of a `measure` artifact (`FrameMeasurement`) that `reject` reads: each channel's B_f and
/// sigma_f. Decoding only these keys skips the star list, most of the artifact.
struct MeasuredLevels: Decodable {
    struct Channel: Decodable {
        var background: Double
        var noise: Double
    }
    var channels: [Channel]
}
