import Foundation
import Graph
import Imaging

/// Parameters of `reconstruct`: `reconstruction.*` only (eps and window).
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

extension PipelineBuilder {
    /// Code version of `reconstruct` and `synthetic/NN` (they share the kernel).
    public static let reconstructionVersion = 1

    /// Inputs every reconstruction node reads: `frame/NNNNN` (registered frame), `measure/NNNNN`
    /// (B_f per channel), `weights` and `grid`.
    func reconstructionInputs() -> [String: InputSource] {
        var inputs: [String: InputSource] = ["weights": .node("tiles/metrics", output: "weights"),
                                             "grid": .node("tiles/geometry", output: "grid")]
        for f in frames.frames {
            inputs[NodeName.frame("frame", f.index)] = .node(NodeName.frame("register", f.index), output: "frame")
            inputs[NodeName.frame("measure", f.index)] = .node(NodeName.frame("measure", f.index), output: "measure")
        }
        return inputs
    }

    /// Adds phases 6-8: `reconstruct` (materialized at `reconstruction.fit`), `clusters` (`clusters.csv`)
    /// and `synthetic/NN` for NN in 0 ..< `synthetic.frames_max` (`stacking.input_dir/syn_NN.fits`).
    /// Needs `register/*`, `measure/*`, `metrics`, `tiles/geometry` and `tiles/metrics` in the graph.
    public mutating func addReconstruction() throws {
        let names = frames.frames.map(\.name)
        add(Node(name: "reconstruct", kind: "reconstruct", version: Self.reconstructionVersion,
                 params: ReconstructionParams(config: config), inputs: reconstructionInputs(),
                 outputs: ["image"], group: "reconstruct") { ctx in
            let p = try ctx.params(ReconstructionParams.self)
            let image = try Reconstruction.run(ctx, members: Array(names.indices), files: names, section: p.reconstruction)
            try Artifacts.writeImage(image, ctx, "image")
        })
        materialize("reconstruct", "image", at: "reconstruction.fit")
        try addClusters()
        try addSyntheticFrames()
    }
}

extension Reconstruction {
    /// Runs the kernel inside a node over the frames `members` (indices into the frame list), reading
    /// `frame/NNNNN`, `measure/NNNNN`, `weights` and `grid` from `ctx`; logs fallback tiles.
    static func run(_ ctx: NodeContext, members: [Int], files: [String],
                    section: TCConfig.ReconstructionSection) throws -> Image {
        let grid = try Artifacts.readJSON(TileGrid.self, ctx, "grid")
        let weights = try TileWeights(path: try ctx.input("weights"))
        guard weights.frameCount == files.count else {
            throw MetricsError.inconsistent(node: ctx.name, message: "weights cover \(weights.frameCount) frames, the series has \(files.count)")
        }
        var frames: [ReconstructionFrame] = []
        for i in members {
            let m = try Artifacts.readJSON(FrameMeasurement.self, ctx, NodeName.frame("measure", i))
            frames.append(ReconstructionFrame(index: i, name: files[i], source: .file(try ctx.input(NodeName.frame("frame", i))),
                                              backgrounds: m.channels.map(\.background)))
        }
        let result = try reconstruct(frames: frames, weights: weights, grid: grid, window: section.window.function,
                                     eps: section.eps, threads: max(1, ctx.threads)) { ctx.log($0) }
        ctx.log("\(frames.count) frames, \(grid.tiles.count) tiles, each frame read in \(result.readsPerFrame) row bands, "
                + "\(result.fallbackTiles.count) tiles fell back to the unweighted mean")
        return result.image
    }
}
