/// The finite pixels of a PSF fit's square stamp, laid out for the Gaussian fit's vector passes
/// (`PSFGaussianPasses`): one allocation per fit (freed by `deallocate()`), Float columns read 4 or 8 lanes at a time.
///
/// Coordinates are relative to the stamp's centre pixel (`cx`, `cy`), values relative to `offset` (the
/// start sky level), so the Float columns hold small numbers: the integer offsets are exact, and a
/// residual `background + amplitude * g - value` is formed from values near the noise level rather than
/// from two sky levels that cancel. Pixels are in row-major order; NaN and infinite pixels are left out.
/// The columns are padded to whole vectors with pixels of weight 0 placed far from the centre (their
/// Gaussian is exactly 0), so a pass reads whole vectors and the padding adds nothing to any sum.
struct PSFStamp {
    /// Finite pixels.
    let count: Int
    /// `count` rounded up to a multiple of 8 (the widest vector a pass reads).
    let floatCount: Int
    /// Centre pixel the coordinates are relative to.
    let cx: Int
    let cy: Int
    /// Subtracted from every value.
    let offset: Double
    /// Columns: x, y, value - offset, weight (1 for a pixel, 0 for padding).
    let xf: UnsafeMutablePointer<Float>
    let yf: UnsafeMutablePointer<Float>
    let vf: UnsafeMutablePointer<Float>
    let wf: UnsafeMutablePointer<Float>
    /// Per pixel, the Gaussian `g` and the weighted residual `r` of the last cost pass, at the
    /// parameters in `at` (`PSFGaussianPasses`: the normal equations at that point reuse them).
    let gf: UnsafeMutablePointer<Float>
    let rf: UnsafeMutablePointer<Float>
    /// The 7 parameters `gf` and `rf` belong to (NaN: none yet).
    let at: UnsafeMutablePointer<Double>
    private let storage: UnsafeMutableRawPointer

    /// Where padding pixels sit (relative px, both axes): every form the fit accepts has both eigenvalues
    /// >= 1 / (2 * 24)^2, so Q >= 2e8 / 48^2 > 8e4 there and their Gaussian is exactly 0.
    static let farAway: Float = 10_000

    /// The finite pixels of the square of half-size `r` around (`cx`, `cy`) in `plane`, clipped to the image.
    init(plane: UnsafeBufferPointer<Float>, width: Int, height: Int, cx: Int, cy: Int, r: Int, offset: Double) {
        let x0 = max(0, cx - r), x1 = min(width - 1, cx + r)
        let y0 = max(0, cy - r), y1 = min(height - 1, cy + r)
        let capacity = x0 <= x1 && y0 <= y1 ? (x1 - x0 + 1) * (y1 - y0 + 1) : 0
        let nf = (capacity + 7) & ~7
        storage = UnsafeMutableRawPointer.allocate(byteCount: 64 + 24 * nf, alignment: 16)
        at = storage.bindMemory(to: Double.self, capacity: 8)
        at.initialize(repeating: .nan, count: 8)
        let floats = (storage + 64).bindMemory(to: Float.self, capacity: 6 * nf)
        xf = floats; yf = floats + nf; vf = floats + 2 * nf; wf = floats + 3 * nf; gf = floats + 4 * nf; rf = floats + 5 * nf
        self.cx = cx
        self.cy = cy
        self.offset = offset
        var n = 0
        if capacity > 0 {
            typealias V = SIMD8<Float>
            let iota = V(0, 1, 2, 3, 4, 5, 6, 7), off = SIMD4<Double>(repeating: offset)
            let magnitude = SIMD8<UInt32>(repeating: 0x7fff_ffff), infBits = SIMD8<UInt32>(repeating: 0x7f80_0000)
            for yy in y0...y1 {
                let row = plane.baseAddress! + yy * width
                let dy = Float(yy - cy)
                var xx = x0
                // Eight pixels at a time while all are finite (the scalar loop's values, lane by lane).
                while xx + 8 <= x1 + 1 {
                    let v = UnsafeRawPointer(row + xx).loadUnaligned(as: V.self)
                    guard all((unsafeBitCast(v, to: SIMD8<UInt32>.self) & magnitude) .< infBits) else { break }
                    let lo = SIMD4<Float>(SIMD4<Double>(v.lowHalf) - off), hi = SIMD4<Float>(SIMD4<Double>(v.highHalf) - off)
                    UnsafeMutableRawPointer(xf + n).storeBytes(of: iota + Float(xx - cx), as: V.self)
                    UnsafeMutableRawPointer(yf + n).storeBytes(of: V(repeating: dy), as: V.self)
                    UnsafeMutableRawPointer(vf + n).storeBytes(of: V(lowHalf: lo, highHalf: hi), as: V.self)
                    UnsafeMutableRawPointer(wf + n).storeBytes(of: V(repeating: 1), as: V.self)
                    n += 8
                    xx += 8
                }
                while xx <= x1 {
                    let v = row[xx]
                    if v.isFinite {
                        xf[n] = Float(xx - cx); yf[n] = dy; vf[n] = Float(Double(v) - offset); wf[n] = 1
                        n += 1
                    }
                    xx += 1
                }
            }
        }
        count = n
        floatCount = (n + 7) & ~7
        for k in n..<floatCount { xf[k] = Self.farAway; yf[k] = Self.farAway; vf[k] = 0; wf[k] = 0 }
    }

    /// Frees the columns (the owner calls it once, after the fit).
    func deallocate() { storage.deallocate() }
}
