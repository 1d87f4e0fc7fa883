/// Exact order statistics for `PixelRejection.clipRange`: medians of a pixel's values (Float) and of its
/// absolute residuals (Double), found inside a bracket around a guess and widened toward the median on a
/// miss. The bracket only decides which values are selected among, never the result: a median is always
/// the exact middle order statistic (the mean of the two middle ones for an even count), the same value a
/// full selection gives.
extension PixelRejection {
    /// Brackets tried (the first, then moved toward the median and widened 4x each time) before a full
    /// selection.
    static let bracketTries = 4

    /// The `k`-th smallest (0-based) of `a[0..<n]`, reordering `a` so that `a[0..<k]` are <= it. No NaN.
    /// Hoare quickselect with a median-of-three pivot and sentinels, insertion sort below 16 values, a
    /// full sort after 2 log2(n) + 4 rounds (O(n log n) worst case).
    @inline(__always)
    static func selectRank<T: Comparable>(_ a: UnsafeMutablePointer<T>, _ n: Int, _ k: Int) -> T {
        var l = 0, r = n - 1
        var budget = 2 * (Int.bitWidth - n.leadingZeroBitCount) + 4
        while true {
            if r - l < 16 {
                if r > l {
                    for i in (l + 1)...r {
                        let v = a[i]
                        var j = i
                        while j > l && v < a[j &- 1] { a[j] = a[j &- 1]; j &-= 1 }
                        a[j] = v
                    }
                }
                return a[k]
            }
            if budget == 0 {
                var rest = UnsafeMutableBufferPointer(start: a + l, count: r - l + 1)
                rest.sort()
                return a[k]
            }
            budget -= 1
            let mid = (l + r) >> 1
            swap(&a[mid], &a[l + 1])
            if a[r] < a[l] { swap(&a[l], &a[r]) }
            if a[r] < a[l + 1] { swap(&a[l + 1], &a[r]) }
            if a[l + 1] < a[l] { swap(&a[l], &a[l + 1]) }
            var i = l + 1, j = r
            let pivot = a[l + 1]
            while true {
                repeat { i &+= 1 } while a[i] < pivot
                repeat { j &-= 1 } while pivot < a[j]
                if j < i { break }
                swap(&a[i], &a[j])
            }
            a[l + 1] = a[j]
            a[j] = pivot
            if j >= k { r = j - 1 }
            if j <= k { l = i }
        }
    }

    /// Median of `a[0..<n]` given its `upper = n / 2`-th smallest selected in place (`a[0..<upper]` below it).
    @inline(__always)
    static func medianFromUpper<T: BinaryFloatingPoint>(_ a: UnsafeMutablePointer<T>, _ upperIndex: Int, _ hiValue: T,
                                                        even: Bool) -> Double {
        guard even else { return Double(hiValue) }
        var lo = a[0]
        for k in stride(from: 1, to: upperIndex, by: 1) where a[k] > lo { lo = a[k] }
        return (Double(lo) + Double(hiValue)) / 2
    }

    /// Counts of `x[0..<n]` below `lo` and above `hi`.
    @inline(__always)
    static func countOutside(_ x: UnsafePointer<Float>, _ n: Int, _ lo: Float, _ hi: Float) -> (below: Int, above: Int) {
        var b4 = SIMD4<Int32>(), a4 = SIMD4<Int32>()
        let lo4 = SIMD4<Float>(repeating: lo), hi4 = SIMD4<Float>(repeating: hi)
        var k = 0
        while k &+ 8 <= n {   // two vectors per round: less loop overhead
            let v = UnsafeRawPointer(x + k).loadUnaligned(as: SIMD4<Float>.self)
            let u = UnsafeRawPointer(x + k + 4).loadUnaligned(as: SIMD4<Float>.self)
            b4 &-= unsafeBitCast(v .< lo4, to: SIMD4<Int32>.self) &+ unsafeBitCast(u .< lo4, to: SIMD4<Int32>.self)  // true is -1
            a4 &-= unsafeBitCast(v .> hi4, to: SIMD4<Int32>.self) &+ unsafeBitCast(u .> hi4, to: SIMD4<Int32>.self)
            k &+= 8
        }
        while k &+ 4 <= n {
            let v = UnsafeRawPointer(x + k).loadUnaligned(as: SIMD4<Float>.self)
            b4 &-= unsafeBitCast(v .< lo4, to: SIMD4<Int32>.self)
            a4 &-= unsafeBitCast(v .> hi4, to: SIMD4<Int32>.self)
            k &+= 4
        }
        var below = Int(b4.wrappedSum()), above = Int(a4.wrappedSum())
        while k < n { below &+= x[k] < lo ? 1 : 0; above &+= x[k] > hi ? 1 : 0; k &+= 1 }
        return (below, above)
    }

