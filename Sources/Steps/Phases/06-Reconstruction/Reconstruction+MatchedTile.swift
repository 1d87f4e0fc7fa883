import Foundation
import Imaging

/// The Fourier-space accumulators of one tile for `combine: matched` (proper coaddition, Zackay & Ofek
/// 2017), all channels. Each instance is mutated by one thread at a time (one tile = one task), frames
/// in set order, so the sums and their bytes do not depend on the thread count.
///
/// Per frame f and channel c, on the tile extended by `margin` px on every side (zero-padded to the FFT
/// size): M_f = I / B_f,c - b_f,t,c where finite, 0 (the frame's local background) where the frame has
/// NaN or a rejected value or the region leaves the image; P_f = a Moffat of the frame's FWHM in the
/// tile (`MatchedFrameModel.tileFWHM`) and beta `beta`, point-sampled around the origin (periodic) and
/// normalized to sum 1, so P^(0) = 1; w_f = F_f / sigma_f,c^2. Accumulated:
/// `N(k) = sum_f w_f conj(P^_f) M^_f` and `D2(k) = sum_f F_f^2 |P^_f|^2 / sigma_f,c^2`.
/// `finish()` forms the proper image `R^ = N / sqrt(D2)` and scales it by `Fbar / F_R` with
/// `F_R = sqrt(D2(0)) = sqrt(sum F^2/sigma^2)` and `Fbar = sum F^2/sigma^2 / sum F/sigma^2`: flux as in
/// the inverse-variance mean of the normalized frames (weights F/sigma^2), pixel noise equal to that
/// mean's (`Fbar / F_R`), PSF with transfer function `sqrt(D2(k) / D2(0))` (see docs/method.md).
final class MatchedTileAccumulator: @unchecked Sendable {
    let tile: Tile
    let channels: Int
    let margin: Int
    let beta: Double
    private let fft: FFT2D
    private let buffers: FFT2D.Buffers
    /// N(k), interleaved complex, channel after channel.
    private var numerator: [Double]
    /// D2(k), channel after channel.
    private var denominator: [Double]
    /// sum_f F/sigma^2 and sum_f F^2/sigma^2 per channel.
    private var sumF: [Double]
    private var sumF2: [Double]
    /// Per central tile pixel and channel: sum_f F^2/sigma^2 over the frames finite there (the covered
    /// share of the weight), sum_f (I' - b) and the count of finite frames (unweighted mean).
    private var cover: [Double]
    private var plain: [Double]
    private var count: [Double]
    /// sum_f b_f,t,c and how many frames had a background in the tile, per channel.
    private var backgroundSum: [Double]
    private var backgroundCount: [Int]
    private var psf: [Double]
    private var scratch: [Float] = []
    /// Whether a channel of the tile had no frame of positive weight and used the unweighted mean.
    private(set) var unweighted = false
    /// The finished tile (after `finish()`): channel-planar values, NaN where no frame covers.
    private(set) var values: [Double] = []

    init(tile: Tile, channels: Int, margin: Int, beta: Double, fft: FFT2D) {
        precondition(tile.w + 2 * margin <= fft.width && tile.h + 2 * margin <= fft.height, "FFT smaller than the extended tile")
        self.tile = tile
        self.channels = channels
        self.margin = margin
        self.beta = beta
        self.fft = fft
        buffers = fft.makeBuffers()
        let s = fft.spectrumCount, np = tile.w * tile.h * channels
        numerator = [Double](repeating: 0, count: 2 * s * channels)
        denominator = [Double](repeating: 0, count: s * channels)
        sumF = [Double](repeating: 0, count: channels)
        sumF2 = [Double](repeating: 0, count: channels)
        cover = [Double](repeating: 0, count: np)
        plain = [Double](repeating: 0, count: np)
        count = [Double](repeating: 0, count: np)
        backgroundSum = [Double](repeating: 0, count: channels)
        backgroundCount = [Int](repeating: 0, count: channels)
        psf = [Double](repeating: 0, count: 2 * s)
        scratch.reserveCapacity(tile.w * tile.h)
    }

    /// The transfer function of a round Moffat of `fwhm` px into `psf` (interleaved complex).
    private func makePSF(fwhm: Double) {
        let nx = fft.width, ny = fft.height
        let alpha = PSFParameters.width(fwhm: fwhm, model: .moffat(beta: beta), beta: beta)
        let ia2 = 1 / (alpha * alpha), b = beta
        let real = buffers.real
        var sum = 0.0
        for y in 0..<ny {
            let dy = Double(y <= ny / 2 ? y : y - ny)
            for x in 0..<nx {
                let dx = Double(x <= nx / 2 ? x : x - nx)
                let v = pow(1 + (dx * dx + dy * dy) * ia2, -b)
                real[y * nx + x] = v
                sum += v
            }
        }
        let inv = 1 / sum
        for i in 0..<(nx * ny) { real[i] *= inv }
        fft.forward(buffers)
        psf.withUnsafeMutableBufferPointer { p in
            p.baseAddress!.update(from: buffers.spectrum, count: 2 * fft.spectrumCount)
        }
    }

