import Foundation
import Graph
import Imaging

/// A TAN WCS in a Codable form (CD matrix in degrees per pixel, CRPIX 1-based as in the header).
public struct WCSRecord: Codable, Sendable, Equatable {
    /// CRVAL1, CRVAL2 (degrees).
    public var crval: [Double]
    /// CRPIX1, CRPIX2 (1-based, as written in the header).
    public var crpix: [Double]
    /// CD1_1, CD1_2, CD2_1, CD2_2.
    public var cd: [Double]

    /// The record of `wcs`.
    public init(_ wcs: TANWCS) {
        crval = [wcs.crval1, wcs.crval2]
        crpix = [wcs.crpix1, wcs.crpix2]
        cd = wcs.cd
    }

    /// The WCS this record describes.
    public var wcs: TANWCS { TANWCS(crval1: crval[0], crval2: crval[1], crpix1: crpix[0], crpix2: crpix[1], cd: cd) }
}

/// The `reference` node's output: which frame defines the reference geometry, and what
/// registration needs of it.
public struct ReferenceInfo: Codable, Sendable, Equatable {
    /// How it was chosen: `auto`, `index` or `path`.
    public var choice: String
    /// Index of the reference frame in the frame list (nil for a path reference).
    public var index: Int?
    /// The configured path (relative to the workspace, as written) for a path reference.
    public var path: String?
    /// Its stars (raw reference pixel coordinates, brightest first).
    public var stars: [StarMeasurement]
    /// Reference geometry width (registered frames have this width).
    public var width: Int
    /// Reference geometry height.
    public var height: Int
    /// Median FWHM of its stars (px): the auto score's second criterion.
    public var medianFWHM: Double
    /// Its TAN WCS (only filled for `registration.engine: wcs_anchor`).
    public var wcs: WCSRecord?
}

/// Params of the `reference` node.
public struct ReferenceParams: Codable, Sendable, Equatable {
    /// `registration.reference` as configured.
    public var reference: ReferenceFrame
    /// Series width and height (the reference geometry for an index or auto reference).
    public var width: Int
    /// See `width`.
    public var height: Int
    /// Whether the reference's WCS is read (wcs_anchor engine).
    public var needsWCS: Bool
    /// Auto choice: frames with at least this fraction of the best star count compete on FWHM.
    public var minStarFraction: Double

    enum CodingKeys: String, CodingKey {
        case reference = "registration.reference"
        case width = "width"
        case height = "height"
        case needsWCS = "needs_wcs"
        case minStarFraction = "min_star_fraction"
    }
}

/// The auto reference choice.
public enum ReferenceChoice {
    /// Index (into `candidates`) of the best reference: among star lists with at least
    /// `minStarFraction` of the largest star count, the one with the smallest median FWHM; ties go
    /// to more stars, then the lower index. Nil for an empty list. A frame with no stars never wins
    /// unless every frame has none.
    public static func best(_ candidates: [[StarMeasurement]], minStarFraction: Double = 0.5) -> Int? {
        best(summaries: candidates.map { Summary(count: $0.count, fwhm: StarList.medianFWHM($0)) }, minStarFraction: minStarFraction)
    }

    /// What `best` looks at in a star list: its length and median FWHM.
    struct Summary: Sendable {
        var count: Int
        var fwhm: Double
    }

    /// `best` from the lists' summaries (so a node can choose without holding every list).
    static func best(summaries: [Summary], minStarFraction: Double) -> Int? {
        guard !summaries.isEmpty else { return nil }
        let maxCount = summaries.map(\.count).max() ?? 0
        let floor = max(1, Int((Double(maxCount) * minStarFraction).rounded(.up)))
        var best: (i: Int, fwhm: Double, count: Int)? = nil
        for (i, s) in summaries.enumerated() where s.count >= floor || maxCount == 0 {
            let f = s.fwhm
            if let b = best {
                if f < b.fwhm || (f == b.fwhm && s.count > b.count) { best = (i, f, s.count) }
            } else {
                best = (i, f, s.count)
            }
        }
        return best?.i ?? 0
    }
}

extension ReferenceChoice {
    /// The `reference` node's action.
    static func run(_ ctx: NodeContext) throws -> ReferenceInfo {
        let p = try ctx.params(ReferenceParams.self)
        func wcs(of input: String) throws -> WCSRecord? {
            guard p.needsWCS else { return nil }
            let path = try ctx.input(input)
            let name = (path as NSString).lastPathComponent
            let header: FITSHeader
            do { header = try FITS.readHeader(path) } catch { throw StepError.unreadable(file: name, message: "\(error)") }
            guard let w = header.wcs else {
                throw StepError.registrationFailed(file: name, message: "the reference frame has no TAN WCS in its header (CTYPEi RA---TAN/DEC--TAN, CRVALi, CRPIXi, CDi_j); plate-solve the frames or use registration.engine: relative")
            }
            return WCSRecord(w)
        }
        switch p.reference {
        case .auto, .index:
            let names = ctx.inputNames.filter { $0.hasPrefix("stars") }
            // Every frame's star list, read on the node's threads (this node is a barrier between star
            // detection and registration) and summarized: the lists are not held (memory flat in the
            // frame count); the chosen one is read again.
            let summaries = try Parallel.map(names.count, threads: ctx.threads) { i in
                Result { () throws -> Summary in
                    let s = try StarListArtifact.read(ctx, names[i])
                    return Summary(count: s.count, fwhm: StarList.medianFWHM(s))
                }
            }.map { try $0.get() }
            guard let best = ReferenceChoice.best(summaries: summaries, minStarFraction: p.minStarFraction) else {
                throw StepError.badConfig(key: "registration.reference", message: "no frames to choose a reference from")
            }
            let digits = String(names[best].dropFirst("stars".count))
            let index = Int(digits) ?? 0
            let stars = try StarListArtifact.read(ctx, names[best])
            ctx.log("reference: frame \(index) (\(stars.count) stars, median FWHM \(String(format: "%.2f", StarList.medianFWHM(stars))) px)")
            return ReferenceInfo(choice: p.reference == .auto ? "auto" : "index", index: index, path: nil, stars: stars,
                                 width: p.width, height: p.height, medianFWHM: StarList.medianFWHM(stars),
                                 wcs: try wcs(of: "frame" + digits))
        case .path(let configured):
            let stars = try StarListArtifact.read(ctx, "starsref")
            let path = try ctx.input("frameref")
            let header: FITSHeader
            do { header = try FITS.readHeader(path) } catch {
                throw StepError.unreadable(file: configured, message: "\(error)")
            }
            return ReferenceInfo(choice: "path", index: nil, path: configured, stars: stars, width: header.width,
                                 height: header.height, medianFWHM: StarList.medianFWHM(stars), wcs: try wcs(of: "frameref"))
        }
    }
}
