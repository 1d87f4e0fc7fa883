import Foundation
import Graph
import Imaging

/// Phase 1, the reference frame: `reference` (output `reference`, JSON `ReferenceInfo`), and
/// `stars/ref` for a reference given as a path.
public struct ReferenceStep: PipelineStep {
    public var name: String { NodeName.reference }
    public var summary: String { "choose the reference frame (auto: best median FWHM with enough stars; an index; a path)" }
    public var prerequisites: [String] { ["stars"] }
    public var configSections: [String] { ["registration"] }
    public var stage: StepStage { .registration }
    public var nodes: [String] { [NodeName.reference, NodeName.starsReference] }

    /// Adds the `reference` node (and `stars/ref` for a path reference).
    ///
    /// Inputs: `auto` -> every `stars/NNNNN`; an index -> only that frame's `stars/NNNNN` (adding
    /// frames does not change it); a path -> `stars/ref` on that file plus the file (for its size).
    /// With the wcs_anchor engine the candidate frame files are inputs too (their WCS is read).
    public func add(to builder: inout PipelineBuilder) throws {
        let reg = builder.config.registration, frames = builder.frames
        let needsWCS = reg.engine == .wcsAnchor
        var inputs: [String: InputSource] = [:]
        switch reg.reference {
        case .auto:
            for f in frames.frames {
                inputs["stars\(String(format: "%05d", f.index))"] = .node(NodeName.stars(f.index), output: "stars")
                if needsWCS { inputs["frame\(String(format: "%05d", f.index))"] = .file(f.path) }
            }
        case .index(let n):
            guard let f = frames.frames.first(where: { $0.index == n }) else {
                throw StepError.badConfig(key: "registration.reference",
                                          message: "frame index \(n) does not exist (the series has \(frames.frames.count) frames, 0...\(max(0, frames.frames.count - 1))); use auto or a valid index")
            }
            inputs["stars\(String(format: "%05d", n))"] = .node(NodeName.stars(n), output: "stars")
            if needsWCS { inputs["frame\(String(format: "%05d", n))"] = .file(f.path) }
        case .path(let p):
            let abs = p.hasPrefix("/") ? p : (builder.workspace as NSString).appendingPathComponent(p)
            let header: FITSHeader
            do { header = try FITS.readHeader(abs) } catch {
                throw StepError.badConfig(key: "registration.reference",
                                          message: "cannot read the reference frame \(abs): \(error); give a FITS file relative to the workspace, an index, or auto")
            }
            let bayer = header.bayerPattern
            builder.add(StarsStep.node(name: NodeName.starsReference, file: abs,
                                       params: StarListParams(config: builder.config, bayer: bayer, saturation: builder.frames.saturation)))
            inputs["starsref"] = .node(NodeName.starsReference, output: "stars")
            inputs["frameref"] = .file(abs)
        }
        let params = ReferenceParams(reference: reg.reference, width: frames.width, height: frames.height,
                                     needsWCS: needsWCS, minStarFraction: 0.5)
        builder.add(Node(name: NodeName.reference, kind: "reference", version: 1, params: params, inputs: inputs,
                 outputs: ["reference"]) { ctx in
            try Artifacts.writeJSON(try ReferenceChoice.run(ctx), ctx, "reference")
        })
    }

}
