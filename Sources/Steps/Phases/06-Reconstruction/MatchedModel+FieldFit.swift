import Foundation
import Imaging

/// A robust quadratic surface `c(u, v) = a0 + a1 u + a2 v + a3 u^2 + a4 u v + a5 v^2` over the image
/// (u, v in [-1, 1] from the centre), fitted by least squares with 3 rounds of 3-sigma (MAD) clipping:
/// the optics' field variation of log FWHM. Robust to what is not a star of the seeing: an extended
/// object detected in every frame or a few hot-pixel "stars" are single outliers among thousands.
struct FieldFit {
    let width: Int, height: Int

    func coordinates(_ x: Double, _ y: Double) -> (Double, Double) {
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        return ((x - cx) / max(1, Double(width) / 2), (y - cy) / max(1, Double(height) / 2))
    }

    static func terms(_ u: Double, _ v: Double) -> [Double] { [1, u, v, u * u, u * v, v * v] }

    func value(_ a: [Double], _ u: Double, _ v: Double) -> Double {
        zip(a, Self.terms(u, v)).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// Coefficients; all 0 with fewer than 12 points or a singular system, the constant alone with
    /// fewer than 50 (a field needs stars spread over it).
    func fit(_ points: [(u: Double, v: Double, d: Double)]) -> [Double] {
        guard points.count >= 12 else { return [Double](repeating: 0, count: 6) }
        let k = points.count >= 50 ? 6 : 1
        var keep = [Bool](repeating: true, count: points.count)
        var a = [Double](repeating: 0, count: 6)
        for _ in 0..<4 {
            var m = [Double](repeating: 0, count: k * k), r = [Double](repeating: 0, count: k)
            for (i, p) in points.enumerated() where keep[i] {
                let t = Self.terms(p.u, p.v)
                for x in 0..<k {
                    r[x] += t[x] * p.d
                    for y in 0..<k { m[x * k + y] += t[x] * t[y] }
                }
            }
            guard let solved = Self.solve(m, r, k) else { return [Double](repeating: 0, count: 6) }
            a = solved + [Double](repeating: 0, count: 6 - k)
            let residuals = points.map { $0.d - value(a, $0.u, $0.v) }
            let kept = residuals.indices.filter { keep[$0] }.map { abs(residuals[$0]) }
            guard let mad = Statistics.median(kept), mad > 0 else { break }
            let limit = 3 * Statistics.madToSigma * mad
            let next = residuals.map { abs($0) <= limit }
            if next == keep { break }
            keep = next
        }
        return a
    }

    /// Gaussian elimination with partial pivoting of the k x k system m a = r; nil when singular.
    static func solve(_ m0: [Double], _ r0: [Double], _ k: Int) -> [Double]? {
        var m = m0, r = r0
        for col in 0..<k {
            var p = col
            for row in (col + 1)..<max(col + 1, k) where abs(m[row * k + col]) > abs(m[p * k + col]) { p = row }
            guard abs(m[p * k + col]) > 1e-12 else { return nil }
            if p != col {
                for x in 0..<k { m.swapAt(col * k + x, p * k + x) }
                r.swapAt(col, p)
            }
            for row in (col + 1)..<max(col + 1, k) {
                let f = m[row * k + col] / m[col * k + col]
                for x in col..<k { m[row * k + x] -= f * m[col * k + x] }
                r[row] -= f * r[col]
            }
        }
        var a = [Double](repeating: 0, count: k)
        for row in stride(from: k - 1, through: 0, by: -1) {
            var s = r[row]
            for x in (row + 1)..<max(row + 1, k) { s -= m[row * k + x] * a[x] }
            a[row] = s / m[row * k + row]
        }
        return a
    }
}
