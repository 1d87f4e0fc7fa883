extension LevenbergMarquardt {
    /// The iteration of `minimize` for callers whose cost and normal equations come from two
    /// different passes (`minimizeNormal` runs on it with one pass giving both): `cost(p)` returns
    /// `sum_i r_i^2` at `p` (accurately: it decides acceptance and convergence), `normal(p, jtj, jtr)` writes `J^T J` (upper triangle, row-major n x n,
    /// `jtj[a * n + b]` for b >= a) and `J^T r` at `p` (it only steers the steps, so it may be computed
    /// in lower precision, e.g. the Gaussian PSF fit's Float32 pass).
    ///
    /// The damping, acceptance and stopping rules are those of `minimize` (`Damping`), with two
    /// savings: the cost of an accepted point is the one its trial evaluation computed (no second
    /// pass), and the normal equations are not formed at a point where the iteration stops (converged
    /// or abandoned). With a `normal` that gives exactly the `J^T J` and `J^T r` of `minimize`'s
    /// stored Jacobian, the steps and the result are the same.
    /// Internal: the Gaussian PSF fit's hot path.
    func minimizeSplit(start: [Double], isValid: ([Double]) -> Bool, abandon: (([Double]) -> Bool)? = nil,
                       cost: (UnsafeBufferPointer<Double>) -> Double,
                       normal: (UnsafeBufferPointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void)
        -> Result {
        let n = start.count
        precondition(n > 0 && n <= 16)
        let work = UnsafeMutablePointer<Double>.allocate(capacity: 2 * n * n + 2 * n)
        work.initialize(repeating: 0, count: 2 * n * n + 2 * n)
        defer { work.deallocate() }
        let jtj = work, a = work + n * n, jtr = work + 2 * n * n, rhs = jtr + n
        var p = start
        // Trial points; swapped with p when accepted, so no step allocates.
        var trial = start
        // Only the upper triangle is formed and read (`damp` reads the diagonal, `choleskySolve` the upper triangle).
        func formNormal() { p.withUnsafeBufferPointer { normal($0, jtj, jtr) } }
        var currentCost = p.withUnsafeBufferPointer { cost($0) }
        guard currentCost.isFinite else { return Result(parameters: p, cost: currentCost, iterations: 0, converged: false) }
        formNormal()

        var damping = Damping(options)
        var iterations = 0
        var converged = false
        while iterations < options.maxIterations {
            iterations += 1
            damping.damp(jtj, into: a, n: n)
            for j in 0..<n { rhs[j] = -jtr[j] }
            // n = 7 (the Gaussian fit) as a constant: the inlined solve's loops unroll.
            guard n == 7 ? Self.choleskySolve(a, rhs, n: 7) : Self.choleskySolve(a, rhs, n: n) else {
                if damping.unsolvable() { break }
                continue
            }
            for j in 0..<n { trial[j] = p[j] + rhs[j] }
            var newCost = Double.infinity
            if isValid(trial) { newCost = trial.withUnsafeBufferPointer { cost($0) } }
            if newCost.isFinite && newCost < currentCost {
                let done = damping.accept(step: rhs, from: p, cost: currentCost, newCost: newCost)
                swap(&p, &trial)
                currentCost = newCost
                if let abandon, abandon(p) { break }
                if done { converged = true; break }
                formNormal()
            } else if damping.reject() {
                converged = true
                break
            }
        }
        return Result(parameters: p, cost: currentCost, iterations: iterations, converged: converged)
    }
}
