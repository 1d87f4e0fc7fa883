import Foundation
import Imaging
import Testing
import TestSupport
@testable import Steps

/// `reconstruction.combine: matched` (proper coaddition) on synthetic frames with known PSFs, fluxes and noise.
@Suite("matched reconstruction kernel")
struct MatchedReconstructionTests {
    static let width = 192, height = 160, sky: Float = 100, beta = 3.0
    /// Seeing, transparency and raw noise of the 8 frames: the sharpest frames are not the least noisy.
    static let seeing = [2.0, 2.4, 2.8, 3.2, 3.6, 4.0, 4.4, 4.8]
    static let transparency = [1.0, 0.9, 1.0, 0.7, 1.0, 0.8, 1.0, 0.6]
    static let sigma = [3.0, 4.0, 3.0, 5.0, 3.0, 4.0, 6.0, 3.0]
    /// Star centres: 4 x 3, at least 30 px from the edges, off the pixel grid.
    static let stars: [(Double, Double)] = {
        var out: [(Double, Double)] = []
        for j in 0..<3 {
            for i in 0..<4 { out.append((30.3 + 44 * Double(i), 30.6 + 44 * Double(j))) }
        }
        return out
    }()
    static let starFlux = 3000.0

    static var grid: TileGrid {
        TileGeometry.grid(width: width, height: height, size: 64, overlapFraction: 0.25, fwhm: nil, starsUsed: 0)
    }

    /// Frame f: sky + stars (Moffat of the frame's seeing, flux x transparency) + Gaussian noise when `noise`.
    static func frame(_ f: Int, stars withStars: Bool, noise: Bool, seed: UInt64) -> Image {
        var im = Image(width: width, height: height, fill: sky)
        if withStars {
            let alpha = PSFParameters.width(fwhm: seeing[f], model: .moffat(beta: beta), beta: beta)
            let peak = starFlux * transparency[f] * (beta - 1) / (.pi * alpha * alpha)
            for (sx, sy) in stars {
                for y in max(0, Int(sy) - 25)..<min(height, Int(sy) + 26) {
                    for x in max(0, Int(sx) - 25)..<min(width, Int(sx) + 26) {
                        let r2 = ((Double(x) - sx) * (Double(x) - sx) + (Double(y) - sy) * (Double(y) - sy)) / (alpha * alpha)
                        im[x, y] += Float(peak * pow(1 + r2, -beta))
                    }
                }
            }
        }
        if noise {
            var rng = TestRNG(seed: seed &+ UInt64(f) &* 7919)
            for k in im.pixels.indices { im.pixels[k] += Float(rng.normal() * sigma[f]) }
        }
        return im
    }

    static func frames(stars: Bool, noise: Bool, seed: UInt64 = 1) -> [ReconstructionFrame] {
        let tiles = grid.tiles.count
        return seeing.indices.map { f in
            ReconstructionFrame(index: f, name: "f\(f)", source: .memory(frame(f, stars: stars, noise: noise, seed: seed)),
                                backgrounds: [Double(sky)],
                                matched: MatchedFrameModel(fluxScale: transparency[f], noise: [sigma[f] / Double(sky)],
                                                           tileFWHM: [Double](repeating: seeing[f], count: tiles)))
        }
    }

    /// Inverse-variance weights F / sigma^2 (normalized units) and their sums.
    static var ivWeights: [Double] { seeing.indices.map { transparency[$0] / pow(sigma[$0] / Double(sky), 2) } }

    /// sum_f w_f I_f / sum_f w_f of the normalized frames (the inverse-variance mean).
    static func weightedMean(_ frames: [ReconstructionFrame], _ w: [Double]) -> Image {
        var out = Image(width: width, height: height, fill: 0)
        for (f, fr) in frames.enumerated() {
            guard case .memory(let im) = fr.source else { continue }
            for k in im.pixels.indices { out.pixels[k] += Float(w[f] * Double(im.pixels[k]) / Double(sky)) }
        }
        let total = Float(w.reduce(0, +))
        for k in out.pixels.indices { out.pixels[k] /= total }
        return out
    }

    static func matched(_ frames: [ReconstructionFrame], threads: Int = 1) throws -> Image {
        try Reconstruction.reconstructMatched(frames: frames, grid: grid, window: .hanning, beta: beta, threads: threads).image
    }

