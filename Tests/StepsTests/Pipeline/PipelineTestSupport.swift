import Foundation
@testable import Graph
@testable import Imaging
@testable import Steps

/// Shared fixtures of the pipeline tests.
enum PipelineFixture {
    /// The `FrameList` of the frame files at `paths` (headers read back, as the scan would).
    static func frameList(_ paths: [String]) throws -> FrameList {
        FrameList(frames: try paths.enumerated().map { k, path in
            let h = try FITS.readHeader(path)
            return FrameInfo(index: k, path: path, properties: FrameProperties(header: h))
        })
    }

    /// The frame paths of a series written to `directory` by `SynthSeries.write`.
    static func seriesPaths(_ directory: String, count: Int) -> [String] {
        (0..<count).map { directory + "/" + SynthSeries.framePath($0) }
    }
}

extension PipelineBuilder {
    /// Phases 2-5: `measure/NNNNN`, `metrics`, `tiles/geometry`, `local/NNNNN`, `tiles/metrics`.
    mutating func addMetrics() throws {
        try add(MeasureStep(), GlobalMetricsStep(), TileGeometryStep(), LocalMetricsStep(), TileMetricsStep())
    }

    /// A stand-in for registration: `register/NNNNN` copies the raw frame as float32 (for series
    /// generated without rotation) and writes a transform record with zero matches.
    mutating func addCopyRegistration() {
        for f in frames.frames {
            add(Node(name: NodeName.register(f.index), kind: "test.register.copy", version: 1,
                     params: EmptyParams(), inputs: ["raw": .file(f.path)], outputs: ["frame", "transform"]) { ctx in
                try Artifacts.writeImage(try FITS.read(try ctx.input("raw")), ctx, "frame")
                try Artifacts.writeText(#"{"matches":0,"residualRMS":0,"starCount":0}"#, ctx, "transform")
            })
        }
    }
}
