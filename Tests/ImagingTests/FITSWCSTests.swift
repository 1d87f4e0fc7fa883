import Foundation
import Testing
@testable import Imaging
import TestSupport

@Suite struct FITSWCSTests {
    private func withTempFile(_ body: (String) throws -> Void) throws {
        let dir = TemporaryDirectory("wcs")
        try body(dir.file("wcs.fits"))
    }

    private func roundTripError(_ wcs: TANWCS) -> Double {
        var worst = 0.0
        for (x, y) in [(0.0, 0.0), (1023.0, 0.0), (511.5, 383.25), (0.0, 767.0), (1023.0, 767.0), (-50.0, 900.0)] {
            let w = wcs.pixelToWorld(x: x, y: y)
            guard let p = wcs.worldToPixel(ra: w.ra, dec: w.dec) else { return .infinity }
            worst = max(worst, abs(p.x - x), abs(p.y - y))
        }
        return worst
    }

    @Test func parsesCDMatrixAndRoundTrips() throws {
        try withTempFile { path in
            let s = 1.2 / 3600  // 1.2"/px, rotated 30 degrees, flipped x as usual on the sky
            let r = 30.0 * Double.pi / 180
            try FITS.write(Image(width: 8, height: 8), to: path, keywords: [
                FITSKeyword("CTYPE1", .string("RA---TAN")), FITSKeyword("CTYPE2", .string("DEC--TAN")),
                FITSKeyword("CRVAL1", .double(202.4696)), FITSKeyword("CRVAL2", .double(47.1952)),
                FITSKeyword("CRPIX1", .double(512.5)), FITSKeyword("CRPIX2", .double(384.5)),
                FITSKeyword("CD1_1", .double(-s * cos(r))), FITSKeyword("CD1_2", .double(s * sin(r))),
                FITSKeyword("CD2_1", .double(s * sin(r))), FITSKeyword("CD2_2", .double(s * cos(r))),
            ])
            let wcs = try #require(try FITS.readHeader(path).wcs)
            #expect(wcs.crval1 == 202.4696 && wcs.crpix2 == 384.5)
            #expect(abs(wcs.pixelScaleArcsec - 1.2) < 1e-9)
            // reference pixel (1-based CRPIX) maps to CRVAL exactly
            let ref = wcs.pixelToWorld(x: 511.5, y: 383.5)
            #expect(abs(ref.ra - 202.4696) < 1e-12 && abs(ref.dec - 47.1952) < 1e-12)
            // one pixel along +y moves 1.2" on the sky
            let up = wcs.pixelToWorld(x: 511.5, y: 384.5)
            let dRA = (up.ra - ref.ra) * cos(ref.dec * .pi / 180), dDec = up.dec - ref.dec
            #expect(abs((dRA * dRA + dDec * dDec).squareRoot() * 3600 - 1.2) < 1e-6)
            #expect(roundTripError(wcs) < 1e-6)
        }
    }

    @Test func parsesCdeltCrota2AndMatchesEquivalentCD() throws {
        try withTempFile { path in
            try FITS.write(Image(width: 8, height: 8), to: path, keywords: [
                FITSKeyword("CTYPE1", .string("RA---TAN")), FITSKeyword("CTYPE2", .string("DEC--TAN")),
                FITSKeyword("CRVAL1", .double(359.9)), FITSKeyword("CRVAL2", .double(-62.5)),
                FITSKeyword("CRPIX1", .double(100)), FITSKeyword("CRPIX2", .double(200)),
                FITSKeyword("CDELT1", .double(-0.0005)), FITSKeyword("CDELT2", .double(0.0005)),
                FITSKeyword("CROTA2", .double(12)),
            ])
            let wcs = try #require(try FITS.readHeader(path).wcs)
            let r = 12.0 * Double.pi / 180
            let expected = [-0.0005 * cos(r), -0.0005 * sin(r), -0.0005 * sin(r), 0.0005 * cos(r)]
            for i in 0..<4 { #expect(abs(wcs.cd[i] - expected[i]) < 1e-15) }
            #expect(roundTripError(wcs) < 1e-6)
            // RA wraps into [0, 360) across the 0h line
            let east = wcs.pixelToWorld(x: 0, y: 199)
            #expect(east.ra >= 0 && east.ra < 360)
        }
    }

    @Test func missingOrNonTanWcsIsNil() throws {
        try withTempFile { path in
            try FITS.write(Image(width: 4, height: 4), to: path, keywords: [
                FITSKeyword("CTYPE1", .string("RA---SIN")), FITSKeyword("CTYPE2", .string("DEC--SIN")),
                FITSKeyword("CRVAL1", .double(10)), FITSKeyword("CRVAL2", .double(10)),
                FITSKeyword("CRPIX1", .double(1)), FITSKeyword("CRPIX2", .double(1)),
                FITSKeyword("CDELT1", .double(0.001)), FITSKeyword("CDELT2", .double(0.001)),
            ])
            #expect(try FITS.readHeader(path).wcs == nil)
        }
        let wcs = TANWCS(crval1: 10, crval2: 80, crpix1: 1, crpix2: 1, cd: [0.001, 0, 0, 0.001])
        #expect(wcs.worldToPixel(ra: 190, dec: 0) == nil)  // >= 90 deg away: no TAN projection
    }
}
