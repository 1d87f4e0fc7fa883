import Foundation
import Graph
import Imaging

/// Phase 1, star detection: `stars/NNNNN` per input frame (output `stars`, `[StarMeasurement]` in raw
/// frame coordinates as a `StarListBinary` list; on mono frames of the relative engine also `field`,
/// the stars `measure/NNNNN` uses, the same format).
public struct StarsStep: PipelineStep {
    public var name: String { "stars" }
    public var summary: String { "detect and fit the stars of every input frame (registration's star lists)" }
    public var prerequisites: [String] { [NodeName.scan] }
    public var configSections: [String] { ["registration"] }
    public var stage: StepStage { .registration }
    public var nodes: [String] { [NodeName.pattern(NodeName.stars(0))] }

    public func add(to builder: inout PipelineBuilder) throws {
        for f in builder.frames.frames {
            var params = StarListParams(config: builder.config, bayer: f.bayer, saturation: builder.frames.saturation)
            if Measure.usesFieldStars(config: builder.config, frame: f) { params.field = Measure.fieldOptions }
            builder.add(Self.node(name: NodeName.stars(f.index), file: f.path, params: params))
        }
    }

    /// Code version of `stars/NNNNN` (2: fits only the 1.5 x `maxStars` highest-peak candidates, on
    /// stamps of radius <= 8 px, noise from a 1-in-4 subsample; 3: line-like candidates, i.e. trail
    /// segments, are dropped before the fit budget; 4: fits drifting more than 2 px from the centroid
    /// abandoned at that step, the background map clipped on a 1-in-4 grid sample of each box, the fits'
    /// `exp` from `FastMath.expFit`; 5: the noise mask's clipping threshold from at most 2^16 samples;
    /// 6: Gaussian PSF fits steered by Float32 normal equations, `PSFGaussianPasses`, values move ~1e-6;
    /// 7: the `cosmetic` output, the correction as a `PixelPatch` for the registration; 8: the noise
    /// mask's clipping threshold from at most 2^14 samples; 9: PSF fits stop at a relative cost gain of
    /// 1e-5, `PSFFitOptions`; 10: the `field` output, `measure/NNNNN`'s stars fitted from the same
    /// candidates, on mono frames of the relative engine; `stars` unchanged; 11: `stars` as a binary
    /// list, `StarListArtifact`, same values; 12: the Gaussian fits' passes eight pixels per step, the
    /// cost from Float32 residuals (compensated sums) kept for the normal equations, `PSFGaussianPasses`:
    /// on 8 demo and 8 dense frames the fitted values move by a median 1e-6 and at most 2e-2 of their
    /// statistical errors, `residualRMS` by ~1e-6 relative).
    public static let version = 12

    /// A star-detection node `name` on `file` (kind `stars`, version `version`, outputs `stars`,
    /// `cosmetic`: the cosmetic correction of the raw frame as a `PixelPatch`, empty when
    /// `registration.cosmetic_correction` is off, and with `params.field` `field`: the field list,
    /// `StarListBinary`, raw frame coordinates).
    static func node(name: String, file: String, params: StarListParams) -> Node {
        Node(name: name, kind: "stars", version: Self.version, params: params, inputs: ["frame": .file(file)],
             outputs: params.field == nil ? ["stars", "cosmetic"] : ["stars", "cosmetic", "field"], group: "stars") { ctx in
            let p = try ctx.params(StarListParams.self)
            let path = try ctx.input("frame")
            let image: Image
            do { image = try FITS.read(path) } catch {
                throw StepError.unreadable(file: (path as NSString).lastPathComponent, message: "\(error)")
            }
            let (stars, field, patch) = try StarList.detectWithField(in: image, params: p, file: (path as NSString).lastPathComponent)
            ctx.log("\(stars.count) stars, median FWHM \(String(format: "%.2f", StarList.medianFWHM(stars))) px"
                    + (field.map { ", field \($0.count) stars" } ?? ""))
            try StarListArtifact.write(stars, ctx, "stars")
            try ctx.writeOutput("cosmetic", patch.encoded())
            if p.field != nil { try StarListArtifact.write(field ?? [], ctx, "field") }
        }
    }
}
