import Foundation
import Imaging
import TestSupport

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
