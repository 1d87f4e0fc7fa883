import Foundation

/// Location and spread of the values that survived sigma clipping.
public struct ClippedStats: Sendable, Equatable {
    /// Mean of the kept values.
    public var mean: Double
    /// Median of the kept values.
    public var median: Double
    /// Standard deviation (population, divisor n) of the kept values.
    public var sigma: Double
    /// Number of kept values.
    public var count: Int

    /// Stats from explicit values.
    public init(mean: Double, median: Double, sigma: Double, count: Int) {
        self.mean = mean
        self.median = median
        self.sigma = sigma
        self.count = count
    }
}

extension Statistics {
    /// Gaussian consistency factor: sigma = 1.4826 · MAD for normal data (METHOD.md).
    public static let madToSigma: Double = 1.4826

    /// Raw median absolute deviation from the median of the finite values (no 1.4826 factor).
    public static func mad(_ values: [Float]) -> Float? {
        if values.count >= BracketTuning.bracketFrom { return values.withUnsafeBufferPointer { madBracketed($0) } }
        var scratch = values.withUnsafeBufferPointer { finiteCopy($0) }
        return scratch.withUnsafeMutableBufferPointer { buf -> Float? in
            guard let m = selectQuantile(buf, 0.5) else { return nil }
            for i in 0..<buf.count { buf[i] = abs(buf[i] - m) }
            return selectQuantile(buf, 0.5)
        }
    }

    /// `mad` of the finite values of a large buffer by two bracketed passes (no copy): the median,
    /// then the median of the deviations from it. The same bits as the plain `mad`: the median is
    /// the same value (a zero one perhaps of the other sign, which no |x - m| notices), and the
    /// deviations are never -0, so their median's bits are fixed by its value. A missed bracket
    /// selects on a copy as `mad` does.
    static func madBracketed<T: SelectableFloat>(_ v: UnsafeBufferPointer<T>) -> T? {
        var m = bracketedQuantile(v, 0.5)
        if m == nil {
            var scratch = v.filter { $0.isFinite }
            m = scratch.withUnsafeMutableBufferPointer { selectQuantile($0, 0.5) }
        }
        guard let m else { return nil }
        if let d = bracketedQuantile(v, 0.5, centre: m) { return d }
        var deviations = [T](unsafeUninitializedCapacity: v.count) { dst, filled in
            var k = 0
            for x in v where x.isFinite { dst[k] = abs(x - m); k += 1 }
            filled = k
        }
        return deviations.withUnsafeMutableBufferPointer { selectQuantile($0, 0.5) }
    }

    /// `mad(_:)` on `values` itself instead of a copy: the same result, bit for bit; `values` is
    /// left reordered (non-finite values dropped). For callers that own a large scratch array.
    public static func madInPlace(_ values: inout [Float]) -> Float? {
        values.removeAll { !$0.isFinite }
        return values.withUnsafeMutableBufferPointer { buf -> Float? in
            guard let m = selectQuantile(buf, 0.5) else { return nil }
            for i in 0..<buf.count { buf[i] = abs(buf[i] - m) }
            return selectQuantile(buf, 0.5)
        }
    }

    /// `median(_: [Float])` on `values` itself instead of a copy: the same result, bit for bit;
    /// `values` is left reordered (non-finite values dropped).
    public static func medianInPlace(_ values: inout [Float]) -> Float? {
        values.removeAll { !$0.isFinite }
        return values.withUnsafeMutableBufferPointer { selectQuantile($0, 0.5) }
    }

    /// Raw MAD of finite Double values.
    public static func mad(_ values: [Double]) -> Double? {
        if values.count >= BracketTuning.bracketFrom { return values.withUnsafeBufferPointer { madBracketed($0) } }
        var scratch = values.filter { $0.isFinite }
        return scratch.withUnsafeMutableBufferPointer { buf -> Double? in
            guard let m = selectQuantile(buf, 0.5) else { return nil }
            for i in 0..<buf.count { buf[i] = abs(buf[i] - m) }
            return selectQuantile(buf, 0.5)
        }
    }

    /// Robust sigma `1.4826 · MAD` of the finite values (unbiased for Gaussian noise).
    public static func sigmaFromMAD(_ values: [Float]) -> Float? {
        mad(values).map { Float(madToSigma * Double($0)) }
    }

    /// Iterative sigma clipping around the median: each round drops values with
    /// |x - median| > kappa · sigma (sigma = standard deviation of the currently kept values) and stops
    /// after `iterations` rounds or when nothing changes. nil when no finite value exists.
    /// O(n) per round. Matches astropy's `sigma_clipped_stats(cenfunc='median', stdfunc='std')`.
    public static func sigmaClippedStats(_ values: [Float], kappa: Double = 3, iterations: Int = 5) -> ClippedStats? {
        var kept = values.withUnsafeBufferPointer { finiteCopy($0) }
        return kept.withUnsafeMutableBufferPointer { sigmaClip($0, kappa: kappa, iterations: iterations) }
    }

    /// Sigma clipping on a buffer of finite values, which it reorders; see `sigmaClippedStats`.
    static func sigmaClip(_ all: UnsafeMutableBufferPointer<Float>, kappa: Double, iterations: Int) -> ClippedStats? {
        var n = all.count
        guard n > 0 else { return nil }
        var med = 0.0, mean = 0.0, sd = 0.0
        var round = 0
        while true {
            let buf = UnsafeMutableBufferPointer(rebasing: all[0..<n])
            var sum = 0.0
            for v in buf { sum += Double(v) }
            mean = sum / Double(n)
            var ss = 0.0
            for v in buf { let d = Double(v) - mean; ss += d * d }
            sd = (ss / Double(n)).squareRoot()
            med = Double(selectQuantile(buf, 0.5)!)
            if round >= iterations || sd == 0 { break }
            round += 1
            let limit = kappa * sd
            var w = 0
            for i in 0..<n where abs(Double(buf[i]) - med) <= limit {
                buf[w] = buf[i]; w += 1
            }
            if w == n || w == 0 { break }
            n = w
        }
        return ClippedStats(mean: mean, median: med, sigma: sd, count: n)
    }

    /// METHOD.md's robust scaling across frames: `x~ = (x - median(x)) / (1.4826 · MAD(x))`.
    ///
    /// Median and MAD are taken over the finite values. Non-finite inputs map to 0 (neutral).
    /// When MAD is 0 (at least half the values are identical) or no value is finite, every output
    /// is 0: the metric carries no usable spread, so it must not change any weight.
    public static func robustStandardize(_ values: [Double]) -> [Double] {
        guard let m = median(values), let d = mad(values), d > 0 else {
            return [Double](repeating: 0, count: values.count)
        }
        let s = madToSigma * d
        return values.map { $0.isFinite ? ($0 - m) / s : 0 }
    }
}
