extension LevenbergMarquardt {
    /// The damping schedule shared by `minimize` and `minimizeNormal`: the damped system, the
    /// convergence test of an accepted step, and the stops after rejected steps. One implementation,
    /// so both iterations take the same steps (the PSF fitter relies on them being bit-identical).
    struct Damping {
        let options: Options
        /// Current damping.
        private(set) var lambda: Double
        /// Whether a step was accepted yet (rejections before the first are not counted).
        private var accepted = false
        /// Consecutive rejected steps since the last accepted one.
        private var rejections = 0

        init(_ options: Options) {
            self.options = options
            lambda = options.initialLambda
        }

        /// Writes the damped system `a = jtj + lambda * max(diag, floor)` (n x n, row-major).
        func damp(_ jtj: UnsafePointer<Double>, into a: UnsafeMutablePointer<Double>, n: Int) {
            a.update(from: jtj, count: n * n)
            var maxDiag = 0.0
            for j in 0..<n { maxDiag = max(maxDiag, jtj[j * n + j]) }
            let floor = max(maxDiag * 1e-12, 1e-300)
            for j in 0..<n { a[j * n + j] += lambda * max(jtj[j * n + j], floor) }
        }

        /// The damped system could not be solved: more damping; true when the solver gives up.
        mutating func unsolvable() -> Bool {
            lambda *= 4
            return lambda > options.maxLambda
        }

        /// A step `step` from `p` lowered the cost from `cost` to `newCost`: less damping; true when the
        /// step or the gain is below the tolerances (converged).
        mutating func accept(step: UnsafePointer<Double>, from p: [Double], cost: Double, newCost: Double) -> Bool {
            var smallStep = true
            for j in 0..<p.count where abs(step[j]) > options.relativeStepTolerance * (abs(p[j]) + options.relativeStepTolerance) {
                smallStep = false
                break
            }
            let smallGain = (cost - newCost) <= options.relativeCostTolerance * cost
            lambda = max(lambda / 3, 1e-12)
            accepted = true
            rejections = 0
            return smallStep || smallGain
        }

        /// The step did not lower the cost: more damping; true when no downhill step exists at any
        /// damping, i.e. the solver sits at a minimum to working precision (converged).
        mutating func reject() -> Bool {
            lambda *= 4
            rejections += 1
            return lambda > options.maxLambda || (accepted && rejections >= (options.maxConsecutiveRejections ?? .max))
        }
    }
}
