import Foundation
import Imaging
import Testing
import TestSupport
@testable import Steps

@Suite("measure: normalization and per-frame metrics")
struct MeasureTests {
    @Test("background mode: B is the sky level, normalized sky is 1, sigma is noise/B, NaN never counts")
    func normalizationOnKnownImage() throws {
        let stars = MetricsTestData.lattice(width: 160, height: 120, spacing: 30, margin: 15, peak: 3000)
        var img = MetricsTestData.field(width: 160, height: 120, level: 1000, sigma: 10, fwhm: 3, stars: stars, seed: 1)
        for x in 0..<40 { img[x, 0] = .nan; img[x, 1] = .nan }  // an uncovered strip
        let (norm, ch) = try Measure.normalize(img, mode: .background, file: "a.fits")
        let c = try #require(ch.first)
        #expect(abs(c.background - 1000) < 1.5)
        #expect(abs(c.noise - 0.01) < 0.0006)  // 10 / 1000, without the stars
        #expect(norm[0, 0].isNaN && norm[39, 1].isNaN)
        #expect(abs(norm[100, 110] - img[100, 110] / Float(c.background)) < 1e-6)
        let sky = try #require(Statistics.median(norm.pixels))
        #expect(abs(sky - 1) < 0.002)
        // Plain median: the stars pull it up a little, never down.
        let (_, med) = try Measure.normalize(img, mode: .median, file: "a.fits")
        #expect(med[0].background >= c.background - 0.5)
        #expect(med[0].noise > c.noise)  // stars widen the MAD of all pixels
    }

    @Test("gradient energy is the mean |grad|^2 of the normalized frame: a ramp gives (slope/B)^2")
    func gradientOfRamp() throws {
        var img = Image(width: 64, height: 48)
        for y in 0..<48 { for x in 0..<64 { img[x, y] = Float(2000 + 4 * (Double(x) - 31.5)) } }
        let (_, ch) = try Measure.normalize(img, mode: .median, file: "ramp.fits")
        let b = ch[0].background
        #expect(abs(b - 2000) < 2.5)
        let expected = (4 / b) * (4 / b)
        #expect(abs(ch[0].gradient / expected - 1) < 1e-3)
        #expect(ch[0].noise < 1e-6)  // a smooth ramp has no pixel noise
    }

    @Test("sigma is pixel noise: a bright smooth blob (nebula) and a gradient do not raise it")
    func noiseIgnoresSmoothStructure() throws {
        var img = MetricsTestData.field(width: 128, height: 96, level: 1000, sigma: 20, fwhm: 3, stars: [], seed: 6)
        let flat = try Measure.normalize(img, mode: .background, file: "flat.fits").channels[0]
        for y in 0..<96 {
            for x in 0..<128 {
                let dx = Double(x) - 64, dy = Double(y) - 48
                img[x, y] += Float(600 * exp(-(dx * dx + dy * dy) / (2 * 25 * 25)) + 2 * Double(x))
            }
        }
        let nebula = try Measure.normalize(img, mode: .background, file: "neb.fits").channels[0]
        #expect(abs(flat.noise * flat.background - 20) < 1)
        #expect(abs(nebula.noise * nebula.background - 20) < 1)
        // The spread of the pixel values, by contrast, is dominated by the structure.
        #expect(try #require(Statistics.sigmaFromMAD(img.pixels)) > 60)
        #expect(Measure.pixelNoise(Image(width: 1, height: 4, fill: 1), plane: 0) == nil)
    }