    /// Counts of `x[0..<n]` below `lo` and above `hi`.
    @inline(__always)
    static func countOutside(_ x: UnsafePointer<Double>, _ n: Int, _ lo: Double, _ hi: Double) -> (below: Int, above: Int) {
        var b4 = SIMD4<Int64>(), a4 = SIMD4<Int64>()
        let lo4 = SIMD4<Double>(repeating: lo), hi4 = SIMD4<Double>(repeating: hi)
        var k = 0
        while k &+ 4 <= n {
            let v = UnsafeRawPointer(x + k).loadUnaligned(as: SIMD4<Double>.self)
            b4 &-= unsafeBitCast(v .< lo4, to: SIMD4<Int64>.self)
            a4 &-= unsafeBitCast(v .> hi4, to: SIMD4<Int64>.self)
            k &+= 4
        }
        var below = Int(b4.wrappedSum()), above = Int(a4.wrappedSum())
        while k < n { below &+= x[k] < lo ? 1 : 0; above &+= x[k] > hi ? 1 : 0; k &+= 1 }
        return (below, above)
    }

    /// Copies the values of `x[0..<n]` within `[lo, hi]` to `scratch` (in order) and returns their count.
    /// Branch-free: whether a value is inside is unpredictable, a mispredicted branch costs more than the
    /// store. Four values per step: one vector comparison gives the four increments, every value is
    /// stored at the current end and the end moves by its increment.
    @inline(__always)
    static func inside(_ x: UnsafePointer<Float>, _ n: Int, _ lo: Float, _ hi: Float, _ scratch: UnsafeMutablePointer<Float>) -> Int {
        var m = 0, k = 0
        let lo4 = SIMD4<Float>(repeating: lo), hi4 = SIMD4<Float>(repeating: hi), one = SIMD4<Int32>(repeating: 1)
        while k &+ 4 <= n {
            let v = UnsafeRawPointer(x + k).loadUnaligned(as: SIMD4<Float>.self)
            let inc = one &+ unsafeBitCast((v .< lo4) .| (v .> hi4), to: SIMD4<Int32>.self)   // outside is -1
            scratch[m] = v[0]; m &+= Int(inc[0])
            scratch[m] = v[1]; m &+= Int(inc[1])
            scratch[m] = v[2]; m &+= Int(inc[2])
            scratch[m] = v[3]; m &+= Int(inc[3])
            k &+= 4
        }
        while k < n {
            let v = x[k]
            scratch[m] = v
            m &+= 1 &- ((v < lo ? 1 : 0) | (v > hi ? 1 : 0))
            k &+= 1
        }
        return m
    }

    /// `inside` for Double values, two per vector.
    @inline(__always)
    static func inside(_ x: UnsafePointer<Double>, _ n: Int, _ lo: Double, _ hi: Double, _ scratch: UnsafeMutablePointer<Double>) -> Int {
        var m = 0, k = 0
        let lo2 = SIMD2<Double>(repeating: lo), hi2 = SIMD2<Double>(repeating: hi), one = SIMD2<Int64>(repeating: 1)
        while k &+ 4 <= n {
            let v = UnsafeRawPointer(x + k).loadUnaligned(as: SIMD2<Double>.self)
            let u = UnsafeRawPointer(x + (k &+ 2)).loadUnaligned(as: SIMD2<Double>.self)
            let iv = one &+ unsafeBitCast((v .< lo2) .| (v .> hi2), to: SIMD2<Int64>.self)
            let iu = one &+ unsafeBitCast((u .< lo2) .| (u .> hi2), to: SIMD2<Int64>.self)
            scratch[m] = v[0]; m &+= Int(iv[0])
            scratch[m] = v[1]; m &+= Int(iv[1])
            scratch[m] = u[0]; m &+= Int(iu[0])
            scratch[m] = u[1]; m &+= Int(iu[1])
            k &+= 4
        }
        while k < n {
            let v = x[k]
            scratch[m] = v
            m &+= 1 &- ((v < lo ? 1 : 0) | (v > hi ? 1 : 0))
            k &+= 1
        }
        return m
    }

