import Foundation

/// Apodization window for tile overlap-add (METHOD phase 6: "Hanning (or cosine) window").
///
/// Sampled at pixel centres, `t = (i + 0.5) / n`, so every value is in (0, 1] and never exactly 0
/// at the edge: dividing by the summed window after overlap-add is always safe, and an image
/// covered by a single tile comes back unchanged. Both windows are symmetric: w(i) == w(n-1-i).
/// The 2-D window is separable: w(x, y) = w(x)·w(y).
public enum WindowFunction: String, Sendable, Codable, CaseIterable {
    /// Hann: `w(i) = 0.5 - 0.5·cos(2π(i+0.5)/n)`; w(i)+w(i+n/2) == 1 for even n (50 % overlap sums flat).
    case hanning
    /// Cosine (sine) window: `w(i) = sin(π(i+0.5)/n)`; broader shoulders than Hann.
    case cosine

    /// The 1-D window of length `n` (n >= 1) in double precision.
    public func weights(_ n: Int) -> [Double] {
        precondition(n >= 1, "window length must be positive")
        return (0..<n).map { i in
            let t = (Double(i) + 0.5) / Double(n)
            switch self {
            case .hanning: return 0.5 - 0.5 * cos(2 * .pi * t)
            case .cosine: return sin(.pi * t)
            }
        }
    }

    /// The separable 2-D window, row-major `width x height`, as Float (products of the Double 1-D
    /// windows, rounded once).
    public func weights2D(width: Int, height: Int) -> [Float] {
        let wx = weights(width), wy = weights(height)
        var out = [Float](repeating: 0, count: width * height)
        out.withUnsafeMutableBufferPointer { dst in
            for y in 0..<height {
                let fy = wy[y]
                for x in 0..<width { dst[y * width + x] = Float(fy * wx[x]) }
            }
        }
        return out
    }
}
