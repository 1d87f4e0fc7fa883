import Foundation
import Graph
import Imaging
import Testing
import TestSupport
@testable import Steps

@Suite("measure: the field stars of stars/NNNNN mapped into the registered frame")
struct MeasureFieldTests {
    /// A raw frame and its registered counterpart rendered from the same sky: stars at raw positions
    /// `T(p)` with FWHM `fwhm * scale` in the raw frame, at `p` with FWHM `fwhm` in the registered one
    /// (independent noise), columns `x >= 380` of the registered frame uncovered (NaN).
    private struct Pair {
        var raw: Image
        var registered: Image
        var transform: SimilarityTransform
        var truth: [(x: Double, y: Double)]
    }

    private func pair(transform t: SimilarityTransform, fwhm: Double = 3) -> Pair {
        let w = 420, h = 320
        var rng = TestRNG(seed: 5)
        var ref: [(x: Double, y: Double, peak: Double)] = []
        // Stars all over the raw frame; their registered positions may fall outside the frame. At most
        // `Measure.fitSpread.perCell` per fit cell in either frame, so both measurements fit every star.
        let cell = Double(Measure.fitSpread.cell)
        var rawCells: [Int: Int] = [:], refCells: [Int: Int] = [:]
        func key(_ x: Double, _ y: Double) -> Int { Int((y.rounded() / cell).rounded(.down)) * 1000 + Int((x.rounded() / cell).rounded(.down)) }
        while ref.count < 110 {
            let rx = 4 + rng.uniform() * Double(w - 8), ry = 4 + rng.uniform() * Double(h - 8)
            let p = t.preimage(x: rx, y: ry)
            guard ref.allSatisfy({ hypot($0.x - p.x, $0.y - p.y) >= 16 }),
                  rawCells[key(rx, ry), default: 0] < Measure.fitSpread.perCell,
                  refCells[key(p.x, p.y), default: 0] < Measure.fitSpread.perCell else { continue }
            rawCells[key(rx, ry), default: 0] += 1
            refCells[key(p.x, p.y), default: 0] += 1
            ref.append((p.x, p.y, 1500 + rng.uniform() * 4000))
        }
        let rawStars = ref.map { s -> (x: Double, y: Double, peak: Double) in
            let q = t.apply(x: s.x, y: s.y)
            return (q.x, q.y, s.peak)
        }
        let raw = MetricsTestData.field(width: w, height: h, level: 1000, sigma: 10, fwhm: fwhm * t.scale, stars: rawStars, seed: 6)
        var reg = MetricsTestData.field(width: w, height: h, level: 1000, sigma: 10, fwhm: fwhm, stars: ref, seed: 7)
        for y in 0..<h { for x in 380..<w { reg[x, y] = .nan } }
        return Pair(raw: raw, registered: reg, transform: t, truth: ref.map { ($0.x, $0.y) })
    }

    private func fieldParams() -> StarListParams {
        var p = StarListParams(config: TCConfig(), bayer: nil, saturation: SaturationLevel(adu: 65535, source: .bitpix))
        p.field = Measure.fieldOptions
        return p
    }

