import Foundation

/// Robust order statistics on `Float`/`Double` samples.
///
/// Guarantees shared by every function here:
/// - NaN and ±Inf are ignored (dropped before anything is computed); an input with no finite
///   value gives `nil`.
/// - The input is never reordered: selection runs on a private scratch copy.
/// - Median and quantiles use selection (three-way quickselect with a median-of-three pivot, and a
///   sort fallback on the remaining range after 2·log2(n) unlucky rounds): O(n) expected, O(n log n)
///   worst case, never quadratic, and fast on data with many equal values (integer cameras).
/// - Results are deterministic: the same values in the same order give the same bits.
public enum Statistics {
    /// Median of the finite values; the mean of the two middle values when their count is even.
    public static func median(_ values: [Float]) -> Float? {
        values.withUnsafeBufferPointer { median($0) }
    }

    /// Median of the finite values of a buffer (see `median(_: [Float])`).
    public static func median(_ values: UnsafeBufferPointer<Float>) -> Float? {
        var scratch = finiteCopy(values)
        return scratch.withUnsafeMutableBufferPointer { selectQuantile($0, 0.5) }
    }

    /// Median of the finite values (Double samples, e.g. per-frame metrics).
    public static func median(_ values: [Double]) -> Double? {
        var scratch = values.filter { $0.isFinite }
        return scratch.withUnsafeMutableBufferPointer { selectQuantile($0, 0.5) }
    }

    /// Quantile `q` in [0, 1] of the finite values with linear interpolation between order
    /// statistics (Hyndman-Fan type 7, numpy's default): position h = (n-1)·q.
    /// `q` outside [0, 1] is clamped.
    public static func quantile(_ values: [Float], _ q: Double) -> Float? {
        var scratch = values.withUnsafeBufferPointer { finiteCopy($0) }
        return scratch.withUnsafeMutableBufferPointer { selectQuantile($0, q) }
    }

    /// Quantile `q` of the finite Double values (see `quantile(_: [Float], _:)`).
    public static func quantile(_ values: [Double], _ q: Double) -> Double? {
        var scratch = values.filter { $0.isFinite }
        return scratch.withUnsafeMutableBufferPointer { selectQuantile($0, q) }
    }

    // MARK: - selection core (internal)

    /// The finite values of `values`, in order.
    static func finiteCopy(_ values: UnsafeBufferPointer<Float>) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(values.count)
        for v in values where v.isFinite { out.append(v) }
        return out
    }

    /// Type-7 quantile of `buf` (all finite), reordering `buf`. nil when empty.
    static func selectQuantile<T: BinaryFloatingPoint>(_ buf: UnsafeMutableBufferPointer<T>, _ q: Double) -> T? {
        let n = buf.count
        guard n > 0 else { return nil }
        let qc = min(max(q.isNaN ? 0.5 : q, 0), 1)
        let h = Double(n - 1) * qc
        let lo = Int(h.rounded(.down))
        let frac = h - Double(lo)
        let a = select(buf, lo)
        guard frac > 0, lo + 1 < n else { return a }
        // After selecting lo, everything right of lo is >= a: the next order statistic is their minimum.
        var b = buf[lo + 1]
        for i in (lo + 2)..<max(lo + 2, n) where buf[i] < b { b = buf[i] }
        if qc == 0.5 && n % 2 == 0 { return (a + b) / 2 }
        return T(Double(a) + frac * (Double(b) - Double(a)))
    }

    /// Reorders `buf` so that `buf[k]` is the k-th smallest value, everything left of k is <= it and
    /// everything right is >= it; returns `buf[k]`. `buf` must hold no NaN.
    @discardableResult
    static func select<T: Comparable>(_ buf: UnsafeMutableBufferPointer<T>, _ k: Int) -> T {
        precondition(k >= 0 && k < buf.count)
        var lo = 0, hi = buf.count - 1
        var budget = 2 * (Int.bitWidth - buf.count.leadingZeroBitCount) + 4
        while lo < hi {
            if budget == 0 {
                var slice = UnsafeMutableBufferPointer(rebasing: buf[lo...hi])
                slice.sort()
                return buf[k]
            }
            budget -= 1
            // median-of-three pivot value
            let mid = lo + (hi - lo) / 2
            let x = buf[lo], y = buf[mid], z = buf[hi]
            let pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y))
            // three-way partition: [lo, lt) < pivot, [lt, i) == pivot, (gt, hi] > pivot
            var lt = lo, i = lo, gt = hi
            while i <= gt {
                let v = buf[i]
                if v < pivot {
                    buf.swapAt(lt, i); lt += 1; i += 1
                } else if pivot < v {
                    buf.swapAt(i, gt); gt -= 1
                } else {
                    i += 1
                }
            }
            if k < lt { hi = lt - 1 } else if k > gt { lo = gt + 1 } else { return buf[k] }
        }
        return buf[k]
    }
}
