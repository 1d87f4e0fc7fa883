import Foundation

/// Robust order statistics on `Float`/`Double` samples.
///
/// Guarantees shared by every function here:
/// - NaN and ±Inf are ignored (dropped before anything is computed); an input with no finite
///   value gives `nil`.
/// - The input is never reordered: selection runs on a private scratch copy.
/// - Large inputs (`BracketTuning.bracketFrom` values) are selected from by a sample-bracketed
///   pass over the values themselves (`quantileBracketed`, no copy); it finds the same order
///   statistics, so the same value, and a zero result is recomputed by the plain selection below so
///   that even its sign bit is the same.
/// - Median and quantiles use selection (Hoare quickselect with a median-of-three pivot, and a
///   sort fallback on the remaining range after 2·log2(n) unlucky rounds): O(n) expected, O(n log n)
///   worst case, never quadratic, and fast on data with many equal values (integer cameras).
/// - Results are deterministic: the same values in the same order give the same bits.
public enum Statistics {
    /// Median of the finite values; the mean of the two middle values when their count is even.
    public static func median(_ values: [Float]) -> Float? {
        values.withUnsafeBufferPointer { median($0) }
    }

    /// Median of the finite values of a buffer (see `median(_: [Float])`); module-internal so no
    /// unsafe pointer appears in the public API.
    static func median(_ values: UnsafeBufferPointer<Float>) -> Float? {
        if values.count >= BracketTuning.bracketFrom, let m = quantileBracketed(values, 0.5) { return m }
        var scratch = finiteCopy(values)
        return scratch.withUnsafeMutableBufferPointer { selectQuantile($0, 0.5) }
    }

    /// Median of the finite values (Double samples, e.g. per-frame metrics).
    public static func median(_ values: [Double]) -> Double? {
        if values.count >= BracketTuning.bracketFrom, let m = values.withUnsafeBufferPointer({ quantileBracketed($0, 0.5) }) { return m }
        var scratch = values.filter { $0.isFinite }
        return scratch.withUnsafeMutableBufferPointer { selectQuantile($0, 0.5) }
    }

    /// Quantile `q` in [0, 1] of the finite values with linear interpolation between order
    /// statistics (Hyndman-Fan type 7, numpy's default): position h = (n-1)·q.
    /// `q` outside [0, 1] is clamped.
    public static func quantile(_ values: [Float], _ q: Double) -> Float? {
        if values.count >= BracketTuning.bracketFrom, let x = values.withUnsafeBufferPointer({ quantileBracketed($0, q) }) { return x }
        var scratch = values.withUnsafeBufferPointer { finiteCopy($0) }
        return scratch.withUnsafeMutableBufferPointer { selectQuantile($0, q) }
    }

    /// Quantile `q` of the finite Double values (see `quantile(_: [Float], _:)`).
    public static func quantile(_ values: [Double], _ q: Double) -> Double? {
        if values.count >= BracketTuning.bracketFrom, let x = values.withUnsafeBufferPointer({ quantileBracketed($0, q) }) { return x }
        var scratch = values.filter { $0.isFinite }
        return scratch.withUnsafeMutableBufferPointer { selectQuantile($0, q) }
    }

    // MARK: - selection core (internal)

