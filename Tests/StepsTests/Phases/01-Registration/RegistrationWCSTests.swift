import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph
@testable import Imaging
@testable import Steps

/// TAN WCS keywords for a frame whose pixels relate to the reference sky by `t` (reference -> frame):
/// the reference sky has CD = diag(-s, s) around (150, 30); the frame's CD and CRPIX follow from t.
private func wcsKeywords(_ t: SimilarityTransform) -> [FITSKeyword] {
    let s = 1.0 / 3600
    let crpix0 = SIMD2(160.5, 120.5)
    let c = cos(t.rotation), sn = sin(t.rotation)
    // CD_k = CD0 . R^-1 ; CRPIX_k = 1 + t - R (1 - CRPIX0).
    let cd0 = [-s, 0.0, 0.0, s]
    let rinv = [c, sn, -sn, c]
    let cd = [cd0[0] * rinv[0] + cd0[1] * rinv[2], cd0[0] * rinv[1] + cd0[1] * rinv[3],
              cd0[2] * rinv[0] + cd0[3] * rinv[2], cd0[2] * rinv[1] + cd0[3] * rinv[3]]
    let q = SIMD2(1.0, 1.0) - crpix0
    let crpix = SIMD2(1 + t.tx - (c * q.x - sn * q.y), 1 + t.ty - (sn * q.x + c * q.y))
    return [
        FITSKeyword("CTYPE1", .string("RA---TAN")), FITSKeyword("CTYPE2", .string("DEC--TAN")),
        FITSKeyword("CRVAL1", .double(150)), FITSKeyword("CRVAL2", .double(30)),
        FITSKeyword("CRPIX1", .double(crpix.x)), FITSKeyword("CRPIX2", .double(crpix.y)),
        FITSKeyword("CD1_1", .double(cd[0])), FITSKeyword("CD1_2", .double(cd[1])),
        FITSKeyword("CD2_1", .double(cd[2])), FITSKeyword("CD2_2", .double(cd[3])),
    ]
}

@Suite struct RegistrationWCSTests {
    @Test func wcsAnchorRecoversTheTruthFromHeaders() throws {
        var c = SynthConfig(width: 320, height: 240, frames: 5, seed: 31)
        c.starCount = 100
        c.totalRotationDegrees = 25
        c.jitterPixels = 20
        let truths = try SynthSeries(c).truth.perFrame.map(\.transform)
        let s = try RegSeries("reg-wcs", c) { wcsKeywords(truths[$0]) }
        var config = TCConfig()
        config.registration.engine = .wcsAnchor
        config.registration.reference = .index(1)
        let (ws, report, _) = try s.run(config)
        #expect(report.failed.isEmpty, "\(report.failed)")
        let (worst, r) = try worstCornerError(s, ws, report)
        #expect(r == 1)
        #expect(worst < 0.01, "worst corner error \(worst) px")
        let res = try readJSON(RegistrationResult.self, ws, report, "register/00003", "transform")
        #expect(res.engine == "wcs_anchor" && res.matches == 81)
    }

    @Test func frameWithoutWCSCannotBeRegistered() throws {
        var c = SynthConfig(width: 160, height: 120, frames: 3, seed: 32)
        c.starCount = 40
        let truths = try SynthSeries(c).truth.perFrame.map(\.transform)
        let s = try RegSeries("reg-nowcs", c) { $0 == 2 ? nil : wcsKeywords(truths[$0]) }
        var config = TCConfig()
        config.registration.engine = .wcsAnchor
        config.registration.reference = .index(0)
        let (ws, report, _) = try s.run(config)
        // Not a node failure: the frame is recorded as one that cannot be registered (registration.on_failure).
        #expect(report.failed.isEmpty, "\(report.failed)")
        let res = try readJSON(RegistrationResult.self, ws, report, "register/00002", "transform")
        let reason = try #require(res.excluded)
        #expect(reason.contains("WCS"), "\(reason)")
        #expect(try readJSON(RegistrationResult.self, ws, report, "register/00001", "transform").excluded == nil)
    }
}
