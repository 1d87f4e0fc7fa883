import Foundation
import Graph
import Imaging

/// Phase 1, registration: for the siril engine `siril/register` (one siril-cli run over the series),
/// then `register/NNNNN` per frame (outputs `frame`, float32 FITS in the reference geometry, and
/// `transform`), every registered frame materialized at `registration.output_dir/` +
/// `registration.registered_filename_pattern`.
public struct RegisterStep: PipelineStep {
    public var name: String { "register" }
    public var summary: String { "register every frame on the reference (transform, Lanczos-3 warp with NaN coverage)" }
    public var prerequisites: [String] { ["stars", NodeName.reference] }
    public var configSections: [String] { ["registration"] }
    public var stage: StepStage { .registration }
    public var nodes: [String] { [NodeName.sirilRegister, NodeName.pattern(NodeName.register(0))] }
    public var arguments: [String: String] {
        ["engine": "registration.engine", "reference": "registration.reference", "interpolation": "registration.interpolation"]
    }
    public var frameWrite: ProcessDescription.FrameWrite? {
        .init(directoryKey: "registration.output_dir", pattern: "registration.registered_filename_pattern")
    }
    public var defaultDirectives: [String] {
        ["STEP register engine=registration.engine reference=registration.reference",
         "WRITE registration.output_dir/registration.registered_filename_pattern",
         "LOAD_FRAMES_FROM_DIR registration.output_dir"]
    }

    /// Code version of `register/NNNNN` (2: the relative engine retries (`Registration.attempts`);
    /// frames with doubled or trailed stars are not registered (`Registration.starShapeProblem`); 3:
    /// Lanczos-3 samples whose taps are all inside the frame are summed in single precision; 4: Lanczos-3
    /// in two 1-D passes, `WarpKernel.twoPass`; 5: the direct 2-D kernel, near +-90 degrees, all in
    /// double precision again; 6: the retry's star detection fits with the Float32-steered Gaussian
    /// PSF fit, `PSFGaussianPasses`; 7: the cosmetic correction is `stars/NNNNN#cosmetic` applied, not
    /// computed again: same pixels; 8: the first attempt takes the first triangle hypothesis that
    /// matches half of its 50 stars, `AsterismMatchOptions.acceptFraction`; 9: the two-pass warp's
    /// interior samples at positions rounded to 1/2048 px with tabulated weights, `WarpKernel.lanczosGrid8`,
    /// eight output columns at a time).
    public static let version = 9

    /// Adds `siril/register` for the siril engine and `register/NNNNN` per frame.
    ///
    /// - Throws: `StepError.badConfig` for a reference index outside the series, an unreadable
    ///   reference path, or a path reference with the siril engine.
    public func add(to builder: inout PipelineBuilder) throws {
        let reg = builder.config.registration
        if reg.engine == .siril {
            if case .path = reg.reference {
                throw StepError.badConfig(key: "registration.reference",
                                          message: "the siril engine registers against a frame of the series; use auto or a frame index, or registration.engine: relative")
            }
            builder.add(Self.sirilNode(builder))
        }
        for f in builder.frames.frames {
            let name = NodeName.register(f.index)
            var inputs: [String: InputSource] = [
                "frame": .file(f.path),
                "stars": .node(NodeName.stars(f.index), output: "stars"),
                "reference": .node(NodeName.reference, output: "reference"),
            ]
            if reg.engine == .siril { inputs["siril"] = .node(NodeName.sirilRegister, output: "transforms") }
            if reg.cosmeticCorrection { inputs["cosmetic"] = .node(NodeName.stars(f.index), output: "cosmetic") }
            let params = RegisterParams(engine: reg.engine, interpolation: reg.interpolation,
                                        minStarMatches: reg.minStarMatches, bayer: f.bayer,
                                        sirilIndex: reg.engine == .siril ? f.index : nil,
                                        cosmeticCorrection: reg.cosmeticCorrection, debayer: f.bayer != nil ? reg.debayer : nil,
                                        stars: reg.engine == .relative
                                            ? StarListParams(config: builder.config, bayer: f.bayer, saturation: builder.frames.saturation) : nil)
            builder.add(Node(name: name, kind: "register.\(reg.engine.rawValue)", version: Self.version, params: params,
                     inputs: inputs, outputs: ["frame", "transform"], group: "register") { ctx in
                try Registration.run(ctx)
            })
            if let path = builder.process.framePath(step: self.name, index: f.index, config: builder.config) {
                builder.materialize(name, "frame", at: path)
            }
        }
    }

    /// Adds `siril/register`: one siril-cli run over every frame.
    static func sirilNode(_ builder: PipelineBuilder) -> Node {
        var inputs: [String: InputSource] = [:]
        for f in builder.frames.frames { inputs["frame\(String(format: "%05d", f.index))"] = .file(f.path) }
        let params = SirilParams(registration: builder.config.registration, bayer: builder.frames.bayer,
                                 height: builder.frames.height, width: builder.frames.width)
        return Node(name: NodeName.sirilRegister, kind: "siril.register", version: 1, params: params, inputs: inputs,
                 outputs: ["transforms", "log"], group: "register") { ctx in
            try Registration.runSiril(ctx)
        }
    }
}
