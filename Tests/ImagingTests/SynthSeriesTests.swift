import Foundation
import Testing
@testable import Imaging

/// A small mono series: big enough for isolated bright stars, small enough for a debug build.
private func smallSeries(seed: UInt64 = 7, frames: Int = 8, cfa: Bool = false) throws -> SynthSeries {
    var config = SynthConfig(width: 320, height: 240, frames: frames, seed: seed, cfa: cfa)
    config.starCount = 90
    return try SynthSeries(config)
}

@Suite("Synthetic series: truth and rendering")
struct SynthSeriesTests {
    @Test("same config renders bit-identical frames and truth; another seed differs")
    func determinism() throws {
        let a = try smallSeries(), b = try smallSeries(), c = try smallSeries(seed: 8)
        #expect(try a.truth.jsonData() == b.truth.jsonData())
        #expect(try a.truth.jsonData() != c.truth.jsonData())
        for f in [0, 5] {
            let fa = a.render(frame: f)
            #expect(fa.pixels == b.render(frame: f).pixels)
            #expect(fa.pixels != c.render(frame: f).pixels)
        }
        // Rendering order does not matter: frame 3 alone equals frame 3 after others.
        _ = b.render(frame: 6)
        #expect(a.render(frame: 3).pixels == b.render(frame: 3).pixels)
    }

    @Test("frames are integers within 0...65535 around pedestal + sky")
    func sensorRange() throws {
        let s = try smallSeries()
        let img = s.render(frame: 0)
        #expect(img.pixels.allSatisfy { $0 >= 0 && $0 <= 65535 && $0 == $0.rounded() })
        let med = SynthMeasure.median(img.pixels)
        let expected = s.config.pedestal + s.truth.perFrame[0].background
        // Median sits on sky (+ a little nebula), well within 15 %.
        #expect(abs(med - expected) < 0.15 * expected, "median \(med), pedestal + sky \(expected)")
    }

    @Test("star centroids in frames match the truth transform of their reference positions within 0.3 px")
    func transformsApplied() throws {
        let s = try smallSeries()
        // Rotation grows over the series: check first, middle and last frames.
        #expect(abs(s.truth.perFrame[7].transform.rotation - 3 * Double.pi / 180) < 1e-12)
        for f in [0, 4, 7] {
            let img = s.render(frame: f)
            let clean = s.render(frame: f, options: .starsOnly)
            let stars = SynthMeasure.isolatedStars(s, frame: f, minFlux: 4000)
            try #require(stars.count >= 2, "need isolated bright stars in frame \(f)")
            for (_, x, y) in stars.prefix(3) {
                let fwhm = s.truth.perFrame[f].seeingFwhm
                // The camera frame: noise and nebula structure limit the centroid to ~0.1-0.25 px.
                let c = SynthMeasure.centroid(img, x: x, y: y, radius: max(5, 2 * fwhm))
                let err = ((c.x - x) * (c.x - x) + (c.y - y) * (c.y - y)).squareRoot()
                #expect(err < 0.3, "frame \(f): star at (\(x), \(y)) measured at (\(c.x), \(c.y))")
                // The noise-free star light pins the geometry down far more tightly.
                let k = SynthMeasure.centroid(clean, x: x, y: y, radius: max(5, 2 * fwhm))
                let kerr = ((k.x - x) * (k.x - x) + (k.y - y) * (k.y - y)).squareRoot()
                #expect(kerr < 0.05, "frame \(f): noise-free centroid off by \(kerr) px")
            }
        }
    }

    @Test("rendered FWHM near the centre matches the seeing truth within 10 %")
    func seeingMatchesRender() throws {
        let s = try smallSeries()
        let cx = Double(s.config.width - 1) / 2, cy = Double(s.config.height - 1) / 2
        var checked = 0
        for f in 0..<s.config.frames {
            let stars = SynthMeasure.isolatedStars(s, frame: f, minFlux: 1500).filter {
                abs($0.x - cx) < 0.3 * Double(s.config.width) && abs($0.y - cy) < 0.3 * Double(s.config.height)
            }
            guard let (_, x, y) = stars.first else { continue }
            let img = s.render(frame: f, options: .starsOnly)
            let seeing = s.truth.perFrame[f].seeingFwhm
            let expected = s.psf.shape(atX: x, y: y, seeing: seeing).fwhm
            let measured = SynthMeasure.momentFWHM(img, x: x, y: y, radius: 3 * expected)
            #expect(abs(measured / expected - 1) < 0.10, "frame \(f): measured \(measured), truth \(expected) (seeing \(seeing))")
            // The field-dependence is small near the centre: the measurement also matches the seeing itself.
            #expect(abs(measured / seeing - 1) < 0.10)
            checked += 1
        }
        #expect(checked >= 4, "only \(checked) frames had an isolated star near the centre")
    }

