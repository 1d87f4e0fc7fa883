import Foundation
import Testing
@testable import Imaging
import TestSupport

/// A small mono series with the given defect knobs.
private func series(frames: Int = 6, seed: UInt64 = 11, _ edit: (inout SynthConfig) -> Void = { _ in }) throws -> SynthSeries {
    var config = SynthConfig(width: 320, height: 240, frames: frames, seed: seed)
    config.starCount = 90
    edit(&config)
    return try SynthSeries(config)
}

/// Median of the 8 neighbours of (x, y).
private func neighbourMedian(_ img: Image, _ x: Int, _ y: Int) -> Double {
    var v: [Float] = []
    for dy in -1...1 { for dx in -1...1 where dx != 0 || dy != 0 { v.append(img[x + dx, y + dy]) } }
    return SynthMeasure.median(v)
}

@Suite("Synthetic series: camera and observing defects")
struct SynthDefectsTests {
    @Test("defaults leave every defect off and the historic truth untouched; other defects do not move it")
    func defaultsUnchanged() throws {
        let plain = SynthConfig(width: 320, height: 240, frames: 6)
        #expect(plain.defectsAreDefault)
        #expect(plain.hotPixelsPerMegapixel == nil && plain.warmColumns == 0 && plain.cosmicRaysPerMegapixel == 0)
        #expect(plain.satelliteTrails == 0 && plain.adcBits == 16 && plain.saturatingStars == 3 && !plain.blooming)
        #expect(plain.driftFraction == nil && plain.glitchFraction == 0 && plain.frameExtension == "fits")
        #expect(!plain.realistic().defectsAreDefault)

        let s = try series()
        let t = s.truth
        #expect(s.hotPixels.count == max(3, 320 * 240 / 25_000))
        #expect(t.saturation == 65535 && t.warmColumns == nil && t.adcBits == nil && t.adcDivisor == nil)
        #expect(t.fullWell == nil && t.blooming == nil && t.driftFraction == nil && t.frameExtension == nil)
        for f in t.perFrame {
            #expect(f.satelliteTrails == nil && f.planeTrails == nil && f.cosmicRays == nil && f.glitch == nil && f.saturatedStars == nil)
            #expect(f.file.hasSuffix(".fits"))
        }
        let json = String(decoding: try t.jsonData(), as: UTF8.self)
        for key in ["satellite_trails", "plane_trails", "kind", "separation", "cosmic_rays", "glitch", "saturated_stars", "warm_columns", "adc_bits",
                    "full_well", "blooming", "drift_fraction", "frame_extension"] {
            #expect(!json.contains("\"\(key)\""), "default truth.json has \(key)")
        }
        #expect(s.render(frame: 2).pixels == s.render(frame: 2, options: [.stars, .nebula, .sky, .trail, .hotPixels, .sensor]).pixels)

        // Defects with their own random streams leave scene, conditions and hot pixels as they were.
        let d = try series {
            $0.warmColumns = 2; $0.cosmicRaysPerMegapixel = 50; $0.satelliteTrails = 2; $0.planeTrails = 1
            $0.glitchFraction = 0.5
        }
        #expect(d.truth.stars == t.stars && d.hotPixels == s.hotPixels)
        for (a, b) in zip(d.truth.perFrame, t.perFrame) {
            #expect(a.transform == b.transform && a.seeingFwhm == b.seeingFwhm && a.transparency == b.transparency)
            #expect(a.background == b.background && a.trail == b.trail && a.dateObs == b.dateObs)
        }
    }