    /// Adds one frame: `rows` holds image rows from `bandY` on (full width, every plane, rejected values
    /// already NaN), at least the tile's rows extended by `margin` as far as the image reaches.
    func add(_ rows: Image, bandY: Int, inverseBackground: [Double], model: MatchedFrameModel) {
        let tw = tile.w, th = tile.h, np = tw * th, rw = rows.width, rn = rows.planeSize
        let nx = fft.width, ny = fft.height, s = fft.spectrumCount, m = margin
        let ex0 = tile.x - m, ey0 = tile.y - m
        let f = model.fluxScale
        var psfReady = false
        rows.pixels.withUnsafeBufferPointer { all in
            for c in 0..<channels {
                let inv = inverseBackground[c]
                let plane = all.baseAddress! + c * rn
                // The frame's local background: median of the tile's finite normalized pixels.
                scratch.removeAll(keepingCapacity: true)
                for y in 0..<th {
                    let row = plane + (tile.y - bandY + y) * rw + tile.x
                    for x in 0..<tw where row[x].isFinite { scratch.append(row[x]) }
                }
                guard let med = Statistics.median(scratch) else { continue }
                let b = Double(med) * inv
                backgroundSum[c] += b
                backgroundCount[c] += 1
                let sigma = model.noise[c]
                let ok = sigma.isFinite && sigma > 0 && f.isFinite && f > 0
                let w = ok ? f / (sigma * sigma) : 0, w2 = ok ? f * w : 0
                // The unweighted mean and the covered weight on the central tile.
                cover.withUnsafeMutableBufferPointer { cv in
                    plain.withUnsafeMutableBufferPointer { u in
                        count.withUnsafeMutableBufferPointer { k in
                            for y in 0..<th {
                                let row = plane + (tile.y - bandY + y) * rw + tile.x
                                let base = c * np + y * tw
                                for x in 0..<tw {
                                    let v = row[x]
                                    guard v.isFinite else { continue }
                                    u[base + x] += Double(v) * inv - b
                                    k[base + x] += 1
                                    cv[base + x] += w2
                                }
                            }
                        }
                    }
                }
                guard ok else { continue }
                if !psfReady {
                    makePSF(fwhm: model.tileFWHM[tile.id])
                    psfReady = true
                }
                // M_f on the extended tile, zero elsewhere.
                let real = buffers.real
                real.update(repeating: 0, count: nx * ny)
                for y in 0..<(th + 2 * m) {
                    let iy = ey0 + y
                    guard iy >= bandY && iy < bandY + rows.height else { continue }
                    let row = plane + (iy - bandY) * rw
                    let dst = real + y * nx
                    for x in 0..<(tw + 2 * m) {
                        let ix = ex0 + x
                        guard ix >= 0 && ix < rw else { continue }
                        let v = row[ix]
                        if v.isFinite { dst[x] = Double(v) * inv - b }
                    }
                }
                fft.forward(buffers)
                sumF[c] += w
                sumF2[c] += w2
                let spec = buffers.spectrum
                psf.withUnsafeBufferPointer { p in
                    numerator.withUnsafeMutableBufferPointer { num in
                        denominator.withUnsafeMutableBufferPointer { den in
                            let no = 2 * s * c, dn = s * c
                            for k in 0..<s {
                                let pr = p[2 * k], pi = p[2 * k + 1]
                                let mr = spec[2 * k], mi = spec[2 * k + 1]
                                num[no + 2 * k] += w * (pr * mr + pi * mi)
                                num[no + 2 * k + 1] += w * (pr * mi - pi * mr)
                                den[dn + k] += w2 * (pr * pr + pi * pi)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Finishes the tile: `(V + mean b) * s` per channel, V the proper image (scaled as described above)
    /// on the central tile divided by the covered share of the weight at each pixel, s the common-median
    /// rescale of the weighted kernel; NaN where no frame is finite. A tile or pixel whose frames all
    /// have weight 0 uses the unweighted mean.
    func finish() {
        let np = tile.w * tile.h, nx = fft.width, s = fft.spectrumCount, m = margin
        var out = [Double](repeating: .nan, count: np * channels)
        for c in 0..<channels {
            guard backgroundCount[c] > 0 else { continue }
            let bbar = backgroundSum[c] / Double(backgroundCount[c])
            let proper = sumF2[c] > 0 && sumF[c] > 0
            if !proper { unweighted = true }
            if proper {
                let fbar = sumF2[c] / sumF[c]
                let scale = fbar / sumF2[c].squareRoot() / Double(nx * fft.height)
                let spec = buffers.spectrum
                for k in 0..<s {
                    let d = denominator[s * c + k]
                    let g = d > 0 ? scale / d.squareRoot() : 0
                    spec[2 * k] = numerator[2 * s * c + 2 * k] * g
                    spec[2 * k + 1] = numerator[2 * s * c + 2 * k + 1] * g
                }
                fft.inverse(buffers)
            }
            var us: [Double] = []
            us.reserveCapacity(np)
            let real = buffers.real
            for y in 0..<tile.h {
                for x in 0..<tile.w {
                    let i = c * np + y * tile.w + x
                    guard count[i] > 0 else { continue }
                    let u = plain[i] / count[i] + bbar
                    out[i] = proper && cover[i] > 0 ? real[(m + y) * nx + m + x] * (sumF2[c] / cover[i]) + bbar : u
                    us.append(u)
                }
            }
            Reconstruction.rescaleToCommonMedian(&out, (c * np)..<((c + 1) * np), count: count, unweighted: us)
        }
        values = out
        // Release the accumulators: only the finished values are needed from here on.
        numerator = []; denominator = []; cover = []; plain = []; count = []; psf = []
    }
}