    /// Aperture flux (radius 20, background 1 subtracted) of every star.
    static func fluxes(_ im: Image) -> [Double] {
        stars.map { (sx, sy) in
            var s = 0.0
            for y in (Int(sy) - 21)...(Int(sy) + 21) {
                for x in (Int(sx) - 21)...(Int(sx) + 21) where hypot(Double(x) - sx, Double(y) - sy) <= 20 {
                    s += Double(im[x, y]) - 1
                }
            }
            return s
        }
    }

    /// Median fitted FWHM (Moffat, free beta) of the stars.
    static func fwhm(_ im: Image) -> Double {
        let values = stars.compactMap { (sx, sy) in
            fitPSF(in: im, x: sx, y: sy, options: PSFFitOptions(model: .moffat(beta: beta), stampRadius: 12))?.measurement.fwhm
        }
        #expect(values.count == stars.count)
        return Statistics.median(values)!
    }

    @Test("pixel noise equals the predicted inverse-variance noise sqrt(sum F^2/s^2) / sum F/s^2 within 3 %")
    func noiseIsInverseVariance() throws {
        let out = try Self.matched(Self.frames(stars: false, noise: true))
        let s = Self.seeing.indices.map { Self.sigma[$0] / Double(Self.sky) }
        let s1 = Self.seeing.indices.reduce(0.0) { $0 + Self.transparency[$1] / (s[$1] * s[$1]) }
        let s2 = Self.seeing.indices.reduce(0.0) { $0 + pow(Self.transparency[$1] / s[$1], 2) }
        let predicted = s2.squareRoot() / s1
        var values: [Double] = []
        for y in 10..<(Self.height - 10) { for x in 10..<(Self.width - 10) { values.append(Double(out[x, y]) - 1) } }
        let mean = values.reduce(0, +) / Double(values.count)
        let std = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
        #expect(abs(std / predicted - 1) < 0.03, "noise \(std), predicted \(predicted)")
        // and below the plain mean's noise of the flux-normalized frames (sqrt(sum (s/F)^2) / n)
        let plain = (Self.seeing.indices.reduce(0.0) { $0 + pow(s[$1] / Self.transparency[$1], 2) }).squareRoot() / 8
        #expect(std * (s2 / s1) < plain * 0.95)
    }

