import Foundation
import Graph
import Imaging
import Executors

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
        let tiles = builder.tileTasks
        builder.add(Node(name: NodeName.reconstruct, kind: "reconstruct", version: Self.version,
                         params: ReconstructionParams(config: builder.config), inputs: Self.inputs(builder.frames),
                         outputs: ["image"], group: "reconstruct") { ctx in
            let p = try ctx.params(ReconstructionParams.self)
            let image = try Reconstruction.run(ctx, members: Array(names.indices), files: names, indices: indices,
                                               section: p.reconstruction, tiles: tiles)
            try Artifacts.writeImage(image, ctx, "image")
        })
        builder.materialize(NodeName.reconstruct, "image", at: "reconstruction.fit")
    }
}

extension Reconstruction {
    private static func fmt(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }

    /// Runs a reconstruction node over the frames `members` (positions in the frame list, i.e. rows of
    /// `weights`), reading `frame/NNNNN`, `measure/NNNNN` (NNNNN = `indices[position]`, the frame's scan
    /// index), `weights`, `grid` and `masks` from `ctx`: builds the node's `ReconstructionPlan` and runs
    /// one tile task per tile through `tiles` (`runTiles`); logs fallback tiles.
    static func run(_ ctx: NodeContext, members: [Int], files: [String], indices: [Int],
                    section: TCConfig.ReconstructionSection, tiles: TileTasks) throws -> Image {
        let grid = try Artifacts.readJSON(TileGrid.self, ctx, "grid")
        let weights = try TileWeights(path: try ctx.input("weights"))
        guard weights.frameCount == files.count else {
            throw MetricsError.inconsistent(node: ctx.name, message: "weights cover \(weights.frameCount) frames, the series has \(files.count)")
        }
        guard weights.tileCount == grid.tiles.count else {
            throw MetricsError.inconsistent(node: ctx.name, message: "weights have \(weights.tileCount) tiles, the grid \(grid.tiles.count)")
        }
        let masksRef = try ctx.inputDigest("masks")
        let masks = try DecodedArtifacts.shared.value("masks", masksRef) { try RejectionMasks.read(path: try ctx.input("masks"), node: ctx.name) }
        guard masks.frames.count == files.count else {
            throw MetricsError.inconsistent(node: ctx.name, message: "rejection masks cover \(masks.frames.count) frames, the series has \(files.count)")
        }
        // The matched model needs every frame's measurement, stars included; the weighted combine only
        // the members' normalization (B_f per channel), decoded without the star lists.
        let all: [FrameMeasurement?], norms: [FrameNormalization?]
        if section.combine == .matched {
            all = try files.indices.map { try Artifacts.readJSON(FrameMeasurement.self, ctx, NodeName.measure(indices[$0])) }
            norms = all.map { $0?.normalization }
        } else {
            let needed = Set(members)
            all = []
            norms = try files.indices.map { i -> FrameNormalization? in
                needed.contains(i) ? try Artifacts.readJSON(FrameNormalization.self, ctx, NodeName.measure(indices[i])) : nil
            }
        }
        guard let channels = members.first.flatMap({ norms[$0]?.channels.count }) else {
            throw StepError.badArtifact(node: ctx.name, message: "no frames to reconstruct")
        }
        var models: [MatchedFrameModel]? = nil
        if section.combine == .matched {
            // Flux scales and the PSF field come from every frame of the series (so every synthetic frame
            // shares one reference); the tasks then combine the members only.
            let (m, fallbacks) = MatchedModel.estimate(all.compactMap { $0 }, grid: grid)
            for i in fallbacks where members.contains(i) {
                ctx.log("\(files[i]): fewer than \(MatchedModel.minMatches) stars matched to the reference; flux scale = median of the others")
            }
            models = m
        }
        var frames: [ReconstructionPlan.Frame] = []
        for i in members {
            guard let m = norms[i], m.channels.count == channels else {
                throw MetricsError.inconsistent(node: ctx.name, message: "\(files[i]): \(norms[i]?.channels.count ?? 0) planes, the first frame \(channels)")
            }
            frames.append(.init(index: i, name: files[i], frame: try ctx.inputDigest(NodeName.frame("frame", indices[i])),
                                backgrounds: m.channels.map(\.background), matched: models?[i]))
        }
        var plan = ReconstructionPlan(node: ctx.name, combine: section.combine, eps: section.eps, beta: section.matchedBeta,
                                      margin: 0, fftWidth: 0, fftHeight: 0, width: grid.width, height: grid.height, channels: channels,
                                      weights: section.combine == .weighted ? try ctx.inputDigest("weights") : nil, masks: masksRef,
                                      frames: frames)
        if section.combine == .matched {
            let stand = frames.map { ReconstructionFrame(index: $0.index, name: $0.name, source: .memory(Image(width: 1, height: 1)),
                                                         backgrounds: $0.backgrounds, matched: $0.matched) }
            for f in stand {
                guard let m = f.matched, m.noise.count == channels, m.tileFWHM.count == grid.tiles.count,
                      m.tileFWHM.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                    throw MetricsError.inconsistent(node: ctx.name, message: "\(f.name): no matched model for "
                                                    + "\(channels) planes and \(grid.tiles.count) tiles (combine: matched)")
                }
            }
            plan.margin = matchedMargin(stand)
            plan.fftWidth = FFT2D.goodSize((grid.tiles.map(\.w).max() ?? 1) + 2 * plan.margin)
            plan.fftHeight = FFT2D.goodSize((grid.tiles.map(\.h).max() ?? 1) + 2 * plan.margin)
        }
        let configHash = Digest.of(try Artifacts.encode(section)).hex
        let result = try runTiles(ctx, plan: plan, grid: grid, window: section.window.function, configHash: configHash, tiles: tiles)
        switch section.combine {
        case .weighted:
            for t in result.fallbackTiles {
                let chosen = effectiveWeights(weights, frames: members, tile: t, eps: section.eps)
                ctx.log(fallbackMessage(tile: t, sum: chosen.sum, eps: section.eps, frames: members.count))
            }
            ctx.log("\(frames.count) frames, \(grid.tiles.count) tiles, \(describe(result.report, tiles: tiles)), "
                    + "each frame read once per tile (its rectangle only), "
                    + "\(result.fallbackTiles.count) tiles fell back to the unweighted mean")
        case .matched:
            let scales = frames.compactMap { $0.matched?.fluxScale }
            ctx.log("combine: matched, \(frames.count) frames, \(grid.tiles.count) tiles, margin \(plan.margin) px, "
                    + "\(describe(result.report, tiles: tiles)), flux scales \(fmt(scales.min()))..\(fmt(scales.max())), "
                    + "\(result.fallbackTiles.count) tiles without a positive weight (unweighted mean)")
        }
        return result.image
    }
}