    @Test("a frame with background <= 0 cannot be normalized and the error names the file")
    func nonPositiveBackgroundThrows() {
        let img = Image(width: 32, height: 32, fill: -5)
        #expect(throws: MetricsError.noBackground(file: "dark.fits", channel: 0, level: -5)) {
            _ = try Measure.normalize(img, mode: .background, file: "dark.fits")
        }
        let nan = Image(width: 16, height: 16, fill: .nan)
        do {
            _ = try Measure.normalize(nan, mode: .median, file: "empty.fits")
            Issue.record("expected an error")
        } catch let e as MetricsError {
            #expect(e.description.contains("empty.fits") && e.description.contains("no finite pixel"))
        } catch { Issue.record("wrong error \(error)") }
    }

    @Test("RGB: each channel normalized by its own B; luminance is the mean of the normalized planes")
    func rgbChannels() throws {
        let r = MetricsTestData.field(width: 64, height: 64, level: 800, sigma: 8, fwhm: 3, stars: [], seed: 2)
        let g = MetricsTestData.field(width: 64, height: 64, level: 1600, sigma: 12, fwhm: 3, stars: [], seed: 3)
        let b = MetricsTestData.field(width: 64, height: 64, level: 400, sigma: 6, fwhm: 3, stars: [], seed: 4)
        var rgb = Image.merging(planes: [r, g, b])
        rgb[5, 5, 1] = .nan
        let (norm, ch) = try Measure.normalize(rgb, mode: .background, file: "rgb.fits")
        #expect(ch.count == 3)
        #expect(abs(ch[0].background - 800) < 2 && abs(ch[1].background - 1600) < 3 && abs(ch[2].background - 400) < 1)
        let lum = Measure.luminance(norm)
        #expect(lum.channels == 1)
        #expect(abs(lum[7, 9] - (norm[7, 9, 0] + norm[7, 9, 1] + norm[7, 9, 2]) / 3) < 1e-6)
        #expect(lum[5, 5].isNaN)
        #expect(abs(Measure.coverage(lum) - (1 - 1.0 / 4096)) < 1e-12)
    }

    @Test("stars: FWHM of Gaussian stars is recovered, saturated stars are flagged, median FWHM skips them")
    func starsAndSaturation() throws {
        var stars = MetricsTestData.lattice(width: 200, height: 160, spacing: 32, margin: 20, peak: 4000)
        stars[0].peak = 80000  // clipped below to the sensor limit
        var img = MetricsTestData.field(width: 200, height: 160, level: 1000, sigma: 10, fwhm: 3.2, stars: stars, seed: 5)
        for i in img.pixels.indices { img.pixels[i] = min(img.pixels[i], 65535) }
        let m = try Measure.measure(img, mode: .background, thresholdSigma: 5, saturation: 65535, file: "s.fits")
        // Every star is measured up to the fit bound (`Measure.fitSpread` per 64 px cell).
        let measurable = MetricsTestData.withinFitSpread(stars.map { ($0.x, $0.y) })
        #expect(m.starCount >= measurable - 1 && m.starCount <= measurable)
        let fwhm = try #require(m.fwhm)
        #expect(abs(fwhm - 3.2) < 0.2)
        let sat = m.stars.filter(\.saturated)
        #expect(sat.count <= 1)
        #expect(sat.allSatisfy { abs($0.x - stars[0].x) < 2 && abs($0.y - stars[0].y) < 2 })
        // The clipped star is flagged or not measured at all; it never passes as an ordinary star.
        #expect(!m.stars.contains { !$0.saturated && abs($0.x - stars[0].x) < 2 && abs($0.y - stars[0].y) < 2 })
        // A saturation level below every star's peak flags them all: no median FWHM is left.
        let low = try Measure.measure(img, mode: .background, thresholdSigma: 5, saturation: 4500, file: "s.fits")
        #expect(low.starCount > 0 && low.stars.allSatisfy(\.saturated) && low.fwhm == nil)
        #expect(m.stars.allSatisfy { $0.roundness > 0.8 && abs($0.ellipticity - (1 - $0.roundness)) < 1e-5 && $0.snr > 0 })
        // Without a saturation level nothing is flagged.
        let free = try Measure.measure(img, mode: .background, thresholdSigma: 5, saturation: nil, file: "s.fits")
        #expect(free.stars.allSatisfy { !$0.saturated })
    }

    @Test("saturation flags come from the input frame's raw pixels, mapped through the registration")
    func saturationFromTheSensorFrame() throws {
        // A 12-bit camera: one star touches the 4095 ceiling with a single pixel. Resampling (here a
        // registered frame shifted by (3, 2) px whose peaks are 4 % lower, as a half-pixel Lanczos
        // shift does to a one-pixel flat top) leaves it below 98 % of the level.
        let stars = MetricsTestData.lattice(width: 200, height: 160, spacing: 32, margin: 20, peak: 2000)
        var raw = MetricsTestData.field(width: 200, height: 160, level: 300, sigma: 5, fwhm: 3.2, stars: stars, seed: 7)
        let cx = Int(stars[4].x.rounded()), cy = Int(stars[4].y.rounded())
        raw[cx, cy] = 4095
        var registered = Image(width: 200, height: 160, pixels: [Float](repeating: 300, count: 200 * 160))
        for y in 0..<160 {
            for x in 0..<200 where x + 3 < 200 && y + 2 < 160 { registered[x, y] = raw[x + 3, y + 2] * 0.96 }
        }
        let shift = SimilarityTransform(rotation: 0, scale: 1, tx: 3, ty: 2)  // registered -> raw
        let star = (x: stars[4].x - 3, y: stars[4].y - 2)
        func flagged(_ m: FrameMeasurement) -> [MeasuredStar] {
            m.stars.filter { abs($0.x - star.x) < 2 && abs($0.y - star.y) < 2 }
        }
        let withSensor = try Measure.measure(registered, mode: .background, thresholdSigma: 5, saturation: 4095,
                                             sensor: Measure.SensorFrame(image: raw, transform: shift), file: "s.fits")
        #expect(flagged(withSensor).count == 1 && flagged(withSensor).allSatisfy(\.saturated))
        #expect(withSensor.stars.filter(\.saturated).count == 1)
        // The registered frame alone misses it.
        let alone = try Measure.measure(registered, mode: .background, thresholdSigma: 5, saturation: 4095, file: "s.fits")
        #expect(flagged(alone).count == 1 && !flagged(alone)[0].saturated)
        #expect(SaturationLevel.touches(raw, x: stars[4].x + 0.4, y: stars[4].y - 0.4, adu: 4095))
        #expect(!SaturationLevel.touches(raw, x: stars[4].x + 2.6, y: stars[4].y, adu: 4095))
    }

    @Test("crowded field: at most fitSpread.perCell stars per 64 px cell are fitted, spread over the field")
    func fitBoundOnCrowdedField() throws {
        let stars = MetricsTestData.lattice(width: 256, height: 192, spacing: 16, margin: 12, peak: 4000)
        let img = MetricsTestData.field(width: 256, height: 192, level: 1000, sigma: 10, fwhm: 3, stars: stars, seed: 8)
        let m = try Measure.measure(img, mode: .background, thresholdSigma: 5, saturation: 65535, file: "dense.fits")
        let bound = MetricsTestData.withinFitSpread(stars.map { ($0.x, $0.y) })
        #expect(bound == 12 * Measure.fitSpread.perCell && bound < stars.count)  // 4 x 3 cells of 16 stars
        #expect(m.starCount == bound)
        for cy in 0..<3 {
            for cx in 0..<4 {
                let inCell = m.stars.filter { Int($0.x.rounded()) / 64 == cx && Int($0.y.rounded()) / 64 == cy }
                #expect(inCell.count == Measure.fitSpread.perCell)
            }
        }
        let fwhm = try #require(m.fwhm)
        #expect(abs(fwhm - 3) < 0.2)
    }

    @Test("RGB frame: three channel entries, stars found once on the luminance, identical bytes on a rerun")
    func rgbMeasurementIsDeterministic() throws {
        let stars = MetricsTestData.lattice(width: 160, height: 120, spacing: 36, margin: 18, peak: 3000)
        let planes = [(700.0, 7.0, UInt64(11)), (1400, 10, 12), (500, 6, 13)].map { level, sigma, seed in
            MetricsTestData.field(width: 160, height: 120, level: level, sigma: sigma, fwhm: 3, stars: stars, seed: seed)
        }
        var rgb = Image.merging(planes: planes)
        for x in 0..<160 { rgb[x, 119, 2] = .nan }
        let a = try Measure.measure(rgb, mode: .background, thresholdSigma: 5, saturation: 65535, file: "rgb.fits")
        #expect(a.channels.count == 3)
        #expect(abs(a.channels[1].background - 1400) < 3)
        #expect(a.starCount == MetricsTestData.withinFitSpread(stars.map { ($0.x, $0.y) }))
        #expect(abs(a.coverage - 119.0 / 120) < 1e-6)
        let b = try Measure.measure(rgb, mode: .background, thresholdSigma: 5, saturation: 65535, file: "rgb.fits")
        #expect(try Artifacts.encoder().encode(a) == Artifacts.encoder().encode(b))
    }

    @Test("detection noise outside the normalization's star mask: the same stars as a second clip and mask")
    func detectionNoiseFromNormalizationMask() throws {
        let stars = MetricsTestData.lattice(width: 256, height: 192, spacing: 24, margin: 12, peak: 600)
        let img = MetricsTestData.field(width: 256, height: 192, level: 1000, sigma: 10, fwhm: 3, stars: stars, seed: 21)
        let (normalized, _, mask) = try Measure.normalizeMasked(img, mode: .background, file: "m.fits")
        let lum = Measure.luminance(normalized)
        let shared = Measure.stars(luminance: lum, raw: img, thresholdSigma: 5, saturation: nil, sourceMask: try #require(mask))
        let own = Measure.stars(luminance: lum, raw: img, thresholdSigma: 5, saturation: nil)
        #expect(shared.count == own.count && !own.isEmpty)
        // Same detection noise within ~1 %: contrast (peak / noise) of every star moves that little.
        for (a, b) in zip(shared, own) { #expect(abs(a.contrast / b.contrast - 1) < 0.01 && a.fwhm == b.fwhm) }
        #expect(try Measure.normalizeMasked(img, mode: .median, file: "m.fits").luminanceMask == nil)
    }

    @Test("rounding keeps 7 significant digits and maps non-finite to 0")
    func rounding() {
        #expect(Measure.rounded(3.14159265358) == 3.141593)
        #expect(Measure.rounded(0.000123456789) == 0.0001234568)
        #expect(Measure.rounded(-98765432.1) == -98765430)
        #expect(Measure.rounded(.nan) == 0 && Measure.rounded(.infinity) == 0)
    }
}


/// Seeded test images for the metric phases.
enum MetricsTestData {
    /// Standard normal deviate (Box-Muller) from a seeded generator.
    static func normal(_ rng: inout TestRNG) -> Double {
        let u1 = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-300), u2 = Double(rng.next() >> 11) / Double(1 << 53)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A `width` x `height` mono image: `level` + Gaussian noise `sigma` + circular Gaussian stars
    /// (x, y, peak) of the given FWHM.
    static func field(width: Int, height: Int, level: Double, sigma: Double, fwhm: Double,
                      stars: [(x: Double, y: Double, peak: Double)], seed: UInt64) -> Image {
        var rng = TestRNG(seed: seed)
        var img = Image(width: width, height: height)
        let s = fwhm / 2.3548
        for y in 0..<height {
            for x in 0..<width {
                var v = level + sigma * normal(&rng)
                for st in stars {
                    let dx = Double(x) - st.x, dy = Double(y) - st.y
                    if abs(dx) < 6 * s + 2 && abs(dy) < 6 * s + 2 { v += st.peak * exp(-(dx * dx + dy * dy) / (2 * s * s)) }
                }
                img[x, y] = Float(v)
            }
        }
        return img
    }

    /// A star list on a regular lattice inside a margin.
    /// How many of the stars at `positions` the measurement fits: at most `Measure.fitSpread.perCell`
    /// per cell of `Measure.fitSpread.cell` px (by the cell of the star's nearest pixel).
    static func withinFitSpread(_ positions: [(Double, Double)]) -> Int {
        let cell = Double(Measure.fitSpread.cell)
        var counts: [String: Int] = [:]
        for (x, y) in positions { counts["\(Int((x.rounded() / cell).rounded(.down))),\(Int((y.rounded() / cell).rounded(.down)))", default: 0] += 1 }
        return counts.values.reduce(0) { $0 + min($1, Measure.fitSpread.perCell) }
    }

    static func lattice(width: Int, height: Int, spacing: Double, margin: Double, peak: Double) -> [(x: Double, y: Double, peak: Double)] {
        var out: [(x: Double, y: Double, peak: Double)] = []
        var y = margin
        while y < Double(height) - margin {
            var x = margin
            while x < Double(width) - margin { out.append((x + 0.3, y + 0.2, peak)); x += spacing }
            y += spacing
        }
        return out
    }
}
