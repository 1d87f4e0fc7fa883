import Foundation
import Imaging

/// Star FWHM of the final stack against the classical stack, over stars found in both.
public struct FWHMComparison: Codable, Sendable, Equatable {
    /// Stars detected (and accepted) in the final stack.
    public var stackStars: Int
    /// Stars detected (and accepted) in the classical stack.
    public var classicalStars: Int
    /// Stars matched by position.
    public var matched: Int
    /// Median FWHM of the matched stars in the final stack, px.
    public var stackMedian: Double?
    /// Median FWHM of the matched stars in the classical stack, px.
    public var classicalMedian: Double?
    /// `100 * (classical - stack) / classical`; positive = the final stack is sharper.
    public var improvementPercent: Double?
    /// Median of (stack flux / classical flux) over the matched stars: the factor that brings the
    /// final stack into the classical stack's flux units; nil with fewer than `minStarsForFluxScale`.
    public var fluxRatio: Double?
}

extension Validation {
    /// Matched stars needed before `FWHMComparison.fluxRatio` is trusted.
    public static let minStarsForFluxScale = 5
    /// Two detections are the same star when their centres are closer than this, px.
    public static let matchRadius = 2.0

    /// Star detection used by validation: 5 sigma above a 32 px background mesh (gradients and nebulae
    /// do not create detections), Gaussian PSF fit, at most 2000 stars (the brightest).
    public static let starOptions = StarDetectionOptions(thresholdSigma: 5, background: .map(mesh: 32), maxStars: 2000)

    /// The plane stars are measured on: the image itself when mono, the mean of the planes (NaN where
    /// any plane is NaN) when RGB.
    public static func luminance(_ image: Image) -> Image {
        guard image.channels > 1 else { return image }
        let n = image.planeSize, c = image.channels
        var out = [Float](repeating: 0, count: n)
        image.pixels.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    var s: Float = 0
                    for k in 0..<c { s += px[k * n + i] }
                    o[i] = s / Float(c)
                }
            }
        }
        return Image(width: image.width, height: image.height, pixels: out)
    }

    /// The stars of `image` (luminance) that can measure seeing: ellipticity <= 0.4, SNR >= 20, finite
    /// FWHM (the phase-4 criteria). Deterministic, brightest first.
    public static func seeingStars(in image: Image) -> [StarMeasurement] {
        seeingStars(luminance: luminance(image))
    }

    /// `seeingStars(in:)` of an image whose luminance is `l`.
    public static func seeingStars(luminance l: Image) -> [StarMeasurement] {
        detectStars(in: l, options: starOptions).filter {
            $0.ellipticity <= TileGeometry.maxEllipticity && $0.snr >= TileGeometry.minStarSNR && $0.fwhm.isFinite && $0.fwhm > 0
        }
    }

    /// Median FWHM (px) of the seeing stars of `image`; nil without any. For the bench script.
    public static func medianStarFWHM(_ image: Image) -> Double? {
        Statistics.median(seeingStars(in: image).map(\.fwhm))
    }

    /// Pairs of (stack star, classical star) whose centres are within `matchRadius` and that are each
    /// other's nearest neighbour. Stable order (stack stars' order).
    public static func match(_ a: [StarMeasurement], _ b: [StarMeasurement]) -> [(StarMeasurement, StarMeasurement)] {
        func nearest(_ s: StarMeasurement, in list: [StarMeasurement]) -> Int? {
            var best: Int? = nil, bestD = matchRadius * matchRadius
            for (j, t) in list.enumerated() {
                let d = (s.x - t.x) * (s.x - t.x) + (s.y - t.y) * (s.y - t.y)
                if d < bestD { bestD = d; best = j }
            }
            return best
        }
        var pairs: [(StarMeasurement, StarMeasurement)] = []
        for (i, s) in a.enumerated() {
            guard let j = nearest(s, in: b), nearest(b[j], in: a) == i else { continue }
            pairs.append((s, b[j]))
        }
        return pairs
    }

    /// Compares the seeing stars of `stack` and `classical` (both in the reference geometry) over the
    /// stars found in both (`match`): medians, improvement in percent, and the flux ratio. With
    /// `threads` > 1 the two stacks are measured at the same time (same results).
    public static func compareFWHM(stack: Image, classical: Image, threads: Int = 1) -> FWHMComparison {
        let (s, c) = Parallel.both(threads: threads, { seeingStars(in: stack) }, { seeingStars(in: classical) })
        return compareFWHM(stackStars: s, classicalStars: c)
    }

    /// `compareFWHM(stack:classical:threads:)` on seeing stars already measured (`seeingStars`).
    public static func compareFWHM(stackStars s: [StarMeasurement], classicalStars c: [StarMeasurement]) -> FWHMComparison {
        let pairs = match(s, c)
        let sm = Statistics.median(pairs.map(\.0.fwhm)), cm = Statistics.median(pairs.map(\.1.fwhm))
        var improvement: Double? = nil
        if let sm, let cm, cm > 0 { improvement = 100 * (cm - sm) / cm }
        let ratios = pairs.compactMap { p -> Double? in
            let r = p.0.flux / p.1.flux
            return p.1.flux > 0 && r.isFinite && r > 0 ? r : nil
        }
        let ratio = ratios.count >= minStarsForFluxScale ? Statistics.median(ratios) : nil
        return FWHMComparison(stackStars: s.count, classicalStars: c.count, matched: pairs.count,
                              stackMedian: sm, classicalMedian: cm, improvementPercent: improvement, fluxRatio: ratio)
    }
}