    @Test("shifted, rotated and scaled frame: mapped stars within 0.05 px of the registered frame's, FWHM within 3 %",
          arguments: [SimilarityTransform(rotation: 0.05, scale: 1, tx: 7.3, ty: -4.6),
                      SimilarityTransform(rotation: -0.4, scale: 1.02, tx: 60.2, ty: -70.9)])
    func mappedMatchesDetected(transform: SimilarityTransform) throws {
        let pr = pair(transform: transform)
        let found = try StarList.detectWithField(in: pr.raw, params: fieldParams(), file: "f.fits")
        let field = try #require(found.field)
        #expect(field.count > 100)  // every star but those at the raw frame's edges
        let mapped = try Measure.measure(pr.registered, mode: .background, thresholdSigma: 5, saturation: 65535,
                                         field: Measure.FieldStars(stars: field, transform: pr.transform), file: "f.fits")
        let detected = try Measure.measure(pr.registered, mode: .background, thresholdSigma: 5, saturation: 65535, file: "f.fits")
        // Same normalization either way; only the stars differ.
        #expect(mapped.channels == detected.channels && mapped.coverage == detected.coverage)
        #expect(mapped.starCount == mapped.stars.count && mapped.stars.allSatisfy { !$0.saturated })
        // Every mapped star lies inside the margin on a covered pixel.
        for s in mapped.stars {
            let ix = Int(s.x.rounded()), iy = Int(s.y.rounded())
            #expect(ix >= 8 && ix < 420 - 8 && iy >= 8 && iy < 320 - 8 && pr.registered[ix, iy].isFinite)
        }
        // The same stars as detection on the registered frame, at the same places and sizes; only
        // stars near an edge (the registered frame's, its uncovered strip's, or the raw frame's, where
        // the field stars were detected) may be in one list only.
        func nearEdge(_ s: MeasuredStar) -> Bool {
            let r = pr.transform.apply(x: s.x, y: s.y)
            return s.x < 12 || s.y < 12 || s.x > 380 - 12 || s.y > 320 - 12 || r.x < 12 || r.y < 12 || r.x > 420 - 12 || r.y > 320 - 12
        }
        func partner(_ s: MeasuredStar, in list: [MeasuredStar]) -> MeasuredStar? {
            list.first { hypot($0.x - s.x, $0.y - s.y) < 1 }
        }
        #expect(mapped.stars.filter { !nearEdge($0) && partner($0, in: detected.stars) == nil }.isEmpty)
        #expect(detected.stars.filter { !nearEdge($0) && partner($0, in: mapped.stars) == nil }.isEmpty)
        var matched = 0
        for d in detected.stars {
            guard let m = partner(d, in: mapped.stars) else { continue }
            matched += 1
            #expect(abs(m.x - d.x) < 0.05 && abs(m.y - d.y) < 0.05, "(\(m.x), \(m.y)) vs (\(d.x), \(d.y))")
            #expect(abs(m.fwhm / d.fwhm - 1) < 0.03, "FWHM \(m.fwhm) vs \(d.fwhm)")
            #expect(abs(try #require(m.flux) / (try #require(d.flux)) - 1) < 0.05)
        }
        #expect(matched >= detected.stars.count - 6 && matched >= mapped.stars.count - 6 && matched > 35,
                "\(matched) matched of \(detected.stars.count) detected, \(mapped.stars.count) mapped")
        let fm = try #require(mapped.fwhm), fd = try #require(detected.fwhm)
        #expect(abs(fm - 3) < 0.1 && abs(fm / fd - 1) < 0.02)
        // Stars whose registered position is outside the frame or uncovered are not kept.
        #expect(pr.truth.contains { $0.x < 0 || $0.y < 0 || $0.x >= 380 || $0.y >= 320 })
        #expect(mapped.stars.allSatisfy { $0.x < 380 })
    }

    @Test("the stars list of a node with a field is the list without one, bit for bit; CFA frames get no field")
    func starsUnchangedByField() throws {
        let pr = pair(transform: SimilarityTransform(rotation: 0.05, scale: 1, tx: 7.3, ty: -4.6))
        var plain = fieldParams()
        plain.field = nil
        let with = try StarList.detectWithField(in: pr.raw, params: fieldParams(), file: "f.fits")
        let without = try StarList.detectCorrected(in: pr.raw, params: plain, file: "f.fits")
        #expect(try Artifacts.encoder().encode(with.stars) == Artifacts.encoder().encode(without.stars))
        #expect(with.cosmetic == without.cosmetic)
        var cfa = fieldParams()
        cfa.bayer = "RGGB"
        #expect(try StarList.detectWithField(in: pr.raw, params: cfa, file: "f.fits").field == nil)
        // Unset, the field key is not encoded: register's copy of the params reads as before.
        let json = String(decoding: try JSONEncoder().encode(plain), as: UTF8.self)
        #expect(!json.contains("field"))
    }

    @Test("mono frames of the relative engine take the field stars; CFA frames and the siril engine still detect")
    func whichFramesUseTheField() throws {
        func nodes(_ config: TCConfig, bayer: String?) throws -> [String: Node] {
            let frames = FrameList(frames: (0..<2).map {
                FrameInfo(index: $0, path: "/frames/f\($0).fits",
                          properties: FrameProperties(width: 640, height: 480, bayer: bayer, exposure: 60))
            }, saturation: SaturationLevel(adu: 65535, source: .bitpix))
            let b = try PipelineRunner.mainBuilder(config: config, frames: frames, workspace: "/w")
            return Dictionary(uniqueKeysWithValues: b.nodes.map { ($0.name, $0) })
        }
        func usesField(_ n: [String: Node]) throws -> (measure: Bool, stars: Bool) {
            let m = try #require(n[NodeName.measure(1)]), s = try #require(n[NodeName.stars(1)])
            return (m.inputs.contains { $0.name == "field" }, s.outputs.contains("field"))
        }
        let mono = try usesField(try nodes(TCConfig(), bayer: nil))
        #expect(mono.measure && mono.stars)
        let m = try #require(try nodes(TCConfig(), bayer: nil)[NodeName.measure(1)])
        #expect(m.inputs.map(\.name).sorted() == ["field", "frame", "transform"])
        let cfa = try usesField(try nodes(TCConfig(), bayer: "RGGB"))
        #expect(!cfa.measure && !cfa.stars)
        var siril = TCConfig()
        siril.registration.engine = .siril
        let s = try usesField(try nodes(siril, bayer: nil))
        #expect(!s.measure && !s.stars)
        let sm = try #require(try nodes(siril, bayer: nil)[NodeName.measure(1)])
        #expect(sm.inputs.map(\.name).sorted() == ["frame", "raw", "transform"])
    }
}