    @Test("hot pixels are fixed in sensor coordinates: same position in every frame despite 30 % drift")
    func sensorFixedHotPixels() throws {
        let s = try series { $0.hotPixelsPerMegapixel = 300; $0.driftFraction = 0.3 }
        #expect(s.hotPixels.count == Int((300.0 * 320 * 240 / 1e6).rounded()))
        #expect(s.truth.hotPixels == s.hotPixels)
        for f in [0, 3, 5] {
            let img = s.render(frame: f)
            for hp in s.hotPixels where hp.x > 0 && hp.y > 0 && hp.x < 319 && hp.y < 239 {
                let v = Double(img[hp.x, hp.y])
                #expect(v == 65535 || v - neighbourMedian(img, hp.x, hp.y) > 0.5 * hp.amplitude,
                        "frame \(f): hot pixel (\(hp.x), \(hp.y)) = \(v), amplitude \(hp.amplitude)")
            }
        }
    }

    @Test("warm columns add their excess along the whole column")
    func warmColumns() throws {
        let s = try series { $0.warmColumns = 3 }
        let cols = try #require(s.truth.warmColumns)
        #expect(cols.count == 3 && cols == s.warmColumns)
        let with = s.render(frame: 1, options: [.sky, .hotPixels]), without = s.render(frame: 1, options: [.sky])
        for c in cols {
            #expect((15...60).contains(c.amplitude))
            for y in stride(from: 0, to: 240, by: 17) where !s.hotPixels.contains(where: { $0.x == c.x && $0.y == y }) {
                #expect(abs(Double(with[c.x, y] - without[c.x, y]) - c.amplitude) < 0.01)
            }
        }
    }

    @Test("cosmic rays: sharp hits far above the noise exactly where the truth says, only in their frame")
    func cosmicRays() throws {
        let s = try series { $0.cosmicRaysPerMegapixel = 150 }
        var total = 0
        for f in 0..<s.config.frames {
            let hits = try #require(s.truth.perFrame[f].cosmicRays)
            total += hits.count
            let full = s.render(frame: f)
            var noCR = SynthRenderOptions.full
            noCR.remove(.cosmicRays)
            let without = s.render(frame: f, options: noCR)
            // Same noise draws: the difference is non-zero only on the deposit pixels.
            var deposits: [Int: Double] = [:]
            for hit in hits {
                #expect(hit.pixels.first == SynthDeposit(x: hit.x, y: hit.y, value: hit.amplitude))
                #expect(hit.pixels.count <= 6 && (1500...20_200).contains(hit.amplitude))
                for p in hit.pixels { deposits[p.y * 320 + p.x, default: 0] += p.value }
            }
            for i in 0..<full.pixels.count where full.pixels[i] != without.pixels[i] {
                #expect(deposits[i] != nil, "frame \(f): pixel \(i) changed without a cosmic ray")
            }
            for (i, value) in deposits where without.pixels[i] < 60_000 {
                let diff = Double(full.pixels[i] - without.pixels[i])
                // Shot noise of the deposit itself: well within 6 sigma.
                #expect(abs(diff - value) < 6 * (value + 2000).squareRoot() || full.pixels[i] == 65535,
                        "frame \(f): deposit \(value), measured \(diff)")
            }
            // The brightest pixel of a hit stands far above its neighbours (not PSF-shaped) where no star is.
            let stars = s.render(frame: f, options: .starsOnly)
            for hit in hits where hit.x > 0 && hit.y > 0 && hit.x < 319 && hit.y < 239 && stars[hit.x, hit.y] < 20
                && hit.pixels.count == 1 && !s.hotPixels.contains(where: { abs($0.x - hit.x) <= 1 && abs($0.y - hit.y) <= 1 }) {
                #expect(Double(full[hit.x, hit.y]) - neighbourMedian(full, hit.x, hit.y) > 0.7 * hit.amplitude)
                // The next frame has nothing special there.
                let other = s.render(frame: (f + 1) % s.config.frames, options: noCR)
                #expect(Double(other[hit.x, hit.y]) - neighbourMedian(other, hit.x, hit.y) < 200)
            }
        }
        // Poisson mean 150 * 0.0768 = 11.5 per frame.
        #expect(total > 6 * 5 && total < 6 * 20, "total hits \(total)")
    }

    @Test("satellite trails cross the frame along the recorded line, bright and 1-2 px wide")
    func satelliteTrails() throws {
        let s = try series { $0.satelliteTrails = 2 }
        let frames = s.truth.perFrame.filter { $0.satelliteTrails != nil }
        #expect(frames.count == 2)
        #expect(!frames.contains { $0.index == s.truth.bestFrame })
        for ft in frames {
            let trail = try #require(ft.satelliteTrails?.first)
            // Endpoints on the frame border.
            for (x, y) in [(trail.x0, trail.y0), (trail.x1, trail.y1)] {
                #expect(min(abs(x), abs(x - 319), abs(y), abs(y - 239)) < 1e-6, "endpoint (\(x), \(y))")
            }
            #expect((4000...30_000).contains(trail.peak) && (0.45...0.8).contains(trail.sigma))
            var noTrail = SynthRenderOptions.full
            noTrail.remove(.trail)
            let with = s.render(frame: ft.index), without = s.render(frame: ft.index, options: noTrail)
            let lx = trail.x1 - trail.x0, ly = trail.y1 - trail.y0
            let len = (lx * lx + ly * ly).squareRoot()
            let (nx, ny) = (-ly / len, lx / len)
            let amp = trail.peak * ft.transparency
            var checked = 0
            for k in 1..<20 {
                let t = Double(k) / 20
                let x = Int((trail.x0 + t * lx).rounded()), y = Int((trail.y0 + t * ly).rounded())
                let d = (Double(x) - trail.x0) * nx + (Double(y) - trail.y0) * ny
                let expected = amp * exp(-d * d / (2 * trail.sigma * trail.sigma))
                if without[x, y] > 60_000 || expected < 500 { continue }
                let diff = Double(with[x, y] - without[x, y])
                #expect(abs(diff - expected) < 6 * (expected + 2000).squareRoot(), "(\(x), \(y)): \(diff) vs \(expected)")
                checked += 1
            }
            #expect(checked >= 8)
            // Nothing changes more than 5 sigma + 1 px away from the line.
            for y in stride(from: 0, to: 240, by: 3) {
                for x in stride(from: 0, to: 320, by: 3) {
                    let d = abs((Double(x) - trail.x0) * nx + (Double(y) - trail.y0) * ny)
                    // (The faint historic trail may share the frame: skip its surroundings.)
                    let nearOld = ft.trail.map { o -> Bool in
                        let ox = o.x1 - o.x0, oy = o.y1 - o.y0, ol = (ox * ox + oy * oy).squareRoot()
                        return abs((Double(x) - o.x0) * (-oy / ol) + (Double(y) - o.y0) * (ox / ol)) < 5 * o.sigma + 1
                    } ?? false
                    if d > 5 * trail.sigma + 1 && !nearOld { #expect(with[x, y] == without[x, y]) }
                }
            }
        }
    }

    @Test("plane trails: two parallel lines at the recorded separation, strobe flashes at the recorded period")
    func planeTrails() throws {
        let s = try series { $0.planeTrails = 1 }
        let ft = try #require(s.truth.perFrame.first { $0.planeTrails != nil })
        let plane = try #require(ft.planeTrails?.first)
        #expect(plane.kind == "plane")
        let sep = try #require(plane.separation), period = try #require(plane.dashPeriod), dash = try #require(plane.dashLength)
        #expect((4...8).contains(sep) && (25...60).contains(period) && (3...6).contains(dash))
        // Noise-free: the trail alone is `.trail` on top of nothing (the historic faint trail may share the frame).
        let img = s.render(frame: ft.index, options: [.trail])
        let lx = plane.x1 - plane.x0, ly = plane.y1 - plane.y0
        let len = (lx * lx + ly * ly).squareRoot()
        let (ux, uy, nx, ny) = (lx / len, ly / len, -ly / len, lx / len)
        let amp = plane.peak * ft.transparency
        func sample(_ u: Double, _ d: Double) -> Double {
            // Bilinear read at the point u along, d across the line.
            let x = plane.x0 + u * ux + d * nx, y = plane.y0 + u * uy + d * ny
            let i = Int(x), j = Int(y)
            guard i >= 0, j >= 0, i + 1 < 320, j + 1 < 240 else { return .nan }
            let fx = x - Double(i), fy = y - Double(j)
            let top = Double(img[i, j]) * (1 - fx) + Double(img[i + 1, j]) * fx
            let bottom = Double(img[i, j + 1]) * (1 - fx) + Double(img[i + 1, j + 1]) * fx
            return top * (1 - fy) + bottom * fy
        }
        var flashes = 0
        var u = period / 2
        while u < len - period {
            // Middle of a flash and middle of the dark part of the same period.
            let k = (u / period).rounded(.down)
            let flashU = k * period + dash / 2, darkU = k * period + (dash + period) / 2
            let a = sample(flashU, sep / 2), b = sample(flashU, -sep / 2), c = sample(darkU, sep / 2), mid = sample(flashU, 0)
            if a.isNaN || b.isNaN || c.isNaN || mid.isNaN { u += period; continue }
            // On each wing line at least ~half the peak (bilinear blur), the centre between them much lower.
            #expect(a > 0.4 * amp && b > 0.4 * amp, "flash at u = \(flashU): \(a), \(b) vs peak \(amp)")
            #expect(mid < 0.5 * min(a, b), "between the lines \(mid)")
            #expect(c < 0.45 * a && c > 0.05 * a, "dark part \(c) vs flash \(a)")
            flashes += 1
            u += period
        }
        #expect(flashes >= 2)
    }

    @Test("12-bit ADC: values 0...4095, a populated ceiling where stars saturate, truth records it")
    func twelveBit() throws {
        let s = try series { $0.adcBits = 12; $0.saturatingStars = 12; $0.blooming = true }
        let t = s.truth
        #expect(t.adcBits == 12 && t.adcDivisor == 16 && t.saturation == 4095 && t.fullWell == 65035 && t.blooming == true)
        let keywords = s.frameKeywords(0)
        #expect(!keywords.contains { $0.name == "SATURATE" })
        #expect(keywords.contains { $0.name == "GAIN" && $0.value == .double(16) })
        var saturatedSeen = 0
        for f in [0, 2, 4] {
            let img = s.render(frame: f)
            #expect(img.pixels.allSatisfy { $0 >= 0 && $0 <= 4095 && $0 == $0.rounded() })
            let ceiling = img.pixels.filter { $0 == 4095 }.count
            let sat = try #require(t.perFrame[f].saturatedStars)
            #expect(ceiling > 0 || sat.isEmpty)
            for i in sat {
                let p = t.perFrame[f].transform.apply(x: t.stars[i].x, y: t.stars[i].y)
                let x = Int(p.x.rounded()), y = Int(p.y.rounded())
                var top: Float = 0
                for dy in -1...1 { for dx in -1...1 where (0..<320).contains(x + dx) && (0..<240).contains(y + dy) {
                    top = max(top, img[x + dx, y + dy])
                } }
                #expect(top == 4095, "frame \(f): saturated star \(i) at (\(p.x), \(p.y)) peaks at \(top)")
                saturatedSeen += 1
            }
            // Sky around pedestal + background, divided by 16.
            let expected = (s.config.pedestal + t.perFrame[f].background) / 16
            #expect(abs(SynthMeasure.median(img.pixels) - expected) < 0.15 * expected)
        }
        #expect(saturatedSeen >= 3)
    }

    @Test("blooming: saturated charge bleeds along columns, not rows")
    func blooming() throws {
        let make: (Bool) throws -> SynthSeries = { bloom in
            try series { $0.saturatingStars = 12; $0.blooming = bloom }
        }
        let on = try make(true), off = try make(false)
        #expect(on.truth.stars == off.truth.stars)
        let img = on.render(frame: 0)
        let sat = try #require(on.truth.perFrame[0].saturatedStars)
        try #require(!sat.isEmpty)
        var longer = 0
        for i in sat {
            let p = on.truth.perFrame[0].transform.apply(x: on.truth.stars[i].x, y: on.truth.stars[i].y)
            let x = Int(p.x.rounded()), y = Int(p.y.rounded())
            guard (1..<319).contains(x), (1..<239).contains(y), img[x, y] == 65535 else { continue }
            func run(_ dx: Int, _ dy: Int) -> Int {
                var n = 0, cx = x + dx, cy = y + dy
                while (0..<320).contains(cx) && (0..<240).contains(cy) && img[cx, cy] == 65535 { n += 1; cx += dx; cy += dy }
                return n
            }
            let vertical = run(0, 1) + run(0, -1), horizontal = run(1, 0) + run(-1, 0)
            #expect(vertical >= horizontal, "star \(i): vertical \(vertical), horizontal \(horizontal)")
            if vertical > horizontal + 1 { longer += 1 }
        }
        #expect(longer >= 1)
        // Charge is conserved (up to the edges): the bloomed frame's saturated columns hold the light.
        let offSat = off.render(frame: 0).pixels.filter { $0 == 65535 }.count
        #expect(img.pixels.filter { $0 == 65535 }.count >= offSat)
    }

    @Test("tracking-glitch frames: stars are copies at the recorded kernel offsets")
    func glitchFrames() throws {
        let s = try series(frames: 8) { $0.glitchFraction = 1 }
        var kinds = Set<String>()
        #expect(s.truth.perFrame.allSatisfy { $0.glitch != nil })
        for ft in s.truth.perFrame {
            let g = try #require(ft.glitch)
            kinds.insert(g.kind)
            #expect(g.points.first.map { $0.dx == 0 && $0.dy == 0 } == true)
            #expect(abs(g.points.map(\.weight).reduce(0, +) - 1) < 1e-12)
            let mx = g.points.map { $0.dx * $0.weight }.reduce(0, +), my = g.points.map { $0.dy * $0.weight }.reduce(0, +)
            let last = g.points.last!
            let img = s.render(frame: ft.index, options: .starsOnly)
            let stars = SynthMeasure.isolatedStars(s, frame: ft.index, edge: 30, minFlux: 3000)
            for (_, x, y) in stars.prefix(2) {
                // The light's centroid is the kernel's weighted mean offset from the first copy.
                let c = SynthMeasure.centroid(img, x: x + mx, y: y + my, radius: 14 + 2 * ft.seeingFwhm)
                #expect(abs(c.x - (x + mx)) < 0.3 && abs(c.y - (y + my)) < 0.3,
                        "frame \(ft.index) (\(g.kind)): centroid (\(c.x), \(c.y)), expected (\(x + mx), \(y + my))")
                if g.kind == "double" {
                    // Two peaks: the second copy is a local maximum at the recorded offset.
                    let sx = Int((x + last.dx).rounded()), sy = Int((y + last.dy).rounded())
                    var best = (v: Float(0), x: 0, y: 0)
                    for dy in -2...2 { for dx in -2...2 where img[sx + dx, sy + dy] > best.v { best = (img[sx + dx, sy + dy], sx + dx, sy + dy) } }
                    #expect(abs(best.x - sx) <= 1 && abs(best.y - sy) <= 1, "second peak at (\(best.x), \(best.y)), expected (\(sx), \(sy))")
                    let mid = img[Int((x + last.dx / 2).rounded()), Int((y + last.dy / 2).rounded())]
                    let sep = (last.dx * last.dx + last.dy * last.dy).squareRoot()
                    if sep > 1.6 * ft.seeingFwhm { #expect(mid < best.v, "no dip between the copies") }
                }
            }
        }
        #expect(kinds == ["double", "line"])
        #expect(s.truth.bestFrame >= 0)
    }

    @Test("drift reaches the requested fraction of the width, with field rotation")
    func drift() throws {
        let s = try series(frames: 8) { $0.driftFraction = 0.3 }
        #expect(s.truth.driftFraction == 0.3)
        let cx = 159.5, cy = 119.5
        let first = s.truth.perFrame[0].transform.apply(x: cx, y: cy), last = s.truth.perFrame[7].transform.apply(x: cx, y: cy)
        let moved = ((last.x - first.x) * (last.x - first.x) + (last.y - first.y) * (last.y - first.y)).squareRoot()
        // 0.3 * 320 = 96 px, +- the jitter of both frames (3 px per axis each).
        #expect(abs(moved - 96) < 9, "moved \(moved) px")
        #expect(abs(s.truth.perFrame[7].transform.rotation - 3 * Double.pi / 180) < 1e-12)
        // The catalog covers the drifted frames: the last frame still has isolated stars where the truth puts them.
        let img = s.render(frame: 7, options: .starsOnly)
        let stars = SynthMeasure.isolatedStars(s, frame: 7, minFlux: 3000)
        try #require(stars.count >= 2)
        for (_, x, y) in stars.prefix(3) {
            let c = SynthMeasure.centroid(img, x: x, y: y, radius: 8)
            #expect(abs(c.x - x) < 0.05 && abs(c.y - y) < 0.05)
        }
    }

    @Test("realistic mix: deterministic for any worker count, upper-case .FITS names, truth round-trips")
    func realisticFiles() throws {
        var config = SynthConfig(width: 160, height: 120, frames: 6, seed: 5).realistic()
        config.starCount = 40
        config.frameExtension = "FITS"
        let a = TemporaryDirectory("synth-real-a"), b = TemporaryDirectory("synth-real-b")
        try SynthSeries(config).write(to: a.path, concurrency: 1)
        try SynthSeries(config).write(to: b.path, concurrency: 2)
        let names = try FileManager.default.contentsOfDirectory(atPath: a.path + "/frames").sorted()
        #expect(names == (0..<6).map { String(format: "frame_%05d.FITS", $0) })
        for name in names.map({ "frames/" + $0 }) + ["truth/truth.json", "truth/reference.fits"] {
            let da = try Data(contentsOf: URL(fileURLWithPath: a.file(name)))
            #expect(da == (try Data(contentsOf: URL(fileURLWithPath: b.file(name)))), "\(name) differs")
        }
        let truth = try SynthTruth.decode(Data(contentsOf: URL(fileURLWithPath: a.file("truth/truth.json"))))
        #expect(truth.perFrame[0].file == "frames/frame_00000.FITS" && truth.frameExtension == "FITS")
        #expect(truth.adcBits == 12 && truth.saturation == 4095 && truth.warmColumns?.count == 2)
        #expect(truth.hotPixels.count == Int((300.0 * 160 * 120 / 1e6).rounded()))
        #expect(truth.perFrame.filter { $0.satelliteTrails != nil }.count == 2)
        #expect(truth.perFrame.filter { $0.glitch != nil }.count == 1)
        #expect(truth.perFrame.filter { $0.planeTrails != nil }.count == 1)
        #expect(truth.perFrame.allSatisfy { $0.cosmicRays != nil && $0.saturatedStars != nil })
        let frame = try FITS.read(a.file("frames/frame_00003.FITS"))
        #expect(frame.pixels.allSatisfy { $0 <= 4095 })
        // Rewriting with lower-case names removes the upper-case files: the directory holds one series.
        config.frameExtension = "fits"
        try SynthSeries(config).write(to: a.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: a.path + "/frames").sorted()
                == (0..<6).map { String(format: "frame_%05d.fits", $0) })
    }

    @Test("SynthConfig round-trips through JSON; JSON without the defect knobs decodes to the defaults")
    func configCodable() throws {
        var c = SynthConfig(width: 320, height: 240, frames: 6, seed: 9, cfa: true).realistic()
        c.starCount = 77
        c.frameExtension = "FITS"
        let data = try JSONEncoder().encode(c)
        #expect(try JSONDecoder().decode(SynthConfig.self, from: data) == c)
        let old = Data(#"{"width": 64, "height": 48, "frames": 3, "seed": 2, "cfa": false, "moffatBeta": 2.5}"#.utf8)
        let decoded = try JSONDecoder().decode(SynthConfig.self, from: old)
        var expected = SynthConfig(width: 64, height: 48, frames: 3, seed: 2)
        expected.moffatBeta = 2.5
        #expect(decoded == expected && decoded.defectsAreDefault)
    }

    @Test("invalid defect knobs are rejected with the field named")
    func validation() throws {
        var c = SynthConfig(width: 64, height: 64, frames: 4)
        c.adcBits = 20
        #expect(c.validationProblem()?.contains("adcBits") == true)
        c = SynthConfig(width: 64, height: 64, frames: 4); c.driftFraction = 1.5
        #expect(c.validationProblem()?.contains("driftFraction") == true)
        c = SynthConfig(width: 64, height: 64, frames: 4); c.satelliteTrails = 5
        #expect(c.validationProblem()?.contains("satelliteTrails") == true)
        c = SynthConfig(width: 64, height: 64, frames: 4); c.frameExtension = ".fits"
        #expect(c.validationProblem()?.contains("frameExtension") == true)
        #expect(SynthConfig(width: 64, height: 64, frames: 4).realistic().validationProblem() == nil)
    }
}
