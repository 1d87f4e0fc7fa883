import Foundation

/// A gnomonic (TAN) world coordinate system: pixel <-> (RA, Dec) in degrees.
///
/// Pixel coordinates here are **0-based** like `Image` (x = 0 is the centre of the first column);
/// the FITS 1-based convention is handled internally (`CRPIX` is stored as written in the header).
/// SIP distortion terms (`RA---TAN-SIP`) are ignored: the linear TAN part only.
public struct TANWCS: Sendable, Equatable {
    /// CRVAL1: right ascension of the reference point, degrees.
    public var crval1: Double
    /// CRVAL2: declination of the reference point, degrees.
    public var crval2: Double
    /// CRPIX1: 1-based FITS x of the reference point.
    public var crpix1: Double
    /// CRPIX2: 1-based FITS y of the reference point.
    public var crpix2: Double
    /// Linear transform, degrees per pixel: [CD1_1, CD1_2, CD2_1, CD2_2].
    public var cd: [Double]

    /// A WCS from explicit values (CD in degrees per pixel, row-major `[cd11, cd12, cd21, cd22]`).
    public init(crval1: Double, crval2: Double, crpix1: Double, crpix2: Double, cd: [Double]) {
        precondition(cd.count == 4, "CD matrix needs 4 elements")
        self.crval1 = crval1
        self.crval2 = crval2
        self.crpix1 = crpix1
        self.crpix2 = crpix2
        self.cd = cd
    }

    /// A WCS from CDELT1/2 (degrees per pixel) and CROTA2 (degrees), as in the AIPS convention.
    public init(crval1: Double, crval2: Double, crpix1: Double, crpix2: Double,
                cdelt1: Double, cdelt2: Double, crota2: Double) {
        let r = crota2 * .pi / 180
        self.init(crval1: crval1, crval2: crval2, crpix1: crpix1, crpix2: crpix2,
                  cd: [cdelt1 * cos(r), -cdelt2 * sin(r), cdelt1 * sin(r), cdelt2 * cos(r)])
    }

    /// Parses header keywords. Returns nil unless CTYPE1/CTYPE2 name a TAN projection, CRVAL1/2 and
    /// CRPIX1/2 exist, and the CD matrix is given (CDi_j, else CDELTi with PCi_j or CROTA2) and invertible.
    init?(keywords k: [String: FITSValue]) {
        guard let t1 = k["CTYPE1"]?.stringValue, let t2 = k["CTYPE2"]?.stringValue,
              t1.hasPrefix("RA--"), t2.hasPrefix("DEC-"), t1.contains("-TAN"), t2.contains("-TAN"),
              let v1 = k["CRVAL1"]?.doubleValue, let v2 = k["CRVAL2"]?.doubleValue,
              let p1 = k["CRPIX1"]?.doubleValue, let p2 = k["CRPIX2"]?.doubleValue else { return nil }
        let cdKeys = ["CD1_1", "CD1_2", "CD2_1", "CD2_2"]
        if cdKeys.contains(where: { k[$0] != nil }) {
            let m = cdKeys.map { k[$0]?.doubleValue ?? 0 }
            self.init(crval1: v1, crval2: v2, crpix1: p1, crpix2: p2, cd: m)
        } else if let d1 = k["CDELT1"]?.doubleValue, let d2 = k["CDELT2"]?.doubleValue {
            let pcKeys = ["PC1_1", "PC1_2", "PC2_1", "PC2_2"]
            if pcKeys.contains(where: { k[$0] != nil }) {
                let pc = [k["PC1_1"]?.doubleValue ?? 1, k["PC1_2"]?.doubleValue ?? 0,
                          k["PC2_1"]?.doubleValue ?? 0, k["PC2_2"]?.doubleValue ?? 1]
                self.init(crval1: v1, crval2: v2, crpix1: p1, crpix2: p2,
                          cd: [d1 * pc[0], d1 * pc[1], d2 * pc[2], d2 * pc[3]])
            } else {
                self.init(crval1: v1, crval2: v2, crpix1: p1, crpix2: p2, cdelt1: d1, cdelt2: d2,
                          crota2: k["CROTA2"]?.doubleValue ?? 0)
            }
        } else {
            return nil
        }
        if determinant == 0 || !determinant.isFinite { return nil }
    }

    private var determinant: Double { cd[0] * cd[3] - cd[1] * cd[2] }

    /// Pixel scale in arcseconds per pixel (square root of |det CD|).
    public var pixelScaleArcsec: Double { sqrt(abs(determinant)) * 3600 }

    /// (RA, Dec) in degrees of 0-based pixel (x, y). RA is normalized to [0, 360).
    public func pixelToWorld(x: Double, y: Double) -> (ra: Double, dec: Double) {
        let dx = x + 1 - crpix1, dy = y + 1 - crpix2
        let xi = (cd[0] * dx + cd[1] * dy) * .pi / 180
        let eta = (cd[2] * dx + cd[3] * dy) * .pi / 180
        let ra0 = crval1 * .pi / 180, dec0 = crval2 * .pi / 180
        let denom = cos(dec0) - eta * sin(dec0)
        let ra = ra0 + atan2(xi, denom)
        let dec = atan2(sin(dec0) + eta * cos(dec0), (xi * xi + denom * denom).squareRoot())
        var raDeg = ra * 180 / .pi
        raDeg = raDeg.truncatingRemainder(dividingBy: 360)
        if raDeg < 0 { raDeg += 360 }
        return (raDeg, dec * 180 / .pi)
    }

    /// 0-based pixel (x, y) of (RA, Dec) in degrees; nil when the point is 90 degrees or more from
    /// the reference point (it has no gnomonic projection).
    public func worldToPixel(ra: Double, dec: Double) -> (x: Double, y: Double)? {
        let a = ra * .pi / 180, d = dec * .pi / 180
        let a0 = crval1 * .pi / 180, d0 = crval2 * .pi / 180
        let cosc = sin(d0) * sin(d) + cos(d0) * cos(d) * cos(a - a0)
        guard cosc > 0 else { return nil }
        let xi = cos(d) * sin(a - a0) / cosc * 180 / .pi
        let eta = (cos(d0) * sin(d) - sin(d0) * cos(d) * cos(a - a0)) / cosc * 180 / .pi
        let det = determinant
        let dx = (cd[3] * xi - cd[1] * eta) / det
        let dy = (-cd[2] * xi + cd[0] * eta) / det
        return (dx + crpix1 - 1, dy + crpix2 - 1)
    }

    /// Equality compares all stored numbers exactly.
    public static func == (a: TANWCS, b: TANWCS) -> Bool {
        a.crval1 == b.crval1 && a.crval2 == b.crval2 && a.crpix1 == b.crpix1 && a.crpix2 == b.crpix2 && a.cd == b.cd
    }
}
