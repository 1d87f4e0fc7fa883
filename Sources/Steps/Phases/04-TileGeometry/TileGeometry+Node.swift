import Foundation
import Graph

/// Parameters of `tiles/geometry`: the `tile.*` keys of the geometry (not `tile.star_min_count`,
/// which only phase 5 reads) and the image size.
public struct TileGeometryParams: Codable, Sendable, Equatable {
    /// `tile.size_factor`, `tile.min_size`, `tile.max_divisor`, `tile.overlap_fraction`.
    public struct Geometry: Codable, Sendable, Equatable {
        /// `tile.size_factor`.
        public var sizeFactor: Double
        /// `tile.min_size`.
        public var minSize: Int
        /// `tile.max_divisor`.
        public var maxDivisor: Int
        /// `tile.overlap_fraction`.
        public var overlapFraction: Double
        /// The geometry keys of `tile`.
        public init(_ tile: TCConfig.TileSection) {
            sizeFactor = tile.sizeFactor
            minSize = tile.minSize
            maxDivisor = tile.maxDivisor
            overlapFraction = tile.overlapFraction
        }
        enum CodingKeys: String, CodingKey {
            case sizeFactor = "size_factor", minSize = "min_size", maxDivisor = "max_divisor"
            case overlapFraction = "overlap_fraction"
        }
    }
    /// Image size.
    public struct Size: Codable, Sendable, Equatable {
        /// Width, px.
        public var width: Int
        /// Height, px.
        public var height: Int
    }
    /// `tile.*` geometry keys.
    public var tile: Geometry
    /// The series' image size.
    public var image: Size

    /// Parameters from `config` and the scanned frames.
    public init(config: TCConfig, frames: FrameList) {
        tile = Geometry(config.tile)
        image = Size(width: frames.width, height: frames.height)
    }
}

public struct TileGeometryStep: PipelineStep {
    public var name: String { NodeName.tileGeometry }
    public var summary: String { "seeing-adaptive tile grid from the median FWHM of the registered frames (phase 4)" }
    public var prerequisites: [String] { ["measure"] }
    public var configSections: [String] { ["tile"] }
    public var nodes: [String] { [NodeName.tileGeometry] }

    /// Code version of `tiles/geometry`.
    public static let version = 1

    /// Adds `tiles/geometry`: F from the stars of every `measure/NNNNN#measure`, then T, O, S and the
    /// grid; output `grid` (`TileGrid` JSON), materialized at `tiles/grid.json`.
    public func add(to builder: inout PipelineBuilder) throws {
        var inputs: [String: InputSource] = [:]
        for f in builder.frames.frames {
            inputs[NodeName.measure(f.index)] = .node(NodeName.measure(f.index), output: "measure")
        }
        let indices = builder.frames.frames.map(\.index)  // scan indices, in frame order (not positions)
        builder.add(Node(name: NodeName.tileGeometry, kind: "tiles.geometry", version: Self.version,
                 params: TileGeometryParams(config: builder.config, frames: builder.frames), inputs: inputs,
                 outputs: ["grid"], group: "tiles") { ctx in
            let p = try ctx.params(TileGeometryParams.self)
            var stars: [[MeasuredStar]] = []
            for i in indices {
                // Keep only the stars that can enter F: memory stays bounded on long, crowded series.
                let m = try Artifacts.readJSON(FrameMeasurement.self, ctx, NodeName.measure(i))
                stars.append(m.stars.filter(TileGeometry.acceptsForSeeing))
            }
            let (fwhm, used) = TileGeometry.seeingFWHM(stars)
            let t = TileGeometry.tileSize(fwhm: fwhm, sizeFactor: p.tile.sizeFactor, minSize: p.tile.minSize,
                                          maxDivisor: p.tile.maxDivisor, width: p.image.width, height: p.image.height)
            let grid = TileGeometry.grid(width: p.image.width, height: p.image.height, size: t,
                                         overlapFraction: p.tile.overlapFraction, fwhm: fwhm, starsUsed: used)
            if fwhm == nil { ctx.log("no star qualified for F; tile size \(t) px from tile.min_size") }
            try Artifacts.writeJSON(grid, ctx, "grid")
        })
        builder.materialize(NodeName.tileGeometry, "grid", at: "tiles/grid.json")
    }
}