    /// Median of the `n` >= 1 finite values `x[0..<n]` (not modified), searched inside `[guess - width,
    /// guess + width]` first; `scratch` holds n values.
    static func bracketMedian(_ x: UnsafePointer<Float>, _ n: Int, guess: Float, width: Float,
                              scratch: UnsafeMutablePointer<Float>) -> Double {
        let upper = n / 2, lower = (n - 1) / 2
        var w = width, lo = guess - width, hi = guess + width
        for _ in 0..<bracketTries {
            guard lo.isFinite && hi.isFinite else { break }
            let (below, above) = countOutside(x, n, lo, hi)
            if below > lower {            // the median is below the bracket
                hi = lo; w *= 4; lo = hi - w
            } else if upper >= n - above {  // above it
                lo = hi; w *= 4; hi = lo + w
            } else {
                var below = below, above = above
                // Halve the bracket (one count each) while it holds many values: the selection among the
                // values inside, with its unpredictable branches, is what costs.
                for _ in 0..<narrowings where n - below - above > narrowTo {
                    let mid = lo + (hi - lo) / 2
                    guard mid > lo && mid < hi else { break }
                    let (b, a) = countOutside(x, n, mid, mid)
                    // Selects, not branches: which half holds the median is a coin flip.
                    let lowHalf = upper < n - a, highHalf = !lowHalf && b <= lower
                    if !lowHalf && !highHalf { break }
                    hi = lowHalf ? mid : hi; above = lowHalf ? a : above
                    lo = highHalf ? mid : lo; below = highHalf ? b : below
                }
                let m = inside(x, n, lo, hi, scratch)
                let r = upper - below
                let h = selectRank(scratch, m, r)
                return medianFromUpper(scratch, r, h, even: n % 2 == 0)
            }
        }
        scratch.update(from: x, count: n)
        let h = selectRank(scratch, n, upper)
        return medianFromUpper(scratch, upper, h, even: n % 2 == 0)
    }

    /// Halvings of a bracket that holds the median, at most.
    static let narrowings = 3
    /// A bracket is halved while it holds more values than this.
    static let narrowTo = 12

    /// Median of the `n` >= 1 finite values `x[0..<n]` (not modified), searched inside `[lo, hi]` first
    /// (0 <= lo < hi; moved geometrically on a miss); `scratch` holds n values.
    static func bracketMedian(_ x: UnsafePointer<Double>, _ n: Int, lo lo0: Double, hi hi0: Double,
                              scratch: UnsafeMutablePointer<Double>) -> Double {
        let upper = n / 2, lower = (n - 1) / 2
        var lo = lo0, hi = hi0
        for _ in 0..<bracketTries {
            guard lo.isFinite && hi.isFinite && hi > lo else { break }
            let (below, above) = countOutside(x, n, lo, hi)
            if below > lower {
                hi = lo; lo = lo / 4
            } else if upper >= n - above {
                lo = hi; hi = hi * 4
            } else {
                var below = below, above = above
                for _ in 0..<narrowings where n - below - above > narrowTo {
                    let mid = lo + (hi - lo) / 2
                    guard mid > lo && mid < hi else { break }
                    let (b, a) = countOutside(x, n, mid, mid)
                    // Selects, not branches: which half holds the median is a coin flip.
                    let lowHalf = upper < n - a, highHalf = !lowHalf && b <= lower
                    if !lowHalf && !highHalf { break }
                    hi = lowHalf ? mid : hi; above = lowHalf ? a : above
                    lo = highHalf ? mid : lo; below = highHalf ? b : below
                }
                let m = inside(x, n, lo, hi, scratch)
                let r = upper - below
                let h = selectRank(scratch, m, r)
                return medianFromUpper(scratch, r, h, even: n % 2 == 0)
            }
        }
        scratch.update(from: x, count: n)
        let h = selectRank(scratch, n, upper)
        return medianFromUpper(scratch, upper, h, even: n % 2 == 0)
    }
}
