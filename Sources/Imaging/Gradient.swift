import Foundation

/// Gradient energy of an image region: statistics of |∇I|² from a Sobel operator.
public struct GradientEnergy: Sendable, Equatable {
    /// Mean of |∇I|² over the evaluated pixels (accumulated in Double).
    public var mean: Double
    /// Median of |∇I|² over the evaluated pixels.
    public var median: Double
    /// Number of evaluated pixels (interior pixels whose 3x3 neighbourhood is all finite).
    public var count: Int

    /// Energy from explicit values.
    public init(mean: Double, median: Double, count: Int) {
        self.mean = mean
        self.median = median
        self.count = count
    }
}

/// Small image kernels used by the frame and tile metrics.
public enum Kernels {
    /// Sobel gradient energy E (METHOD phase 3/5) of plane `plane`, over the rectangle
    /// `[x0, x0+width) x [y0, y0+height)` (default: the whole plane).
    ///
    /// The Sobel kernels are normalized by 1/8, so a ramp I = a·x + b·y gives |∇I|² = a² + b²
    /// exactly (in units of data number per pixel). The rectangle's 1-pixel border is dropped
    /// (no padding, no reflection); output pixels whose 3x3 neighbourhood holds a NaN/Inf are
    /// skipped. Returns nil when no pixel can be evaluated (rectangle smaller than 3x3 or all
    /// neighbourhoods non-finite). Deterministic and single-threaded.
    public static func gradientEnergy(_ image: Image, plane: Int = 0, x0: Int = 0, y0: Int = 0,
                                      width: Int? = nil, height: Int? = nil) -> GradientEnergy? {
        let (w, h) = region(image, plane: plane, x0: x0, y0: y0, width: width, height: height)
        guard w >= 3, h >= 3 else { return nil }
        var sum = 0.0
        var energies = [Float](unsafeUninitializedCapacity: (w - 2) * (h - 2)) { out, filled in
            var m = 0
            forEachEnergy(image, plane: plane, x0: x0, y0: y0, w: w, h: h) { e in
                sum += e
                out[m] = Float(e)
                m += 1
            }
            filled = m
        }
        guard !energies.isEmpty else { return nil }
        let med = energies.withUnsafeMutableBufferPointer { Statistics.selectQuantile($0, 0.5)! }
        return GradientEnergy(mean: sum / Double(energies.count), median: Double(med), count: energies.count)
    }

    /// The mean of `gradientEnergy` (same pixels, same Double sum in the same order, so the same bits)
    /// without the median, i.e. without storing the energies and selecting among them. nil when no
    /// pixel can be evaluated.
    public static func gradientEnergyMean(_ image: Image, plane: Int = 0, x0: Int = 0, y0: Int = 0,
                                          width: Int? = nil, height: Int? = nil) -> Double? {
        let (w, h) = region(image, plane: plane, x0: x0, y0: y0, width: width, height: height)
        guard w >= 3, h >= 3 else { return nil }
        // Each row's energies vectorized (`energyRow`: the scalar expression lane by lane, non-finite
        // where the pixel is skipped), then added to the Double sum one by one in reading order.
        var sum = 0.0
        var m = 0
        let stride = image.width
        var row = [Double](repeating: .nan, count: w)
        row.withUnsafeMutableBufferPointer { buffer in
            let e = buffer.baseAddress!
            image.pixels.withUnsafeBufferPointer { all in
                let base = all.baseAddress! + plane * image.planeSize + x0
                for y in (y0 + 1)..<(y0 + h - 1) {
                    energyRow(up: base + (y - 1) * stride, mid: base + y * stride, down: base + (y + 1) * stride,
                              width: w, into: e)
                    var s = sum, c = m
                    for x in 1..<(w - 1) {
                        let v = e[x]
                        if v < .infinity { s += v; c &+= 1 }
                    }
                    sum = s
                    m = c
                }
            }
        }
        return m > 0 ? sum / Double(m) : nil
    }

    /// The checked size of the rectangle (`width`/`height` default to the rest of the plane).
    private static func region(_ image: Image, plane: Int, x0: Int, y0: Int, width: Int?, height: Int?) -> (Int, Int) {
        let w = width ?? (image.width - x0), h = height ?? (image.height - y0)
        precondition(plane >= 0 && plane < image.channels, "plane out of range")
        precondition(x0 >= 0 && y0 >= 0 && w >= 0 && h >= 0 && x0 + w <= image.width && y0 + h <= image.height,
                     "region outside the image")
        return (w, h)
    }

    /// Calls `visit` with |∇I|² (Sobel / 8) of every interior pixel of the w x h rectangle whose 3x3
    /// neighbourhood is finite, row by row, left to right (the order the sums depend on). w, h >= 3.
    @inline(__always)
    private static func forEachEnergy(_ image: Image, plane: Int, x0: Int, y0: Int, w: Int, h: Int,
                                      _ visit: (Double) -> Void) {
        let stride = image.width
        let n = image.planeSize
        image.pixels.withUnsafeBufferPointer { all in
            let base = all.baseAddress! + plane * n
            for y in (y0 + 1)..<(y0 + h - 1) {
                // row pointers (bounds-checked in debug builds only)
                let up = UnsafeBufferPointer(start: base + (y - 1) * stride, count: stride)
                let mid = UnsafeBufferPointer(start: base + y * stride, count: stride)
                let down = UnsafeBufferPointer(start: base + (y + 1) * stride, count: stride)
                for x in (x0 + 1)..<(x0 + w - 1) {
                    let gx = (up[x + 1] - up[x - 1]) + 2 * (mid[x + 1] - mid[x - 1]) + (down[x + 1] - down[x - 1])
                    let gy = (down[x - 1] - up[x - 1]) + 2 * (down[x] - up[x]) + (down[x + 1] - up[x + 1])
                    let e = (Double(gx) * Double(gx) + Double(gy) * Double(gy)) * (1.0 / 64)
                    // NaN/Inf anywhere in the neighbourhood makes e non-finite; mid[x] is not in
                    // the Sobel sums, so it is checked explicitly.
                    guard e.isFinite, mid[x].isFinite else { continue }
                    visit(e)
                }
            }
        }
    }
}