    @Test("flux is the inverse-variance mean's within 1 %, and the stars are sharper than in the weighted means")
    func fluxAndSharpness() throws {
        let frames = Self.frames(stars: true, noise: false)
        let out = try Self.matched(frames)
        let iv = Self.weightedMean(frames, Self.ivWeights)
        let plain = Self.weightedMean(frames, [Double](repeating: 1, count: 8))
        let fm = Self.fluxes(out), fi = Self.fluxes(iv)
        for (a, b) in zip(fm, fi) { #expect(abs(a / b - 1) < 0.01, "matched flux \(a), inverse-variance mean \(b)") }
        // the expected flux in normalized units: sum F^2/s^2 / sum F/s^2 x flux / sky
        let w = Self.ivWeights
        let fbar = zip(w, Self.transparency).reduce(0.0) { $0 + $1.0 * $1.1 } / w.reduce(0, +)
        #expect(abs(Statistics.median(fm)! / (fbar * Self.starFlux / Double(Self.sky)) - 1) < 0.01)
        let sm = Self.fwhm(out), si = Self.fwhm(iv), sp = Self.fwhm(plain)
        #expect(sm < si * 0.97 && sm < sp * 0.95, "FWHM matched \(sm), inverse variance \(si), plain \(sp)")
        // the weighted kernel with equal tile weights is the plain mean
        let weights = ReconstructionTests.weights(frames: 8, tiles: Self.grid.tiles.count) { _, _ in 1 }
        let weighted = try Reconstruction.reconstruct(frames: frames, weights: weights, grid: Self.grid, window: .hanning,
                                                      eps: 1e-6, threads: 1).image
        #expect(sm < Self.fwhm(weighted) * 0.95)
    }

    @Test("bit-identical for 1 and 2 threads")
    func threadsDoNotChangeBytes() throws {
        let frames = Self.frames(stars: true, noise: true, seed: 5)
        let a = try Self.matched(frames, threads: 1), b = try Self.matched(frames, threads: 2)
        #expect(a.pixels.map(\.bitPattern) == b.pixels.map(\.bitPattern))
        #expect(a.pixels.allSatisfy { $0.isFinite })
    }

    @Test("rejected and NaN values are filled with the frame's background and the weight renormalized")
    func rejectedValues() throws {
        let clean = Self.frames(stars: true, noise: false)
        var dirty = clean
        // frame 0 (the sharpest): a bright trail across the image, all rejected; frame 3: a NaN strip
        guard case .memory(var im0) = dirty[0].source, case .memory(var im3) = dirty[3].source else { return }
        var rejected: [UInt32] = []
        for x in 0..<Self.width {
            im0[x, 52] = 5000
            rejected.append(UInt32(52 * Self.width + x))
        }
        for y in 60..<90 { for x in 0..<Self.width { im3[x, y] = .nan } }
        dirty[0].source = .memory(im0)
        dirty[0].rejected = rejected
        dirty[3].source = .memory(im3)
        let a = try Self.matched(clean), b = try Self.matched(dirty)
        var worst = 0.0
        for y in 10..<(Self.height - 10) { for x in 10..<(Self.width - 10) { worst = max(worst, Double(abs(a[x, y] - b[x, y]))) } }
        // the star peaks are ~1-3 in normalized units above the sky; the trail was 49
        #expect(worst < 0.15, "largest difference \(worst)")
        let fa = Self.fluxes(a), fb = Self.fluxes(b)
        for (x, y) in zip(fa, fb) { #expect(abs(y / x - 1) < 0.03) }
    }

    @Test("a frame without a matched model is an error naming it")
    func missingModel() throws {
        var frames = Self.frames(stars: false, noise: false)
        frames[2].matched = nil
        #expect(throws: MetricsError.self) { _ = try Self.matched(frames) }
    }
}

/// The flux scales and PSF field of `MatchedModel` from measured star lists.
@Suite("matched model")
struct MatchedModelTests {
    static func star(_ x: Double, _ y: Double, fwhm: Double, snr: Double) -> MeasuredStar {
        MeasuredStar(x: x, y: y, fwhm: fwhm, roundness: 1, ellipticity: 0, contrast: 50, snr: snr, saturated: false)
    }

    @Test("flux scale = median ratio of matched stars' snr x fwhm x noise; FWHM = frame median x robust quadratic field")
    func fluxScalesAndField() {
        let grid = TileGeometry.grid(width: 128, height: 64, size: 64, overlapFraction: 0, fwhm: nil, starsUsed: 0)
        #expect(grid.tiles.count == 2)
        // field: FWHM = s_f (1 + 0.3 (u^2 + v^2)), u, v from the image centre in half-sizes; frame f has seeing s_f
        let seeing = [3.0, 2.5, 4.0], flux = [1.0, 0.5, 0.8], noise = [0.01, 0.02, 0.01]
        let measurements = seeing.indices.map { f -> FrameMeasurement in
            var stars: [MeasuredStar] = []
            for k in 0..<40 {
                let x = 8 + Double(k % 8) * 16, y = 6 + Double(k / 8) * 13
                let u = (x - 63.5) / 64, v = (y - 31.5) / 32
                let fw = seeing[f] * (1 + 0.3 * (u * u + v * v))
                // snr x fwhm x noise = flux_f x 1000 x (k+1)
                let snr = flux[f] * 1000 * Double(k + 1) / (fw * noise[f])
                stars.append(Self.star(x + (f == 1 ? 0.4 : 0), y, fwhm: fw, snr: snr))
            }
            // an extended object in tile 1 that passes as a star in every frame: 4x the seeing
            stars.append(Self.star(100, 40, fwhm: 4 * seeing[f], snr: 500))
            return FrameMeasurement(width: 128, height: 64, channels: [ChannelMeasurement(background: 100, noise: noise[f], gradient: 0)],
                                    coverage: 1, starCount: stars.count, fwhm: seeing[f] * 1.1, stars: stars)
        }
        let (models, fallbacks) = MatchedModel.estimate(measurements, grid: grid)
        #expect(fallbacks.isEmpty)
        for f in seeing.indices {
            #expect(abs(models[f].fluxScale - flux[f] / flux[0]) < 1e-9)
            #expect(models[f].noise == [noise[f]])
            // tile centres at u = -+0.5, v = 0: FWHM = s_f x 1.075
            for t in 0..<2 {
                #expect(abs(models[f].tileFWHM[t] / (seeing[f] * 1.075) - 1) < 0.01, "frame \(f) tile \(t): \(models[f].tileFWHM[t])")
            }
        }
        // a frame whose stars match nothing falls back to the median of the others
        var moved = measurements
        moved[2].stars = moved[2].stars.map { var s = $0; s.x += 5; return s }
        let (m2, fb2) = MatchedModel.estimate(moved, grid: grid)
        #expect(fb2 == [2])
        #expect(abs(m2[2].fluxScale - 0.75) < 1e-9)
    }
}
