import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph
@testable import Imaging
@testable import Steps

@Suite struct RegistrationSirilTests {
    @Test func logParserReadsMatricesPairsAndSkips() throws {
        let log = """
        log: Found 10 stars in reference, channel #0
        log: Found 7 stars in image 3, channel #0
        After tuning with recalc, num matches is 6
        Transformation Matrix:
           +0.99938    -0.03491   +11.89058
           +0.03491    +0.99938    -9.63224
           +0.00000    +0.00000    +1.00000
        log: Not enough star pairs (6): Image 3 skipped
        """
        let p = SirilLog.parse(log)
        #expect(p.matrices[3] == [0.99938, -0.03491, 11.89058, 0.03491, 0.99938, -9.63224])
        #expect(p.matches[3] == 6)
        #expect(p.skipped[3]?.contains("Image 3 skipped") == true)
        #expect(SirilLog.referenceIndex(seq: "S 'f_' 1 4 4 5 2 3\nL 1\n") == 2)
    }

    @Test func sirilMatrixConversionInvertsAndFlipsY() throws {
        // A known reference -> frame similarity, expressed the way siril prints it (image -> reference,
        // y flipped about H - 1), must convert back to itself.
        let truth = SimilarityTransform(rotation: 0.3, scale: 1, tx: 12.5, ty: -7.25)
        let h = 240.0
        let inv = truth.inverse
        // Siril matrix M = F . inv . F with F(x, y) = (x, H-1-y).
        let (a, b) = inv.linear
        let m = [a, b, inv.tx - b * (h - 1), -b, a, (h - 1) - inv.ty - a * (h - 1)]
        let t = try #require(SirilLog.transform(matrix: m, width: 320, height: 240))
        #expect(cornerError(t, truth, width: 320, height: 240) < 1e-9)
    }

    @Test func sirilEngineMatchesTruthWithinAQuarterPixel() throws {
        guard ExternalTool.find("siril-cli") != nil else {
            Issue.record("siril-cli is not installed (apt-get install siril); the siril engine test cannot run")
            return
        }
        var c = SynthConfig(width: 480, height: 360, frames: 6, seed: 21)
        c.starCount = 400
        c.totalRotationDegrees = 20
        c.jitterPixels = 8
        let s = try RegSeries("reg-siril", c)
        var config = TCConfig()
        config.registration.engine = .siril
        config.registration.reference = .index(0)
        let (ws, report, _) = try s.run(config)
        #expect(report.failed.isEmpty, "\(report.failed)")
        let (worst, r) = try worstCornerError(s, ws, report)
        #expect(r == 0)
        #expect(worst < 0.25, "worst corner error \(worst) px")
        let sirilOut = try readJSON(SirilRegistration.self, ws, report, NodeName.sirilRegister, "transforms")
        #expect(sirilOut.referenceIndex == 0 && sirilOut.frames.count == 6)
        #expect(sirilOut.frames.dropFirst().allSatisfy { $0.matches >= config.registration.minStarMatches })
    }

    @Test func sirilEngineOnCFADebayersAndMatchesTruth() throws {
        guard ExternalTool.find("siril-cli") != nil else {
            Issue.record("siril-cli is not installed (apt-get install siril); the siril engine test cannot run")
            return
        }
        var c = SynthConfig(width: 480, height: 360, frames: 5, seed: 23, cfa: true)
        c.starCount = 400
        c.totalRotationDegrees = 20
        c.jitterPixels = 8
        let s = try RegSeries("reg-siril-cfa", c)
        var config = TCConfig()
        config.registration.engine = .siril
        config.registration.reference = .index(2)  // not siril's first frame: transforms are re-based
        let (ws, report, _) = try s.run(config)
        #expect(report.failed.isEmpty, "\(report.failed)")
        let (worst, r) = try worstCornerError(s, ws, report)
        #expect(r == 2)
        let sirilOut = try readJSON(SirilRegistration.self, ws, report, NodeName.sirilRegister, "transforms")
        #expect(sirilOut.referenceIndex == 2)  // setref: siril registers against tcbuild's reference
        // Looser than mono: siril finds only 16-34 stars on the debayered green plane here and its
        // transforms are good to ~0.25 px (measured 0.250 px worst; relative gets < 0.1 px on OSC).
        #expect(worst < 0.4, "worst corner error \(worst) px")
        let frame = try #require(report.outputs["register/00004"]?["frame"])
        #expect(try FITS.read(ws.path(of: frame)).channels == 3)
    }

    @Test func framesSirilSkipsAreExcludedEachNamedAndTheRunGoesOn() throws {
        guard ExternalTool.find("siril-cli") != nil else {
            Issue.record("siril-cli is not installed (apt-get install siril); the siril engine test cannot run")
            return
        }
        var c = SynthConfig(width: 320, height: 240, frames: 3, seed: 22)
        c.starCount = 200
        let s = try RegSeries("reg-siril-fail", c)
        var config = TCConfig()
        config.registration.engine = .siril
        config.registration.reference = .index(0)
        config.registration.minStarMatches = 500
        let (ws, report, _) = try s.run(config)
        // siril skips frames 1 and 2 (too few pairs) but exits 0: siril/register records them and
        // each register node excludes its frame (registration.on_failure) instead of failing.
        #expect(report.failed.isEmpty, "\(report.failed)")
        let transforms = try readJSON(SirilRegistration.self, ws, report, NodeName.sirilRegister, "transforms")
        #expect(transforms.frames.filter { $0.failed != nil }.map(\.index) == [1, 2])
        for index in 1...2 {
            let r = try readJSON(RegistrationResult.self, ws, report, NodeName.register(index), "transform")
            let reason = try #require(r.excluded)
            #expect(reason.contains("siril skipped it"), "\(reason)")
        }
        let first = try readJSON(RegistrationResult.self, ws, report, NodeName.register(0), "transform")
        #expect(first.excluded == nil && first.engine == "identity")
    }
}
