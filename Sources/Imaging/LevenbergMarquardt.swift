import Foundation

/// A small dense Levenberg-Marquardt least-squares solver for problems with a handful of parameters
/// (PSF fits: 7 or 8) and up to a few thousand residuals.
///
/// Minimizes `sum_i r_i(p)^2`. The caller supplies residuals and an analytic Jacobian; the solver
/// forms the normal equations `(J^T J + lambda * D) dp = -J^T r` with Marquardt scaling
/// `D = diag(J^T J)` (floored so a parameter with a zero column still gets damped), solves them by
/// Cholesky, accepts a step only when it lowers the cost and the caller's `isValid` accepts the new
/// parameters, and adapts `lambda` (divide by 3 on success, multiply by 4 on failure).
///
/// Everything runs in `Double`, deterministically: same inputs give bit-identical results.
public struct LevenbergMarquardt: Sendable {
    /// Stopping rules and damping start value.
    public struct Options: Sendable, Codable, Equatable {
        /// Hard cap on accepted plus rejected iterations.
        public var maxIterations: Int
        /// Initial damping factor.
        public var initialLambda: Double
        /// Converged when an accepted step lowers the cost by less than this fraction of the cost.
        public var relativeCostTolerance: Double
        /// Converged when every parameter moves by less than this times (|p| + tolerance).
        public var relativeStepTolerance: Double
        /// When damping grows beyond this value no downhill step exists at working precision: the
        /// solver stops and reports convergence (the current point is a minimum).
        public var maxLambda: Double
        /// After at least one accepted step, this many rejected steps in a row mean the same as
        /// reaching `maxLambda`: no downhill step exists at working precision (damping has grown
        /// 4^k times without finding one), so the solver stops and reports convergence. Rejections
        /// before the first accepted step (a poor start) are not counted. nil: only `maxLambda` stops.
        public var maxConsecutiveRejections: Int?

        /// Defaults suited to PSF fitting: 100 iterations, lambda 1e-3, tolerances 1e-10 / 1e-8,
        /// stop after 8 rejected steps in a row once a step was accepted.
        public init(maxIterations: Int = 100, initialLambda: Double = 1e-3,
                    relativeCostTolerance: Double = 1e-10, relativeStepTolerance: Double = 1e-8,
                    maxLambda: Double = 1e12, maxConsecutiveRejections: Int? = 8) {
            self.maxIterations = maxIterations
            self.initialLambda = initialLambda
            self.relativeCostTolerance = relativeCostTolerance
            self.relativeStepTolerance = relativeStepTolerance
            self.maxLambda = maxLambda
            self.maxConsecutiveRejections = maxConsecutiveRejections
        }
    }

    /// Outcome of a minimization.
    public struct Result: Sendable, Equatable {
        /// Best parameters found (never worse than the start).
        public var parameters: [Double]
        /// Sum of squared residuals at `parameters`.
        public var cost: Double
        /// Iterations performed (accepted and rejected steps).
        public var iterations: Int
        /// True when a tolerance was met or no downhill step exists (damping cap); false when the
        /// iteration cap was hit or the start cost was not finite.
        public var converged: Bool
    }

    /// The solver's options.
    public var options: Options

    /// A solver with the given options.
    public init(options: Options = Options()) { self.options = options }

