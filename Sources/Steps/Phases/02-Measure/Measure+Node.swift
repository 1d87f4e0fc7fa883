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
    /// The series' saturation level, raw ADU (`data.saturation_level` as the scan resolved it:
    /// `FrameList.saturation`); nil disables saturation flags.
    public var saturation: Double?
    /// true: the stars are `stars/NNNNN#field` mapped through `register/NNNNN#transform`
    /// (`Measure.usesFieldStars`); nil: detected on the registered frame. Not encoded when nil.
    public var fieldStars: Bool?

    enum CodingKeys: String, CodingKey {
        case normalization, registration
        case saturation = "data.saturation_level"
        case fieldStars = "field_stars"
    }

    /// Parameters from `config` and the scanned frames.
    public init(config: TCConfig, frames: FrameList) {
        normalization = config.normalization
        registration = Detection(starThresholdSigma: config.registration.starThresholdSigma)
        saturation = frames.saturation?.adu
    }
}

public struct MeasureStep: PipelineStep {
    public var name: String { "measure" }
    public var summary: String { "normalize every registered frame by its background (phase 2) and measure B, sigma, E and its stars" }
    public var prerequisites: [String] { ["register"] }
    public var configSections: [String] { ["normalization", "registration"] }
    public var nodes: [String] { [NodeName.pattern(NodeName.measure(0))] }

    /// Code version of `measure/NNNNN`; bump when the measurement changes (2: the fitted stars are
    /// bounded by `Measure.fitSpread`, B_f and sigma_f from a 1-in-4 subsample, faster PSF fits; 3: the
    /// saturation flags look at the input frame's raw pixels through the registration transform; 4: each
    /// star keeps its PSF flux, for the frames' flux scale; 5: a PSF fit whose centre drifts more than
    /// 2 px from the centroid is abandoned at that step, `PSFFitOptions.maxDrift`; `FastMath.expFit`; 6: the
    /// detection map clipped on a 1-in-4 grid sample of each box, masks' thresholds from <= 2^16 samples;
    /// 7: Gaussian PSF fits steered by Float32 normal equations, `PSFGaussianPasses`, values move ~1e-6; 8: the detection noise outside the normalization's star mask, no second clip and mask;
    /// 9: the star mask's threshold from <= 2^14 clip samples; 10: PSF fits stop at a relative cost
    /// gain of 1e-5, `PSFFitOptions`; 11: on mono frames of the relative engine the stars are
    /// `stars/NNNNN#field` (fitted on the input frame) mapped into the registered frame, not detected again).
    public static let version = 11

    /// Adds `measure/NNNNN` for every frame: reads `register/NNNNN#frame` once, normalizes each channel
    /// (phase 2), measures B, sigma, E per channel and the stars on the normalized luminance, and
    /// writes the `measure` JSON (`FrameMeasurement`). With a saturation level it also reads the input
    /// frame and `register/NNNNN#transform`: a star is flagged saturated from the raw pixels at its
    /// centre (resampling lowers a one-pixel flat top below the level in the registered frame).
    /// On mono frames of the relative engine (`Measure.usesFieldStars`: their `stars/NNNNN` has a
    /// `field` output) the stars are not detected again: the node reads `stars/NNNNN#field` and
    /// `register/NNNNN#transform` and maps them (`Measure.stars(field:luminance:background:)`); no raw frame.
    public func add(to builder: inout PipelineBuilder) throws {
        let width = builder.frames.width, height = builder.frames.height
        let fields = Set(builder.nodes.filter { $0.kind == "stars" && $0.outputs.contains("field") }.map(\.name))
        for f in builder.frames.frames {
            let file = f.name  // for messages only; not part of the fingerprint
            var params = MeasureParams(config: builder.config, frames: builder.frames)
            var inputs: [String: InputSource] = ["frame": .node(NodeName.register(f.index), output: "frame")]
            if fields.contains(NodeName.stars(f.index)) {
                params.fieldStars = true
                inputs["field"] = .node(NodeName.stars(f.index), output: "field")
                inputs["transform"] = .node(NodeName.register(f.index), output: "transform")
            } else if params.saturation != nil {
                inputs["raw"] = .file(f.path)
                inputs["transform"] = .node(NodeName.register(f.index), output: "transform")
            }
            builder.add(Node(name: NodeName.measure(f.index), kind: "measure", version: Self.version,
                     params: params, inputs: inputs, outputs: ["measure"]) { ctx in
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
                var sensor: Measure.SensorFrame?
                var field: Measure.FieldStars?
                if p.fieldStars == true {
                    let stars = try StarListArtifact.read(ctx, "field")
                    let r = try Artifacts.readJSON(RegistrationResult.self, ctx, "transform")
                    field = Measure.FieldStars(stars: stars, transform: r.transform)
                } else if p.saturation != nil {
                    let raw: Image
                    do { raw = try FITS.read(try ctx.input("raw")) } catch {
                        throw StepError.unreadable(file: file, message: "\(error)")
                    }
                    let r = try Artifacts.readJSON(RegistrationResult.self, ctx, "transform")
                    sensor = Measure.SensorFrame(image: raw, transform: r.transform)
                }
                let m = try Measure.measure(image, mode: p.normalization.mode,
                                            thresholdSigma: p.registration.starThresholdSigma,
                                            saturation: p.saturation, sensor: sensor, field: field, file: file)
                try Artifacts.writeJSON(m, ctx, "measure")
            })
        }
    }
}