    @Test("cloud frames have lower star flux and higher background")
    func clouds() throws {
        let s = try smallSeries()
        let pf = s.truth.perFrame
        let cloud = try #require(pf.min { $0.transparency < $1.transparency })
        #expect(cloud.transparency <= 0.8 && cloud.transparency >= 0.4)
        // The nearest clear frame in time (the sky drifts slowly over the night).
        let clear = try #require(pf.filter { $0.transparency > 0.95 }
            .min { abs($0.index - cloud.index) < abs($1.index - cloud.index) })
        #expect(cloud.background > clear.background)
        let ci = s.render(frame: cloud.index), ki = s.render(frame: clear.index)
        #expect(SynthMeasure.median(ci.pixels) > SynthMeasure.median(ki.pixels) + 100)
        // Star flux on the noise-free signal (stars on the sky gradient, local background subtracted;
        // the nebula's small-scale structure would swamp faint stars' aperture sums).
        let signal: SynthRenderOptions = [.stars, .sky]
        let cs = s.render(frame: cloud.index, options: signal), ks = s.render(frame: clear.index, options: signal)
        let stars = SynthMeasure.isolatedStars(s, frame: cloud.index, edge: 40, minFlux: 1000)
        try #require(stars.count >= 3)
        var fc = 0.0, fk = 0.0
        for (star, x, y) in stars.prefix(4) {
            fc += SynthMeasure.apertureFlux(cs, x: x, y: y, radius: 12)
            let p = clear.transform.apply(x: star.x, y: star.y)
            fk += SynthMeasure.apertureFlux(ks, x: p.x, y: p.y, radius: 12)
        }
        let ratio = fc / fk
        #expect(ratio < 0.9)
        #expect(abs(ratio - cloud.transparency / clear.transparency) < 0.05,
                "flux ratio \(ratio), transparency ratio \(cloud.transparency / clear.transparency)")
    }

    @Test("hot pixels stand out at the same sensor position in every frame")
    func hotPixels() throws {
        let s = try smallSeries()
        #expect(s.hotPixels.count >= 3)
        for f in 0..<s.config.frames {
            let img = s.render(frame: f)
            for hp in s.hotPixels {
                var neighbours: [Float] = []
                for dy in -1...1 { for dx in -1...1 where dx != 0 || dy != 0 { neighbours.append(img[hp.x + dx, hp.y + dy]) } }
                let v = Double(img[hp.x, hp.y])
                #expect(v == 65535 || v - SynthMeasure.median(neighbours) > 0.5 * hp.amplitude,
                        "frame \(f): hot pixel (\(hp.x), \(hp.y)) = \(v), amplitude \(hp.amplitude)")
            }
        }
    }

    @Test("the satellite trail is present only in the flagged frame")
    func trail() throws {
        let s = try smallSeries()
        let flagged = s.truth.perFrame.filter { $0.hasTrail }
        try #require(flagged.count == 1)
        let trail = try #require(flagged[0].trail)
        let lx = trail.x1 - trail.x0, ly = trail.y1 - trail.y0
        let len = (lx * lx + ly * ly).squareRoot()
        let (ux, uy, nx, ny) = (lx / len, ly / len, -ly / len, lx / len)
        // Points on the line inside the frame.
        var points: [(Double, Double)] = []
        for t in stride(from: -600.0, through: 600, by: 4) {
            let x = trail.x0 + t * ux, y = trail.y0 + t * uy
            if x > 15 && y > 15 && x < Double(s.config.width - 16) && y < Double(s.config.height - 16) { points.append((x, y)) }
        }
        try #require(points.count >= 20)
        for f in 0..<s.config.frames {
            let img = s.render(frame: f)
            var excess: [Double] = []
            for (x, y) in points {
                let on = Double(img[Int(x.rounded()), Int(y.rounded())])
                let off1 = Double(img[Int((x + 9 * nx).rounded()), Int((y + 9 * ny).rounded())])
                let off2 = Double(img[Int((x - 9 * nx).rounded()), Int((y - 9 * ny).rounded())])
                excess.append(on - (off1 + off2) / 2)
            }
            let med = excess.sorted()[excess.count / 2]
            if f == flagged[0].index {
                // Sampling at the nearest pixel centre is within 0.71 px of the line: > 0.8 * peak.
                #expect(med > 0.5 * trail.peak * flagged[0].transparency, "trail frame: median excess \(med)")
            } else {
                #expect(abs(med) < 0.05 * trail.peak, "frame \(f) has excess \(med) along the trail line")
            }
        }
    }

    @Test("the starless nebula rectangle has nebulosity but no star centre")
    func starlessRect() throws {
        let s = try smallSeries()
        let r = s.truth.starlessNebulaRect
        #expect(r.width >= 20 && r.height >= 20)
        #expect(!s.scene.stars.contains { r.contains($0.x, $0.y) })
        // No local maximum of the noise-free star light inside the rectangle (in the reference
        // geometry), while the same detector finds stars elsewhere.
        let stars = s.render(frame: 0, options: .starsOnly)
        let t = s.truth.perFrame[0].transform
        var inside = 0, outside = 0
        for y in 1..<(s.config.height - 1) {
            for x in 1..<(s.config.width - 1) {
                let v = stars[x, y]
                if v < 1 { continue }
                var isMax = true
                for dy in -1...1 { for dx in -1...1 where (dx != 0 || dy != 0) && stars[x + dx, y + dy] >= v { isMax = false } }
                if !isMax { continue }
                let p = t.preimage(x: Double(x), y: Double(y))
                if r.contains(p.x, p.y) { inside += 1 } else { outside += 1 }
            }
        }
        #expect(inside == 0)
        #expect(outside >= 30, "detector sanity: \(outside) maxima outside")
        // Nebulosity is bright inside the rectangle.
        let ref = s.renderReference()
        var sum = 0.0, n = 0.0
        for y in Int(r.y)..<Int(r.y + r.height) { for x in Int(r.x)..<Int(r.x + r.width) { sum += Double(ref[x, y]); n += 1 } }
        #expect(sum / n > 0.15 * s.config.nebulaPeak, "mean nebula in the rectangle \(sum / n)")
    }

    @Test("DATE-OBS increases and EXPTIME is constant; best frame has the best clear seeing")
    func timingAndBest() throws {
        let s = try smallSeries()
        let dates = s.truth.perFrame.map(\.dateObs)
        #expect(dates == dates.sorted() && Set(dates).count == dates.count)
        #expect(dates[0] == "2026-03-14T21:00:00")
        #expect(dates[1] == "2026-03-14T21:01:04")
        let best = s.truth.perFrame[s.truth.bestFrame]
        #expect(best.transparency >= 0.9 && !best.hasTrail)
        #expect(!s.truth.perFrame.contains { $0.transparency >= 0.9 && !$0.hasTrail && $0.seeingFwhm < best.seeingFwhm })
        for f in 0..<s.config.frames {
            let k = s.frameKeywords(f)
            #expect(k.contains(FITSKeyword("EXPTIME", .double(60), comment: "exposure time [s]")))
            #expect(!k.contains { $0.name == "BAYERPAT" })
        }
    }

    @Test("invalid configs are rejected with a message naming the field")
    func invalidConfig() {
        #expect(throws: SynthError.self) { try SynthSeries(SynthConfig(width: 0, height: 5, frames: 3)) }
        #expect(throws: SynthError.self) { try SynthSeries(SynthConfig(width: 64, height: 64, frames: 0)) }
        let e = SynthError.invalidConfig(SynthConfig(width: 64, height: 64, frames: 0).validationProblem()!)
        #expect(e.description.contains("frames"))
    }
}