    /// Minimizes the sum of squared residuals starting from `start`.
    ///
    /// - Parameters:
    ///   - start: initial parameters (n values).
    ///   - residualCount: number of residuals m (m >= n).
    ///   - isValid: rejects parameter vectors outside the model's domain (the step is then retried
    ///     with more damping). The start must be valid.
    ///   - evaluate: fills `residuals` (m values) and, when `jacobian` is non-nil, the row-major
    ///     m x n Jacobian `d r_i / d p_j` at `p`. Returns nothing; NaN residuals make a step fail.
    /// - Returns: the best parameters found; `cost` is finite unless the start itself was not.
    public func minimize(
        start: [Double], residualCount: Int,
        isValid: ([Double]) -> Bool = { _ in true },
        evaluate: ([Double], inout [Double], inout [Double]?) -> Void
    ) -> Result {
        let n = start.count
        let m = residualCount
        precondition(n > 0 && m >= n, "Levenberg-Marquardt needs at least as many residuals as parameters")
        var p = start
        var r = [Double](repeating: 0, count: m)
        var jac: [Double]? = [Double](repeating: 0, count: m * n)
        evaluate(p, &r, &jac)
        var cost = Self.sumOfSquares(r)
        guard cost.isFinite else { return Result(parameters: p, cost: cost, iterations: 0, converged: false) }

        var damping = Damping(options)
        var jtj = [Double](repeating: 0, count: n * n)
        var jtr = [Double](repeating: 0, count: n)
        var a = [Double](repeating: 0, count: n * n)
        var rhs = [Double](repeating: 0, count: n)
        var trial = [Double](repeating: 0, count: n)
        var rTrial = [Double](repeating: 0, count: m)
        var noJacobian: [Double]? = nil
        var needNormal = true
        var iterations = 0
        var converged = false

        while iterations < options.maxIterations {
            iterations += 1
            if needNormal {
                Self.normalEquations(jac!, r, m: m, n: n, jtj: &jtj, jtr: &jtr)
                needNormal = false
            }
            jtj.withUnsafeBufferPointer { j in a.withUnsafeMutableBufferPointer { damping.damp(j.baseAddress!, into: $0.baseAddress!, n: n) } }
            for j in 0..<n { rhs[j] = -jtr[j] }
            guard Self.choleskySolve(&a, &rhs, n: n) else {
                // Not positive definite even with damping (e.g. NaN in the Jacobian): give up.
                if damping.unsolvable() { break }
                continue
            }
            for j in 0..<n { trial[j] = p[j] + rhs[j] }
            var newCost = Double.infinity
            if isValid(trial) {
                evaluate(trial, &rTrial, &noJacobian)
                newCost = Self.sumOfSquares(rTrial)
            }
            if newCost.isFinite && newCost < cost {
                let done = rhs.withUnsafeBufferPointer { damping.accept(step: $0.baseAddress!, from: p, cost: cost, newCost: newCost) }
                p = trial
                evaluate(p, &r, &jac)
                cost = Self.sumOfSquares(r)
                needNormal = true
                if done { converged = true; break }
            } else if damping.reject() {
                converged = true
                break
            }
        }
        return Result(parameters: p, cost: cost, iterations: iterations, converged: converged)
    }

    static func sumOfSquares(_ r: [Double]) -> Double {
        var s = 0.0
        for v in r { s += v * v }
        return s
    }

    /// J^T J (n x n) and J^T r (n) from a row-major m x n Jacobian.
    static func normalEquations(_ jac: [Double], _ r: [Double], m: Int, n: Int,
                                jtj: inout [Double], jtr: inout [Double]) {
        for k in 0..<(n * n) { jtj[k] = 0 }
        for k in 0..<n { jtr[k] = 0 }
        jac.withUnsafeBufferPointer { jp in
            r.withUnsafeBufferPointer { rp in
                for i in 0..<m {
                    let row = i * n
                    let ri = rp[i]
                    for a in 0..<n {
                        let ja = jp[row + a]
                        jtr[a] += ja * ri
                        for b in a..<n { jtj[a * n + b] += ja * jp[row + b] }
                    }
                }
            }
        }
        for a in 0..<n { for b in 0..<a { jtj[a * n + b] = jtj[b * n + a] } }
    }

    /// Solves A x = b in place (b becomes x) for symmetric positive definite A; false if not SPD.
    /// The arithmetic is the raw-buffer `choleskySolve` (one implementation, same results).
    static func choleskySolve(_ a: inout [Double], _ b: inout [Double], n: Int) -> Bool {
        guard n > 0, a.count >= n * n, b.count >= n else { return n == 0 }
        return a.withUnsafeMutableBufferPointer { ap in
            b.withUnsafeMutableBufferPointer { bp in choleskySolve(ap.baseAddress!, bp.baseAddress!, n: n) }
        }
    }
}
