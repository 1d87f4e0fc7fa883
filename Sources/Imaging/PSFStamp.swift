/// The finite pixels of a PSF fit's square stamp, laid out for the Gaussian fit's vector passes
/// (`PSFGaussianPasses`): one allocation per fit (freed by `deallocate()`), columns of 4 Float lanes
/// and of 2 Double lanes.
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
    /// `count` rounded up to a multiple of 4 (Float columns) and of 2 (Double columns).
    let floatCount: Int
    let doubleCount: Int
    /// Centre pixel the coordinates are relative to.
    let cx: Int
    let cy: Int
    /// Subtracted from every value.
    let offset: Double
    /// Float columns: x, y, value - offset, weight (1 for a pixel, 0 for padding), and scratch for a
    /// pass to keep one value per pixel for the next.
    let xf: UnsafeMutablePointer<Float>
    let yf: UnsafeMutablePointer<Float>
    let vf: UnsafeMutablePointer<Float>
    let wf: UnsafeMutablePointer<Float>
    let scratch: UnsafeMutablePointer<Float>
    /// Double columns: the same.
    let xd: UnsafeMutablePointer<Double>
    let yd: UnsafeMutablePointer<Double>
    let vd: UnsafeMutablePointer<Double>
    let wd: UnsafeMutablePointer<Double>
    private let storage: UnsafeMutableRawPointer

    /// Where padding pixels sit (relative px, both axes): every form the fit accepts has both eigenvalues
    /// >= 1 / (2 * 24)^2, so Q >= 2e8 / 48^2 > 8e4 there and their Gaussian is exactly 0 in both precisions.
    static let farAway = 10_000.0

    /// The finite pixels of the square of half-size `r` around (`cx`, `cy`) in `plane`, clipped to the image.
    init(plane: UnsafeBufferPointer<Float>, width: Int, height: Int, cx: Int, cy: Int, r: Int, offset: Double) {
        let x0 = max(0, cx - r), x1 = min(width - 1, cx + r)
        let y0 = max(0, cy - r), y1 = min(height - 1, cy + r)
        let capacity = x0 <= x1 && y0 <= y1 ? (x1 - x0 + 1) * (y1 - y0 + 1) : 0
        let nf = (capacity + 3) & ~3, nd = (capacity + 1) & ~1
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(1, 20 * nf + 32 * nd), alignment: 16)
        let doubles = (storage + 20 * nf).bindMemory(to: Double.self, capacity: 4 * nd)
        xd = doubles; yd = doubles + nd; vd = doubles + 2 * nd; wd = doubles + 3 * nd
        let floats = storage.bindMemory(to: Float.self, capacity: 5 * nf)
        xf = floats; yf = floats + nf; vf = floats + 2 * nf; wf = floats + 3 * nf; scratch = floats + 4 * nf
        self.cx = cx
        self.cy = cy
        self.offset = offset
        var n = 0
        if capacity > 0 {
            for yy in y0...y1 {
                let row = yy * width
                let dy = Double(yy - cy)
                for xx in x0...x1 {
                    let v = plane[row + xx]
                    guard v.isFinite else { continue }
                    let dx = Double(xx - cx), value = Double(v) - offset
                    xd[n] = dx; yd[n] = dy; vd[n] = value; wd[n] = 1
                    xf[n] = Float(dx); yf[n] = Float(dy); vf[n] = Float(value); wf[n] = 1
                    n += 1
                }
            }
        }
        count = n
        floatCount = (n + 3) & ~3
        doubleCount = (n + 1) & ~1
        for k in n..<floatCount { xf[k] = Float(Self.farAway); yf[k] = Float(Self.farAway); vf[k] = 0; wf[k] = 0 }
        for k in n..<doubleCount { xd[k] = Self.farAway; yd[k] = Self.farAway; vd[k] = 0; wd[k] = 0 }
    }

    /// Frees the columns (the owner calls it once, after the fit).
    func deallocate() { storage.deallocate() }
}
