import Foundation
@testable import Imaging

/// Small, independent measurement helpers for the synth tests (deliberately not the pipeline's
/// star detector: the generator is checked against first principles).
enum SynthMeasure {
    /// Median of `values` (copy-sorted).
    static func median(_ values: [Float]) -> Double {
        precondition(!values.isEmpty)
        let s = values.sorted()
        let n = s.count
        return n % 2 == 1 ? Double(s[n / 2]) : (Double(s[n / 2 - 1]) + Double(s[n / 2])) / 2
    }

    /// Median of the pixels in the annulus r1 <= r < r2 around (x, y).
    static func annulusMedian(_ image: Image, x: Double, y: Double, r1: Double, r2: Double) -> Double {
        var values: [Float] = []
        let ix = Int(x.rounded()), iy = Int(y.rounded()), ir = Int(r2.rounded(.up))
        for py in max(0, iy - ir)...min(image.height - 1, iy + ir) {
            for px in max(0, ix - ir)...min(image.width - 1, ix + ir) {
                let d2 = (Double(px) - x) * (Double(px) - x) + (Double(py) - y) * (Double(py) - y)
                if d2 >= r1 * r1 && d2 < r2 * r2 { values.append(image[px, py]) }
            }
        }
        return median(values)
    }

    /// Background-subtracted, iterated intensity centroid within `radius` of a starting guess.
    static func centroid(_ image: Image, x: Double, y: Double, radius: Double) -> (x: Double, y: Double) {
        var cx = x, cy = y
        for _ in 0..<4 {
            let bg = annulusMedian(image, x: cx, y: cy, r1: radius + 3, r2: radius + 8)
            var sw = 0.0, sx = 0.0, sy = 0.0
            let ix = Int(cx.rounded()), iy = Int(cy.rounded()), ir = Int(radius.rounded(.up))
            for py in (iy - ir)...(iy + ir) {
                for px in (ix - ir)...(ix + ir) {
                    let dx = Double(px) - cx, dy = Double(py) - cy
                    if dx * dx + dy * dy > radius * radius { continue }
                    let v = Double(image[px, py]) - bg
                    if v <= 0 { continue }
                    sw += v; sx += v * Double(px); sy += v * Double(py)
                }
            }
            cx = sx / sw
            cy = sy / sw
        }
        return (cx, cy)
    }

    /// Background-subtracted sum within `radius` (background: annulus median just outside).
    static func apertureFlux(_ image: Image, x: Double, y: Double, radius: Double) -> Double {
        let bg = annulusMedian(image, x: x, y: y, r1: radius + 2, r2: radius + 7)
        var sum = 0.0
        let ix = Int(x.rounded()), iy = Int(y.rounded()), ir = Int(radius.rounded(.up))
        for py in (iy - ir)...(iy + ir) {
            for px in (ix - ir)...(ix + ir) {
                let dx = Double(px) - x, dy = Double(py) - y
                if dx * dx + dy * dy <= radius * radius { sum += Double(image[px, py]) - bg }
            }
        }
        return sum
    }

    /// FWHM from second moments of a noise-free, background-free star within `radius`, for a
    /// Moffat beta = 3 profile: removes the pixel box's 1/12 px^2 per axis and corrects for the
    /// truncated wings analytically, so a perfect render gives back the FWHM it was drawn with.
    static func momentFWHM(_ image: Image, x: Double, y: Double, radius: Double) -> Double {
        var sw = 0.0, sr2 = 0.0
        let ix = Int(x.rounded()), iy = Int(y.rounded()), ir = Int(radius.rounded(.up))
        for py in (iy - ir)...(iy + ir) {
            for px in (ix - ir)...(ix + ir) {
                let dx = Double(px) - x, dy = Double(py) - y
                let d2 = dx * dx + dy * dy
                if d2 > radius * radius { continue }
                let v = Double(image[px, py])
                sw += v; sr2 += v * d2
            }
        }
        let m = sr2 / sw - 2.0 / 12.0
        // <r^2> within R of a beta=3 Moffat = alpha^2 * g(R^2 / alpha^2).
        func g(_ u: Double) -> Double {
            let a = 1 / (1 + u), b = a * a
            return ((1 - a) - (1 - b) / 2) / ((1 - b) / 2)
        }
        var alpha2 = m
        for _ in 0..<50 { alpha2 = m / g(radius * radius / alpha2) }
        return 2 * alpha2.squareRoot() * (pow(2, 1.0 / 3) - 1).squareRoot()
    }

    /// Bright catalog stars that are isolated (no star brighter than 2 % of it within 15 px, none
    /// brighter than 20 % within 25 px),
    /// unsaturated at the worst seeing, at least `edge` px inside frame `frame`, away from hot
    /// pixels and the trail; brightest first.
    static func isolatedStars(_ series: SynthSeries, frame: Int, edge: Double = 30, minFlux: Double = 5000)
        -> [(star: SynthStar, x: Double, y: Double)] {
        let t = series.truth.perFrame[frame]
        let stars = series.scene.stars
        let w = Double(series.config.width), h = Double(series.config.height)
        let model = series.psf
        var result: [(SynthStar, Double, Double)] = []
        for (i, s) in stars.enumerated() where s.flux >= minFlux {
            let a = model.alpha(forFWHM: series.config.seeingRange.lowerBound)
            let peak = s.flux * 2 / (Double.pi * a * a)
            if peak > 30_000 { continue }
            let p = t.transform.apply(x: s.x, y: s.y)
            if p.x < edge || p.y < edge || p.x > w - 1 - edge || p.y > h - 1 - edge { continue }
            let crowded = stars.enumerated().contains { j, o in
                let d2 = (o.x - s.x) * (o.x - s.x) + (o.y - s.y) * (o.y - s.y)
                return j != i && ((o.flux > 0.02 * s.flux && d2 < 225) || (o.flux > 0.2 * s.flux && d2 < 625))
            }
            if crowded { continue }
            let nearHot = series.hotPixels.contains { abs(Double($0.x) - p.x) < 20 && abs(Double($0.y) - p.y) < 20 }
            if nearHot { continue }
            if let trail = t.trail {
                let lx = trail.x1 - trail.x0, ly = trail.y1 - trail.y0
                let len = (lx * lx + ly * ly).squareRoot()
                if abs((p.x - trail.x0) * (-ly / len) + (p.y - trail.y0) * (lx / len)) < 25 { continue }
            }
            result.append((s, p.x, p.y))
        }
        return result.sorted { $0.0.flux > $1.0.flux }
    }
}
