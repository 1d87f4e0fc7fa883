import Foundation
import Graph
import Imaging

/// Parameters of `measure/NNNNN`. Key paths mirror the config (`normalization.mode`,
/// `registration.star_threshold_sigma`), so explain names the config key that changed.
public struct MeasureParams: Codable, Sendable, Equatable {
    /// `registration.star_threshold_sigma`, the only registration key the measurement reads.
    public struct Detection: Codable, Sendable, Equatable {
        /// Star detection threshold in background sigmas.
        public var starThresholdSigma: Double
        /// A detection section.
        public init(starThresholdSigma: Double) { self.starThresholdSigma = starThresholdSigma }
        enum CodingKeys: String, CodingKey { case starThresholdSigma = "star_threshold_sigma" }
    }
    /// `normalization.*`.
    public var normalization: TCConfig.NormalizationSection
    /// `registration.star_threshold_sigma`.
    public var registration: Detection
    /// Raw saturation level of the camera (from the frames' BITPIX: 255 for 8 bit, 65535 for 16 bit;
    /// nil for float frames, which disables saturation flags).
    public var saturation: Double?

    /// Parameters from `config` and the scanned frames.
    public init(config: TCConfig, frames: FrameList) {
        normalization = config.normalization
        registration = Detection(starThresholdSigma: config.registration.starThresholdSigma)
        switch frames.frames.first?.bitpix {
        case 8: saturation = 255
        case 16: saturation = 65535
        default: saturation = nil
        }
    }
}

extension PipelineBuilder {
    /// Code version of `measure/NNNNN`; bump when the measurement changes (2: the fitted stars are
    /// bounded by `Measure.fitSpread`, B_f and sigma_f from a 1-in-4 subsample, faster PSF fits).
    public static let measureVersion = 2

    /// Adds `measure/NNNNN` for every frame: reads `register/NNNNN#frame` once, normalizes each channel
    /// (phase 2), measures B, sigma, E per channel and the stars on the normalized luminance, and
    /// writes the `measure` JSON (`FrameMeasurement`).
    public mutating func addMeasure() throws {
        let params = MeasureParams(config: config, frames: frames)
        let width = frames.width, height = frames.height
        for f in frames.frames {
            let file = f.name  // for messages only; not part of the fingerprint
            add(Node(name: NodeName.frame("measure", f.index), kind: "measure", version: Self.measureVersion,
                     params: params, inputs: ["frame": .node(NodeName.frame("register", f.index), output: "frame")],
                     outputs: ["measure"]) { ctx in
                let p = try ctx.params(MeasureParams.self)
                let path = try ctx.input("frame")
                let image: Image
                do { image = try FITS.read(path) } catch {
                    throw StepError.badArtifact(node: ctx.name, message: "registered frame of \(file) unreadable: \(error)")
                }
                guard image.width == width, image.height == height else {
                    throw MetricsError.sizeMismatch(file: file, width: image.width, height: image.height,
                                                    expectedWidth: width, expectedHeight: height)
                }
                let m = try Measure.measure(image, mode: p.normalization.mode,
                                            thresholdSigma: p.registration.starThresholdSigma,
                                            saturation: p.saturation, file: file)
                try Artifacts.writeJSON(m, ctx, "measure")
            })
        }
    }

    /// Adds every node of phases 2-5: `measure/NNNNN`, `metrics`, `tiles/geometry`, `local/NNNNN` and
    /// `tiles/metrics`, and materializes `frame_metrics.csv`, `tiles/grid.json` and
    /// `tiles/tile_weights.csv`. Needs `register/NNNNN` (outputs `frame`, `transform`) in the graph.
    public mutating func addMetrics() throws {
        try addMeasure()
        try addGlobalMetrics()
        try addTileGeometry()
        try addLocalMetrics()
        try addTileMetrics()
    }
}
