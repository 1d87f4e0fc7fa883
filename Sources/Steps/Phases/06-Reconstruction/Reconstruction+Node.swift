import Foundation
import Graph
import Imaging

/// Parameters of `reconstruct`: `reconstruction.*` only (eps, window, combine, ...).
public struct ReconstructionParams: Codable, Sendable, Equatable {
    /// `reconstruction.*`.
    public var reconstruction: TCConfig.ReconstructionSection

    /// Parameters from `config`.
    public init(config: TCConfig) { reconstruction = config.reconstruction }
}

extension TCConfig.Window {
    /// The Imaging window of this config choice.
    var function: WindowFunction {
        switch self {
        case .hanning: return .hanning
        case .cosine: return .cosine
        }
    }
}

/// Phase 6: `reconstruct`, the tile reconstruction over every frame (output `image`, materialized at
/// `reconstruction.fit`).
public struct ReconstructionStep: PipelineStep {
    public var name: String { NodeName.reconstruct }
    public var summary: String { "weighted tile means with window and overlap-add over every frame (phase 6); reconstruction.fit" }
    public var prerequisites: [String] { ["register", "measure", NodeName.reject, NodeName.tileGeometry, NodeName.tileMetrics] }
    public var configSections: [String] { ["reconstruction"] }
    public var nodes: [String] { [NodeName.reconstruct] }

    /// Code version of `reconstruct` and `synthetic/NN` (they share the kernel).
    public static let version = 2

    /// Inputs every reconstruction node reads: `frame/NNNNN` (registered frame), `measure/NNNNN`
    /// (B_f per channel), `weights`, `grid` and the rejection `masks`.
    static func inputs(_ frames: FrameList) -> [String: InputSource] {
        var inputs: [String: InputSource] = ["weights": .node(NodeName.tileMetrics, output: "weights"),
                                             "grid": .node(NodeName.tileGeometry, output: "grid"),
                                             "masks": .node(NodeName.reject, output: "masks")]
        for f in frames.frames {
            inputs[NodeName.frame("frame", f.index)] = .node(NodeName.register(f.index), output: "frame")
            inputs[NodeName.measure(f.index)] = .node(NodeName.measure(f.index), output: "measure")
        }
        return inputs
    }

    public func add(to builder: inout PipelineBuilder) throws {
        let names = builder.frames.frames.map(\.name), indices = builder.frames.frames.map(\.index)
        builder.add(Node(name: NodeName.reconstruct, kind: "reconstruct", version: Self.version,
                         params: ReconstructionParams(config: builder.config), inputs: Self.inputs(builder.frames),
                         outputs: ["image"], group: "reconstruct") { ctx in
            let p = try ctx.params(ReconstructionParams.self)
            let image = try Reconstruction.run(ctx, members: Array(names.indices), files: names, indices: indices,
                                               section: p.reconstruction)
            try Artifacts.writeImage(image, ctx, "image")
        })
        builder.materialize(NodeName.reconstruct, "image", at: "reconstruction.fit")
    }
}

extension Reconstruction {
    private static func fmt(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }

    /// Runs the kernel inside a node over the frames `members` (positions in the frame list, i.e. rows
    /// of `weights`), reading `frame/NNNNN`, `measure/NNNNN` (NNNNN = `indices[position]`, the frame's
    /// scan index), `weights` and `grid` from `ctx`; logs fallback tiles.
    static func run(_ ctx: NodeContext, members: [Int], files: [String], indices: [Int],
                    section: TCConfig.ReconstructionSection) throws -> Image {
        let grid = try Artifacts.readJSON(TileGrid.self, ctx, "grid")
        let weights = try TileWeights(path: try ctx.input("weights"))
        guard weights.frameCount == files.count else {
            throw MetricsError.inconsistent(node: ctx.name, message: "weights cover \(weights.frameCount) frames, the series has \(files.count)")
        }
        let masks = try RejectionMasks.read(path: try ctx.input("masks"), node: ctx.name)
        guard masks.frames.count == files.count else {
            throw MetricsError.inconsistent(node: ctx.name, message: "rejection masks cover \(masks.frames.count) frames, the series has \(files.count)")
        }
        var frames: [ReconstructionFrame] = []
        switch section.combine {
        case .weighted:
            for i in members {
                let m = try Artifacts.readJSON(FrameMeasurement.self, ctx, NodeName.measure(indices[i]))
                frames.append(ReconstructionFrame(index: i, name: files[i], source: .file(try ctx.input(NodeName.frame("frame", indices[i]))),
                                                  backgrounds: m.channels.map(\.background), rejected: masks.frames[i]))
            }
            let result = try reconstruct(frames: frames, weights: weights, grid: grid, window: section.window.function,
                                         eps: section.eps, threads: max(1, ctx.threads)) { ctx.log($0) }
            ctx.log("\(frames.count) frames, \(grid.tiles.count) tiles, each frame read in \(result.readsPerFrame) row bands, "
                    + "\(result.fallbackTiles.count) tiles fell back to the unweighted mean")
            return result.image
        case .matched:
            // Flux scales and the PSF field come from every frame of the series (so every synthetic frame
            // shares one reference); the kernel then combines the members only.
            let all = try files.indices.map { try Artifacts.readJSON(FrameMeasurement.self, ctx, NodeName.measure(indices[$0])) }
            let (models, fallbacks) = MatchedModel.estimate(all, grid: grid)
            for i in fallbacks where members.contains(i) {
                ctx.log("\(files[i]): fewer than \(MatchedModel.minMatches) stars matched to the reference; flux scale = median of the others")
            }
            for i in members {
                frames.append(ReconstructionFrame(index: i, name: files[i], source: .file(try ctx.input(NodeName.frame("frame", indices[i]))),
                                                  backgrounds: all[i].channels.map(\.background), rejected: masks.frames[i],
                                                  matched: models[i]))
            }
            let result = try reconstructMatched(frames: frames, grid: grid, window: section.window.function,
                                                beta: section.matchedBeta, threads: max(1, ctx.threads))
            let scales = frames.compactMap { $0.matched?.fluxScale }
            ctx.log("combine: matched, \(frames.count) frames, \(grid.tiles.count) tiles, margin \(matchedMargin(frames)) px, "
                    + "each frame read in \(result.readsPerFrame) row bands, flux scales \(fmt(scales.min()))..\(fmt(scales.max())), "
                    + "\(result.fallbackTiles.count) tiles without a positive weight (unweighted mean)")
            return result.image
        }
    }
}