    /// The finite values of `values`, in order.
    static func finiteCopy(_ values: UnsafeBufferPointer<Float>) -> [Float] {
        [Float](unsafeUninitializedCapacity: values.count) { dst, count in
            var m = 0
            for v in values where v.isFinite { dst[m] = v; m += 1 }
            count = m
        }
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
    ///
    /// Hoare-partition quickselect with a median-of-three pivot that also places sentinels (as in
    /// Numerical Recipes' `select`): equal values split evenly, so many duplicates stay O(n).
    /// After 2·log2(n)+4 rounds the remaining range is sorted instead (O(n log n) worst case).
    @discardableResult
    static func select<T: Comparable>(_ a: UnsafeMutableBufferPointer<T>, _ k: Int) -> T {
        precondition(k >= 0 && k < a.count)
        var l = 0, r = a.count - 1
        var budget = 2 * (Int.bitWidth - a.count.leadingZeroBitCount) + 4
        while true {
            if r <= l + 1 {
                if r == l + 1 && a[r] < a[l] { a.swapAt(l, r) }
                return a[k]
            }
            if budget == 0 {
                var slice = UnsafeMutableBufferPointer(rebasing: a[l...r])
                slice.sort()
                return a[k]
            }
            budget -= 1
            let mid = (l + r) >> 1
            a.swapAt(mid, l + 1)
            if a[r] < a[l] { a.swapAt(l, r) }
            if a[r] < a[l + 1] { a.swapAt(l + 1, r) }
            if a[l + 1] < a[l] { a.swapAt(l, l + 1) }
            // now a[l] <= a[l+1] <= a[r]: a[l+1] is the pivot, a[l] and a[r] are sentinels
            var i = l + 1, j = r
            let pivot = a[l + 1]
            if r - l > 2 * minBlock + 2 { blockSwaps(a.baseAddress!, pivot: pivot, i: &i, j: &j) }
            while true {
                repeat { i += 1 } while a[i] < pivot
                repeat { j -= 1 } while pivot < a[j]
                if j < i { break }
                a.swapAt(i, j)
            }
            a[l + 1] = a[j]
            a[j] = pivot
            if j >= k { r = j - 1 }
            if j <= k { l = i }
        }
    }

    /// 1 for true, 0 for false, as data: `c ? 1 : 0` compiles to a branch here, which mispredicts
    /// on every other value of noise (the very cost the block partition removes).
    @inline(__always)
    static func bit(_ c: Bool) -> Int { Int(truncatingIfNeeded: unsafeBitCast(c, to: UInt8.self)) }

    /// Values scanned at a time by `blockSwaps`, at most.
    static let partitionBlock = 64

    /// Shortest block `blockSwaps` scans; the last few values between the scans are the scalar
    /// loop's.
    static let minBlock = 8

    /// The swaps of `select`'s Hoare partition while its two scans are far apart, without a branch
    /// per value (BlockQuicksort, Edelkamp & Weiss 2016): a block of values is scanned from each
    /// end, the offsets of the values the scans would stop at (left: `!(x < pivot)`, right:
    /// `!(pivot < x)`) are recorded branch-free, and the k-th left stop is swapped with the k-th
    /// right stop, exactly the pairs the scalar loop swaps, in the same order. `i` and `j` are left
    /// at the last pair swapped (the scalar loop's state after that swap), so the scalar loop takes
    /// over unchanged: it rescans the values left in a block (untouched, so it stops at the same
    /// places) and handles the crossing. The permutation, hence every result and every later
    /// reading of the buffer, is the scalar partition's, bit for bit.
    @inline(__always)
    static func blockSwaps<T: Comparable>(_ p: UnsafeMutablePointer<T>, pivot: T, i: inout Int, j: inout Int) {
        let block = partitionBlock
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * block) { offsets in
            let offL = offsets.baseAddress!, offR = offL + block
            var ls = i + 1, rs = j - 1            // next unscanned position from the left / right
            var baseL = 0, startL = 0, numL = 0   // left stops: baseL + offL[startL ..< startL + numL]
            var baseR = 0, startR = 0, numR = 0   // right stops: baseR - offR[...]
            while true {
                // Block lengths: at most `block`, and the two scans never overlap.
                let unscanned = rs - ls + 1
                var lengthL = 0, lengthR = 0
                if numL == 0 && numR == 0 {
                    guard unscanned >= 2 * minBlock else { break }
                    lengthL = min(block, unscanned / 2); lengthR = lengthL
                } else {
                    guard unscanned >= minBlock else { break }
                    if numL == 0 { lengthL = min(block, unscanned) } else { lengthR = min(block, unscanned) }
                }
                if numL == 0 {
                    baseL = ls; startL = 0
                    for t in 0..<lengthL {
                        offL[numL] = Int32(truncatingIfNeeded: t)
                        numL &+= bit(!(p[ls + t] < pivot))
                    }
                    ls += lengthL
                }
                if numR == 0 {
                    baseR = rs; startR = 0
                    for t in 0..<lengthR {
                        offR[numR] = Int32(truncatingIfNeeded: t)
                        numR &+= bit(!(pivot < p[rs - t]))
                    }
                    rs -= lengthR
                }
                let num = min(numL, numR)
                guard num > 0 else { continue }
                for t in 0..<num {
                    let x = baseL + Int(offL[startL + t]), y = baseR - Int(offR[startR + t])
                    let v = p[x]; p[x] = p[y]; p[y] = v
                }
                i = baseL + Int(offL[startL + num - 1])
                j = baseR - Int(offR[startR + num - 1])
                startL += num; numL -= num
                startR += num; numR -= num
            }
        }
    }
}
