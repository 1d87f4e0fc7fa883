import Foundation

extension LevenbergMarquardt {
    /// The iteration of `minimize` for callers that form the normal equations themselves, in the same
    /// pass that computes the residuals (no m x n Jacobian is stored, nothing is allocated per step).
    ///
    /// `evaluate(p, jtj, jtr)` returns the cost `sum_i r_i^2` at `p`; when `jtj` is non-nil it also
    /// adds `J^T J` (upper triangle, row-major n x n, `jtj[a * n + b]` for b >= a) and `J^T r` into the
    /// zeroed buffers; its cost must not depend on whether they are given. A caller that accumulates
    /// pixel by pixel in the same order as `normalEquations` (i ascending, then a, then b >= a) gets
    /// results bit-identical to `minimize`.
    /// `abandon`, when given, is asked about every accepted point: true stops the iteration there
    /// with `converged == false` (the caller knows the fit is of no use, e.g. a PSF centre that left
    /// the region where the star can be; the cost of the remaining steps is saved). Without it, or
    /// while it answers false, the steps are those of `minimize`.
    /// Internal: the PSF fitter's hot path.
    func minimizeNormal(start: [Double], isValid: ([Double]) -> Bool, abandon: (([Double]) -> Bool)? = nil,
                        evaluate: (UnsafeBufferPointer<Double>, UnsafeMutablePointer<Double>?,
                                   UnsafeMutablePointer<Double>?) -> Double) -> Result {
        // One pass gives both; `minimizeSplit` keeps the trial's cost of an accepted point (the same
        // value: `evaluate` sums the cost alike with or without the normal equations) and skips the
        // normal equations where the iteration stops, so the steps and the result are the same.
        let n = start.count
        return minimizeSplit(start: start, isValid: isValid, abandon: abandon, cost: { evaluate($0, nil, nil) }) { p, jtj, jtr in
            jtj.update(repeating: 0, count: n * n)
            jtr.update(repeating: 0, count: n)
            _ = evaluate(p, jtj, jtr)
        }
    }

    /// `choleskySolve` on raw buffers (same arithmetic, same order), reading and writing only the upper
    /// triangle of `a` (the factor's entry (i, k), i > k, is stored at `a[k * n + i]`), so a caller that
    /// forms only the upper triangle of a symmetric system need not mirror it. Inlined, so a caller that
    /// passes a constant `n` (the 7-parameter Gaussian fit) gets the loops unrolled.
    @inline(__always)
    static func choleskySolve(_ a: UnsafeMutablePointer<Double>, _ b: UnsafeMutablePointer<Double>, n: Int) -> Bool {
        for j in 0..<n {
            var d = a[j * n + j]
            for k in 0..<j { d -= a[k * n + j] * a[k * n + j] }
            guard d > 0, d.isFinite else { return false }
            let l = d.squareRoot()
            a[j * n + j] = l
            for i in (j + 1)..<max(j + 1, n) {
                var s = a[j * n + i]
                for k in 0..<j { s -= a[k * n + i] * a[k * n + j] }
                a[j * n + i] = s / l
            }
        }
        for i in 0..<n {
            var s = b[i]
            for k in 0..<i { s -= a[k * n + i] * b[k] }
            b[i] = s / a[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = b[i]
            for k in (i + 1)..<max(i + 1, n) { s -= a[i * n + k] * b[k] }
            b[i] = s / a[i * n + i]
        }
        return true
    }
}
