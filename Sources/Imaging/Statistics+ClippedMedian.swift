/// The median of a sigma clip (`sigmaClip`'s `median`), the quantity `BackgroundMap` keeps per mesh box,
/// computed without a full selection per round.
///
/// `sigmaClip` spends its time in two places: the Double sums of mean and deviation (one dependent
/// add per value, twice per round) and a quickselect per round. Here the sums run in 8 independent
/// lanes, and each round's median is found inside a bracket (`medianInBracket`): around the previous
/// round's median +- 0.1 sigma (clipping the tails moves it by a few ranks; the clipping pass itself
/// counts and copies the kept values of that bracket), else between order statistics of a
/// 256-value sample (Floyd-Rivest: the median's rank lies within 1.5 sqrt(256) sample ranks of the
/// middle with probability ~0.9999), else by a full selection. The median of each round is exact;
/// the lane sums round differently from one sequential sum only in the last bits of the clip limit,
/// which can change a decision only for a value within ~1e-16 of kappa sigma from the median.
extension Statistics {
    /// The median `sigmaClip(all, kappa:, iterations:)` reports (nil when `all` is empty); `all` holds
    /// finite values and is reordered, `scratch` holds at least `all.count` values.
    static func sigmaClippedMedian(_ all: UnsafeMutableBufferPointer<Float>, kappa: Double, iterations: Int,
                                   scratch: UnsafeMutablePointer<Float>) -> Double? {
        sigmaClipBracketed(all, kappa: kappa, iterations: iterations, scratch: scratch)?.median
    }

    /// `sigmaClip(all, kappa:, iterations:)` (median, mean, sigma and count of the last round) found the
    /// way `sigmaClippedMedian` finds its median: lane sums and bracketed medians, no full selection per
    /// round. The median and count are those of `sigmaClip` (exact order statistics, the same clipping
    /// decisions unless a value lies within ~1e-16 relative of the clip limit); mean and sigma differ from
    /// its sequential sums in the last bits only. `all` holds finite values and is reordered, `scratch`
    /// holds at least `all.count` values. nil when `all` is empty.
    static func sigmaClipBracketed(_ all: UnsafeMutableBufferPointer<Float>, kappa: Double, iterations: Int,
                                   scratch: UnsafeMutablePointer<Float>) -> ClippedStats? {
        guard let p = all.baseAddress, all.count > 0 else { return nil }
        var n = all.count
        var round = 0
        // From the second round on, the clipping pass also brackets the kept values around the median
        // it clipped about: how many are below, and the ones inside in `scratch`.
        var bracket: (below: Int, inside: Int)? = nil
        while true {
            let (mean, sd) = meanAndDeviation(UnsafePointer(p), n)
            let med: Double
            if let b = bracket, let m = medianOfBracket(n, below: b.below, inside: b.inside, scratch: scratch) {
                med = Double(m)
            } else {
                med = Double(median(p, n, scratch: scratch))
            }
            let stats = ClippedStats(mean: mean, median: med, sigma: sd, count: n)
            if round >= iterations || sd == 0 { return stats }
            round += 1
            let limit = kappa * sd
            let lo = Float(med) - Float(0.1 * sd), hi = Float(med) + Float(0.1 * sd)
            var w = 0, below = 0, m = 0
            for i in 0..<n {
                let v = p[i]
                let keep = abs(Double(v) - med) <= limit ? 1 : 0
                p[w] = v
                w &+= keep
                let isBelow = v < lo ? 1 : 0, isAbove = v > hi ? 1 : 0
                below &+= isBelow & keep
                scratch[m] = v
                m &+= (1 &- (isBelow | isAbove)) & keep
            }
            if w == n || w == 0 { return stats }
            n = w
            bracket = (below, m)
        }
    }

    /// Mean and population standard deviation of `p[0..<n]` (n >= 1) in Double, summed in 8 lanes.
    static func meanAndDeviation(_ p: UnsafePointer<Float>, _ n: Int) -> (mean: Double, deviation: Double) {
        var acc0 = SIMD4<Double>(), acc1 = SIMD4<Double>()
        var i = 0
        while i + 8 <= n {
            acc0 += SIMD4<Double>(Double(p[i]), Double(p[i + 1]), Double(p[i + 2]), Double(p[i + 3]))
            acc1 += SIMD4<Double>(Double(p[i + 4]), Double(p[i + 5]), Double(p[i + 6]), Double(p[i + 7]))
            i += 8
        }
        var sum = (acc0 + acc1).sum()
        while i < n { sum += Double(p[i]); i += 1 }
        let mean = sum / Double(n)
        let m4 = SIMD4<Double>(repeating: mean)
        acc0 = SIMD4<Double>(); acc1 = SIMD4<Double>()
        i = 0
        while i + 8 <= n {
            let d0 = SIMD4<Double>(Double(p[i]), Double(p[i + 1]), Double(p[i + 2]), Double(p[i + 3])) - m4
            let d1 = SIMD4<Double>(Double(p[i + 4]), Double(p[i + 5]), Double(p[i + 6]), Double(p[i + 7])) - m4
            acc0 += d0 * d0
            acc1 += d1 * d1
            i += 8
        }
        var ss = (acc0 + acc1).sum()
        while i < n { let d = Double(p[i]) - mean; ss += d * d; i += 1 }
        return (mean, (ss / Double(n)).squareRoot())
    }

    /// `selectQuantile(p[0..<n], 0.5)` without reordering `p`: inside a bracket from a sample, else by a
    /// full selection on a copy.
    static func median(_ p: UnsafeMutablePointer<Float>, _ n: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        let a = UnsafePointer(p)
        if n >= 1024 {
            let step = n / 256, m = n / step
            for j in 0..<m { scratch[j] = p[j * step] }
            let d = Int(1.5 * Double(m).squareRoot())
            let sample = UnsafeMutableBufferPointer(start: scratch, count: m)
            let lo = select(sample, m / 2 - d)
            let rest = UnsafeMutableBufferPointer(start: scratch + (m / 2 - d + 1), count: m - (m / 2 - d + 1))
            let hi = select(rest, 2 * d - 1)
            if let med = medianInBracket(a, n, lo: lo, hi: hi, scratch: scratch) { return med }
        }
        for k in 0..<n { scratch[k] = p[k] }
        return selectQuantile(UnsafeMutableBufferPointer(start: scratch, count: n), 0.5)!
    }
}
