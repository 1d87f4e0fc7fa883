import Foundation
import Graph
import Imaging

public struct LocalMetricsStep: PipelineStep {
    public var name: String { "local" }
    public var summary: String { "per-tile star FWHM, roundness, contrast or structure of every frame (phase 5)" }
    public var prerequisites: [String] { ["register", "measure", NodeName.tileGeometry] }
    public var configSections: [String] { [] }
    public var nodes: [String] { [NodeName.pattern(NodeName.local(0))] }

    /// Code version of `local/NNNNN` (2: SNR-weighted median of the tile's stars).
    public static let version = 2

    /// Adds `local/NNNNN` for every frame: reads `register/NNNNN#frame` once, normalizes it with the
    /// backgrounds of `measure/NNNNN#measure`, and measures every tile of `tiles/geometry#grid`;
    /// output `local` (`LocalMetricsFile`, binary). No params: the node depends on the config only
    /// through its inputs (normalization via `measure`, geometry via `grid`).
    public func add(to builder: inout PipelineBuilder) throws {
        for f in builder.frames.frames {
            let file = f.name  // for messages only
            builder.add(Node(name: NodeName.local(f.index), kind: "local", version: Self.version,
                     params: EmptyParams(),
                     inputs: ["frame": .node(NodeName.register(f.index), output: "frame"),
                              "measure": .node(NodeName.measure(f.index), output: "measure"),
                              "grid": .node(NodeName.tileGeometry, output: "grid")],
                     outputs: ["local"]) { ctx in
                let measure = try Artifacts.readJSON(FrameMeasurement.self, ctx, "measure")
                // Every frame's node reads the same grid: decoded once per process (by digest).
                let grid = try DecodedArtifacts.shared.value("grid", try ctx.inputDigest("grid")) {
                    try Artifacts.readJSON(TileGrid.self, ctx, "grid")
                }
                var image: Image
                do { image = try FITS.read(try ctx.input("frame")) } catch {
                    throw StepError.badArtifact(node: ctx.name, message: "registered frame of \(file) unreadable: \(error)")
                }
                guard image.width == grid.width, image.height == grid.height else {
                    throw MetricsError.sizeMismatch(file: file, width: image.width, height: image.height,
                                                    expectedWidth: grid.width, expectedHeight: grid.height)
                }
                guard measure.channels.count == image.channels else {
                    throw MetricsError.inconsistent(node: ctx.name, message: "\(file) has \(image.channels) planes "
                                                    + "but its measurement \(measure.channels.count)")
                }
                let n = image.planeSize
                image.pixels.withUnsafeMutableBufferPointer { all in
                    for (c, ch) in measure.channels.enumerated() {
                        let scale = Float(1 / ch.background)
                        for i in (c * n)..<((c + 1) * n) { all[i] *= scale }
                    }
                }
                let tiles = LocalMetrics.measure(luminance: Measure.luminance(image), stars: measure.stars, grid: grid)
                try ctx.writeOutput("local", LocalMetricsFile(tiles: tiles).encoded())
            })
        }
    }
}
