import Foundation
import Graph
import Imaging

/// The wcs_anchor engine: transforms from the frames' plate solutions instead of star matching.
public enum WCSAnchor {
    /// Reference -> frame similarity from two TAN solutions: a 9 x 9 grid of reference pixels
    /// spanning `width` x `height` goes reference pixel -> (RA, Dec) -> frame pixel, and the
    /// least-squares similarity (Umeyama, `SimilarityTransform.estimate`) is fitted to the pairs.
    /// Returns the transform, the fit's RMS residual (px; non-zero only when the two projections
    /// differ by more than a similarity, e.g. different tangent points far apart) and the point count.
    /// Nil when fewer than 3 grid points project into the frame's tangent plane.
    public static func transform(reference: TANWCS, frame: TANWCS, width: Int, height: Int)
        -> (transform: SimilarityTransform, residualRMS: Double, points: Int)? {
        var src: [SIMD2<Double>] = [], dst: [SIMD2<Double>] = []
        let n = 9
        for j in 0..<n {
            for i in 0..<n {
                let x = Double(i) / Double(n - 1) * Double(max(1, width - 1))
                let y = Double(j) / Double(n - 1) * Double(max(1, height - 1))
                let w = reference.pixelToWorld(x: x, y: y)
                guard let q = frame.worldToPixel(ra: w.ra, dec: w.dec), q.x.isFinite, q.y.isFinite else { continue }
                src.append(SIMD2(x, y))
                dst.append(SIMD2(q.x, q.y))
            }
        }
        guard src.count >= 3, let t = try? SimilarityTransform.estimate(source: src, target: dst) else { return nil }
        return (t, t.residualRMS(source: src, target: dst), src.count)
    }
}

extension Registration {
    /// wcs_anchor for one frame: its header's TAN WCS against the reference's (recorded by the
    /// `reference` node).
    /// - Throws: `StepError.registrationFailed` naming the frame when it has no usable WCS.
    static func wcsTransform(path: String, reference: ReferenceInfo, starCount: Int, file: String) throws -> RegistrationResult {
        guard let refWCS = reference.wcs?.wcs else {
            throw StepError.badArtifact(node: NodeName.reference, message: "no WCS recorded for the wcs_anchor engine")
        }
        let header: FITSHeader
        do { header = try FITS.readHeader(path) } catch { throw StepError.unreadable(file: file, message: "\(error)") }
        guard let frameWCS = header.wcs else {
            throw StepError.registrationFailed(file: file, message: "registration.engine is wcs_anchor but the frame has no TAN WCS in its header "
                + "(CTYPEi RA---TAN/DEC--TAN, CRVALi, CRPIXi, CDi_j or CDELTi); plate-solve every frame or use registration.engine: relative")
        }
        guard let fit = WCSAnchor.transform(reference: refWCS, frame: frameWCS, width: reference.width, height: reference.height) else {
            throw StepError.registrationFailed(file: file, message: "its WCS does not overlap the reference's (the fields are 90 degrees or more apart); check the plate solution")
        }
        return RegistrationResult(transform: fit.transform, residualRMS: fit.residualRMS, matches: fit.points,
                                  starCount: starCount, engine: "wcs_anchor")
    }
}
