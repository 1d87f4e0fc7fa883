import Foundation

/// Sample-bracketed selection (Floyd-Rivest's idea): a small sample gives two values `lo <= hi`
/// that bracket the wanted order statistic with near certainty; one pass over the data counts the
/// values below `lo` and gathers those in `[lo, hi]` (a few % of them), and selection finishes on
/// the gathered values only. The result is the same order statistic as `selectQuantile` on all the
/// values, so the same value; when the bracket misses (the pass shows the rank outside it) the caller
/// falls back to the plain selection. Sign of zero: equal values other than -0/+0 have one bit
/// pattern, so only a zero result can differ in bits from the plain selection; callers that care
/// treat a zero result as a miss.
///
/// Contract of a `SelectionBracket` pass (see `TileStatistics`, `Statistics.quantileBracketed`):
/// count every value that takes part (`n`), the ones strictly below `lo` (`below`), and write the
/// ones with `lo <= v <= hi` to a gather buffer; then `finish` gives `selectQuantile`'s answer.
struct SelectionBracket<T: SelectableFloat>: Sendable, Equatable {
    /// Lower end (inclusive); `-infinity` when the bracket is open below.
    var lo: T
    /// Upper end (inclusive); `+infinity` when the bracket is open above.
    var hi: T

    /// A bracket from explicit ends.
    init(lo: T, hi: T) {
        self.lo = lo
        self.hi = hi
    }

    /// Everything: a pass with it gathers all values (the plain selection, with a copy).
    static var all: SelectionBracket { SelectionBracket(lo: -.infinity, hi: .infinity) }

    /// The bracket with infinite ends made finite (`±greatestFiniteMagnitude`): comparisons with it
    /// are false for NaN and for both infinities, so a pass need not test for finiteness to gather.
    var finite: SelectionBracket {
        SelectionBracket(lo: max(lo, -.greatestFiniteMagnitude), hi: min(hi, .greatestFiniteMagnitude))
    }

    /// The bracket around quantile `q` of the population that `sample` (finite values) was drawn
    /// from; reorders `sample`.
    static func around(_ q: Double, sample: UnsafeMutableBufferPointer<T>) -> SelectionBracket {
        let s = sample.count
        guard s >= BracketTuning.minSample else { return .all }
        let qc = min(max(q.isNaN ? 0.5 : q, 0), 1)
        let centre = Double(s - 1) * qc
        let half = BracketTuning.sigmas * (Double(s) * max(qc * (1 - qc), 1 / Double(s))).squareRoot() + 1
        let rLo = Int((centre - half).rounded(.down)), rHi = Int((centre + half).rounded(.up))
        if rLo > 0 && rHi < s - 1, let (lo, hi) = orderStatistics(sample, rLo, rHi) {
            return SelectionBracket(lo: lo, hi: hi)
        }
        let lo: T = rLo <= 0 ? -.infinity : Statistics.select(sample, rLo)
        // After selecting rLo everything right of it is >= lo: the upper end is among those.
        let start = max(rLo, 0)
        let hi: T = rHi >= s - 1 ? .infinity
            : Statistics.select(UnsafeMutableBufferPointer(rebasing: sample[start...]), rHi - start)
        return SelectionBracket(lo: lo, hi: hi)
    }

    /// The `i`-th and `j`-th smallest (i <= j) of `values` (finite) by the same bracketing one level
    /// down: a 1-in-8 subsample brackets both ranks, one pass gathers the values between, selection
    /// finishes there. nil (values untouched) below `nestedFrom` values or when the sub-bracket misses.
    /// The values are exact; a zero may come out with either sign (see the type's notes).
    static func orderStatistics(_ values: UnsafeMutableBufferPointer<T>, _ i: Int, _ j: Int) -> (T, T)? {
        let n = values.count
        guard n >= BracketTuning.nestedFrom else { return nil }
        var sub = [T](unsafeUninitializedCapacity: n / 8 + 1) { dst, filled in
            var m = 0, k = 0
            while k < n { dst[m] = values[k]; m += 1; k += 8 }
            filled = m
        }
        let t = sub.count
        let margin = BracketTuning.sigmas * (Double(t) / 4).squareRoot() + 1
        let a = Int((Double(i) / 8 - margin).rounded(.down)), b = Int((Double(j) / 8 + margin).rounded(.up))
        guard a > 0, b < t - 1 else { return nil }
        let (lo, hi) = sub.withUnsafeMutableBufferPointer { u -> (T, T) in
            let lo = Statistics.select(u, a)
            return (lo, Statistics.select(UnsafeMutableBufferPointer(rebasing: u[a...]), b - a))
        }
        // The subsample's share inside the bracket, with room to spare, sizes the gather buffer.
        var inside = 0
        for x in sub { inside &+= Statistics.bit(x >= lo) & Statistics.bit(x <= hi) }
        return Statistics.gatherInside(UnsafeBufferPointer(values), lo: lo, hi: hi, expected: 12 * inside + 64,
                                       allTakePart: true) { g, _, below -> (T, T)? in
            guard i >= below, j < below + g.count else { return nil }
            let x = Statistics.select(g, i - below)
            if j == i { return (x, x) }
            if j == i + 1 {
                // Everything right of x's place is >= x: the next order statistic is their minimum.
                var y = g[i - below + 1]
                for k in (i - below + 2)..<max(i - below + 2, g.count) { y = min(y, g[k]) }
                return (x, y)
            }
            return (x, Statistics.select(UnsafeMutableBufferPointer(rebasing: g[(i - below)...]), j - i))
        }
    }

    /// `selectQuantile(all values, q)` from a pass over `n` values of which `below` lie under `lo`
    /// and `gathered` (reordered here) are those in `[lo, hi]`; nil when `n == 0` or the ranks needed
    /// fall outside the bracket (then the caller selects on all values).
    static func finish(_ gathered: UnsafeMutableBufferPointer<T>, below: Int, n: Int, q: Double) -> T? {
        guard n > 0 else { return nil }
        let qc = min(max(q.isNaN ? 0.5 : q, 0), 1)
        let h = Double(n - 1) * qc
        let k = Int(h.rounded(.down))
        let frac = h - Double(k)
        let needsNext = frac > 0 && k + 1 < n
        let m = gathered.count
        guard k >= below, (needsNext ? k + 1 : k) < below + m else { return nil }
        // Many gathered values: bracket them in turn (a mispredicting quickselect over thousands of
        // values costs more than the pass that gathered them).
        if let (a, b) = orderStatistics(gathered, k - below, needsNext ? k - below + 1 : k - below) {
            guard needsNext else { return a }
            if qc == 0.5 && n % 2 == 0 { return (a + b) / 2 }
            return T(Double(a) + frac * (Double(b) - Double(a)))
        }
        let a = Statistics.select(gathered, k - below)
        guard needsNext else { return a }
        // Everything gathered right of a's position is >= a, everything not gathered above is > hi:
        // the next order statistic is the minimum of the gathered right part.
        var b = gathered[k - below + 1]
        for i in (k - below + 2)..<max(k - below + 2, m) where gathered[i] < b { b = gathered[i] }
        if qc == 0.5 && n % 2 == 0 { return (a + b) / 2 }
        return T(Double(a) + frac * (Double(b) - Double(a)))
    }
}

/// The float types the bracketed selection runs on (Float, Double): lane-wise compares need SIMD.
typealias SelectableFloat = BinaryFloatingPoint & SIMDScalar & Sendable

/// The constants of `SelectionBracket` (a generic type has no stored static properties).
enum BracketTuning {
    /// Half-width of the bracket in sample ranks, in standard deviations of a sample quantile:
    /// 4 sigma misses about once in 16 000 selections (each miss costs one plain selection).
    static let sigmas = 4.0

    /// Samples below which a bracket is not worth it (`all`).
    static let minSample = 32

    /// Samples from which `orderStatistics` brackets the sample itself.
    static let nestedFrom = 512

    /// Values from which the copying order statistics (`median`, `quantile`, `mad`) select by a
    /// bracketed pass instead of quickselect on a copy.
    static let bracketFrom = 4096
}

extension Statistics {
    /// `quantile(values, q)` by a sample-bracketed pass: the same order statistics, so the same
    /// value; faster on large inputs (one counting pass instead of quickselect's partitioning).
    /// A zero result is recomputed by `quantile` so its sign bit is the plain selection's too.
    public static func quantileBracketed(_ values: [Float], _ q: Double) -> Float? {
        values.withUnsafeBufferPointer { quantileBracketed($0, q) } ?? quantile(values, q)
    }

    /// The bracketed pass over a buffer; nil when the bracket missed, nothing is finite, or the
    /// result is zero (the caller then uses the plain selection).
    static func quantileBracketed<T: SelectableFloat>(_ v: UnsafeBufferPointer<T>, _ q: Double) -> T? {
        guard let result = bracketedQuantile(v, q), result != 0 else { return nil }
        return result
    }

    /// Quantile `q` (as `selectQuantile` on the finite values) of the finite values `x` of `v`, or
    /// with a `centre` of their deviations `|x - centre|`, by a sample-bracketed pass, without
    /// reordering or copying `v`; nil when the bracket missed or nothing is finite. Zero results are
    /// returned as found (the caller decides whether their sign can differ from the plain
    /// selection's). A deviation may overflow to +infinity: it counts, above every bracket.
    static func bracketedQuantile<T: SelectableFloat>(_ v: UnsafeBufferPointer<T>, _ q: Double, centre: T? = nil) -> T? {
        let count = v.count
        guard count > 0 else { return nil }
        // A strided sample of ~1/16 of the values, at least 64 when there are that many.
        let stride = max(1, min(16, count / 64))
        var sample = [T](unsafeUninitializedCapacity: count / stride + 1) { dst, filled in
            var m = 0, i = 0
            while i < count { let x = v[i]; if x.isFinite { dst[m] = centre.map { abs(x - $0) } ?? x; m += 1 }; i += stride }
            filled = m
        }
        // Finite ends: a mapped infinity is then never below nor gathered.
        let bracket = sample.withUnsafeMutableBufferPointer { SelectionBracket.around(q, sample: $0) }.finite
        let lo = bracket.lo, hi = bracket.hi
        var inside = 0
        for y in sample { inside &+= bit(y >= lo) & bit(y <= hi) }
        let expected = count / max(1, sample.count) * (inside + inside / 2) + 64
        return gatherInside(v, lo: lo, hi: hi, expected: expected, allTakePart: false, centre: centre) { g, n, below in
            SelectionBracket.finish(g, below: below, n: n, q: q)
        }
    }

    /// Values a gathering pass handles between checks of its buffer's room.
    static let gatherChunk = 2048

    /// One pass over `v`: how many `x` take part (`n`: the finite ones, or with `allTakePart`
    /// every one), how many of those have `y < lo` (`below`), and the `y` of those in `[lo, hi]`,
    /// gathered in order into a buffer handed to `body`; `y` is `x`, or `|x - centre|` with a centre.
    /// The buffer starts with room for `expected` values (plus one chunk) and grows when needed, so a
    /// pass over many values writes only the few it keeps.
    ///
    /// Eight values at a time: lane masks count them; when few values are expected inside, only a
    /// vector with a value inside the bracket is gathered, else every lane is written branch-free. (Written out for Float and Double: generic
    /// SIMD code is not specialized into vector instructions.)
    @inline(__always)
    static func gatherInside<T: SelectableFloat, R>(
        _ v: UnsafeBufferPointer<T>, lo: T, hi: T, expected: Int, allTakePart: Bool, centre: T? = nil,
        _ body: (UnsafeMutableBufferPointer<T>, _ n: Int, _ below: Int) -> R
    ) -> R {
        let (g, m, n, below): (UnsafeMutableRawPointer, Int, Int, Int)
        if T.self == Float.self {
            let r = gatherLanes(UnsafeBufferPointer(start: UnsafeRawPointer(v.baseAddress)?.assumingMemoryBound(to: Float.self), count: v.count),
                                lo: unsafeBitCast(lo, to: Float.self), hi: unsafeBitCast(hi, to: Float.self), expected: expected,
                                allTakePart: allTakePart, centre: centre.map { unsafeBitCast($0, to: Float.self) })
            (g, m, n, below) = (UnsafeMutableRawPointer(r.0), r.1, r.2, r.3)
        } else if T.self == Double.self {
            let r = gatherLanes(UnsafeBufferPointer(start: UnsafeRawPointer(v.baseAddress)?.assumingMemoryBound(to: Double.self), count: v.count),
                                lo: unsafeBitCast(lo, to: Double.self), hi: unsafeBitCast(hi, to: Double.self), expected: expected,
                                allTakePart: allTakePart, centre: centre.map { unsafeBitCast($0, to: Double.self) })
            (g, m, n, below) = (UnsafeMutableRawPointer(r.0), r.1, r.2, r.3)
        } else {
            preconditionFailure("bracketed selection runs on Float and Double")
        }
        defer { g.deallocate() }
        return body(UnsafeMutableBufferPointer(start: g.assumingMemoryBound(to: T.self), count: m), n, below)
    }

    /// `gatherInside` on Float values, eight at a time (see there); returns the gather buffer
    /// (the caller deallocates it), its count, `n` and `below`.
    static func gatherLanes(_ v: UnsafeBufferPointer<Float>, lo: Float, hi: Float, expected: Int, allTakePart: Bool,
                            centre: Float?) -> (UnsafeMutablePointer<Float>, Int, Int, Int) {
        let count = v.count
        var capacity = min(count, max(0, expected)) + gatherChunk + 1
        var g = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        guard let base = v.baseAddress, count > 0 else { return (g, 0, 0, 0) }
        var m = 0, n = 0, below = 0, start = 0
        let raw = UnsafeRawPointer(base)
        let loV = SIMD8<Float>(repeating: lo), hiV = SIMD8<Float>(repeating: hi)
        let c = centre ?? 0, cV = SIMD8<Float>(repeating: c)
        let magnitude = SIMD8<UInt32>(repeating: ~(1 << (UInt32.bitWidth - 1))), infBits = SIMD8<UInt32>(repeating: Float.infinity.bitPattern)
        @inline(__always) func map(_ x: Float) -> Float { centre == nil ? x : abs(x - c) }
        // Few values inside: test each vector and skip most; many: write every lane, branch-free
        // (the test would be taken nearly always, and mispredicted often).
        let sparse = 12 * expected < count
        while start < count {
            let end = min(count, start + gatherChunk)
            if m + (end - start) + 1 > capacity {
                let larger = max(2 * capacity, m + gatherChunk + 1)
                let h = UnsafeMutablePointer<Float>.allocate(capacity: larger)
                h.initialize(from: g, count: m)
                g.deallocate()
                g = h
                capacity = larger
            }
            var accN = SIMD8<Int32>(), accB = SIMD8<Int32>()
            var k = start
            while k + 8 <= end {
                let x = raw.loadUnaligned(fromByteOffset: k * MemoryLayout<Float>.stride, as: SIMD8<Float>.self)
                var y = x
                if centre != nil {
                    // |x - c| by clearing the sign bit: the same bits as abs
                    y = unsafeBitCast(unsafeBitCast(x - cV, to: SIMD8<UInt32>.self) & magnitude, to: SIMD8<Float>.self)
                }
                // finite: exponent not all ones
                let part = allTakePart ? SIMDMask<SIMD8<Int32>>(repeating: true)
                    : (unsafeBitCast(x, to: SIMD8<UInt32>.self) & magnitude) .< infBits
                let inside = part .& (y .>= loV) .& (y .<= hiV)
                accN &-= unsafeBitCast(part, to: SIMD8<Int32>.self)
                accB &-= unsafeBitCast(part .& (y .< loV), to: SIMD8<Int32>.self)
                if sparse {
                    if any(inside) {
                        for lane in 0..<8 {
                            g[m] = y[lane]
                            m &+= bit(inside[lane])
                        }
                    }
                } else {
                    let take = unsafeBitCast(inside, to: SIMD8<Int32>.self)  // -1 where inside
                    for lane in 0..<8 {
                        g[m] = y[lane]
                        m &-= Int(truncatingIfNeeded: take[lane])
                    }
                }
                k += 8
            }
            n &+= Int(truncatingIfNeeded: accN.wrappedSum())
            below &+= Int(truncatingIfNeeded: accB.wrappedSum())
            while k < end {
                let x = base[k]
                let part = allTakePart ? 1 : bit(x.isFinite)
                let y = map(x)
                n &+= part
                below &+= part & bit(y < lo)
                g[m] = y
                m &+= part & bit(y >= lo) & bit(y <= hi)
                k += 1
            }
            start = end
        }
        return (g, m, n, below)
    }

    /// `gatherInside` on Double values, eight at a time (see there); returns the gather buffer
    /// (the caller deallocates it), its count, `n` and `below`.
    static func gatherLanes(_ v: UnsafeBufferPointer<Double>, lo: Double, hi: Double, expected: Int, allTakePart: Bool,
                            centre: Double?) -> (UnsafeMutablePointer<Double>, Int, Int, Int) {
        let count = v.count
        var capacity = min(count, max(0, expected)) + gatherChunk + 1
        var g = UnsafeMutablePointer<Double>.allocate(capacity: capacity)
        guard let base = v.baseAddress, count > 0 else { return (g, 0, 0, 0) }
        var m = 0, n = 0, below = 0, start = 0
        let raw = UnsafeRawPointer(base)
        let loV = SIMD8<Double>(repeating: lo), hiV = SIMD8<Double>(repeating: hi)
        let c = centre ?? 0, cV = SIMD8<Double>(repeating: c)
        let magnitude = SIMD8<UInt64>(repeating: ~(1 << (UInt64.bitWidth - 1))), infBits = SIMD8<UInt64>(repeating: Double.infinity.bitPattern)
        @inline(__always) func map(_ x: Double) -> Double { centre == nil ? x : abs(x - c) }
        // Few values inside: test each vector and skip most; many: write every lane, branch-free
        // (the test would be taken nearly always, and mispredicted often).
        let sparse = 12 * expected < count
        while start < count {
            let end = min(count, start + gatherChunk)
            if m + (end - start) + 1 > capacity {
                let larger = max(2 * capacity, m + gatherChunk + 1)
                let h = UnsafeMutablePointer<Double>.allocate(capacity: larger)
                h.initialize(from: g, count: m)
                g.deallocate()
                g = h
                capacity = larger
            }
            var accN = SIMD8<Int64>(), accB = SIMD8<Int64>()
            var k = start
            while k + 8 <= end {
                let x = raw.loadUnaligned(fromByteOffset: k * MemoryLayout<Double>.stride, as: SIMD8<Double>.self)
                var y = x
                if centre != nil {
                    // |x - c| by clearing the sign bit: the same bits as abs
                    y = unsafeBitCast(unsafeBitCast(x - cV, to: SIMD8<UInt64>.self) & magnitude, to: SIMD8<Double>.self)
                }
                // finite: exponent not all ones
                let part = allTakePart ? SIMDMask<SIMD8<Int64>>(repeating: true)
                    : (unsafeBitCast(x, to: SIMD8<UInt64>.self) & magnitude) .< infBits
                let inside = part .& (y .>= loV) .& (y .<= hiV)
                accN &-= unsafeBitCast(part, to: SIMD8<Int64>.self)
                accB &-= unsafeBitCast(part .& (y .< loV), to: SIMD8<Int64>.self)
                if sparse {
                    if any(inside) {
                        for lane in 0..<8 {
                            g[m] = y[lane]
                            m &+= bit(inside[lane])
                        }
                    }
                } else {
                    let take = unsafeBitCast(inside, to: SIMD8<Int64>.self)  // -1 where inside
                    for lane in 0..<8 {
                        g[m] = y[lane]
                        m &-= Int(truncatingIfNeeded: take[lane])
                    }
                }
                k += 8
            }
            n &+= Int(truncatingIfNeeded: accN.wrappedSum())
            below &+= Int(truncatingIfNeeded: accB.wrappedSum())
            while k < end {
                let x = base[k]
                let part = allTakePart ? 1 : bit(x.isFinite)
                let y = map(x)
                n &+= part
                below &+= part & bit(y < lo)
                g[m] = y
                m &+= part & bit(y >= lo) & bit(y <= hi)
                k += 1
            }
            start = end
        }
        return (g, m, n, below)
    }
}

// MARK: - Guessed brackets

/// Exact medians found inside a guessed value bracket (the per-pixel kernels' fast path).
///
/// Quickselect over n values costs ~3.4 n comparisons, half of them mispredicted branches on noise.
/// When a good guess of the median is at hand (the neighbouring pixel's, the previous clipping
/// round's), one branch-free pass counts the values below the bracket `[lo, hi]` and copies those
/// inside it; when the middle order statistics fall inside, they are selected among those few values
/// only. The result is the same value, bit for bit, as a selection over all n values: order
/// statistics do not depend on how they are found. A wrong guess costs that one pass and returns nil.
extension Statistics {
    /// The median of the finite values `a[0..<n]` (n >= 1) when both middle order statistics lie in
    /// `[lo, hi]`, else nil. For even n it is `(lower + upper) / 2` of the two middle order statistics,
    /// the same expression as `PixelRejection.median` and `selectQuantile(_, 0.5)`. `a` is not modified; `scratch` holds >= n values.
    static func medianInBracket<T: BinaryFloatingPoint>(_ a: UnsafePointer<T>, _ n: Int, lo: T, hi: T,
                                                        scratch: UnsafeMutablePointer<T>) -> T? {
        var below = 0, m = 0
        for k in 0..<n {
            let v = a[k]
            let isBelow = v < lo ? 1 : 0, isAbove = v > hi ? 1 : 0  // `&&` would compile to branches
            below &+= isBelow
            scratch[m] = v
            m &+= 1 &- (isBelow | isAbove)
        }
        return medianOfBracket(n, below: below, inside: m, scratch: scratch)
    }

    /// The second half of `medianInBracket`: the median of n values of which `below` lie under the
    /// bracket and the `inside` ones within it are `scratch[0..<inside]` (reordered); nil when the
    /// middle order statistics are not among them.
    ///
    /// Not `SelectionBracket.finish(q: 0.5)`: that one follows `selectQuantile` (select the lower
    /// middle value, then the minimum right of it), this one `PixelRejection.median` (select the
    /// upper, then the maximum left of it). The values are the same, but with both -0 and +0 among
    /// the middle values the two can return zeros of different sign.
    static func medianOfBracket<T: BinaryFloatingPoint>(_ n: Int, below: Int, inside m: Int,
                                                        scratch: UnsafeMutablePointer<T>) -> T? {
        let upper = n / 2, lower = (n - 1) / 2
        guard n > 0, below <= lower, upper < below + m else { return nil }
        let inside = UnsafeMutableBufferPointer(start: scratch, count: m)
        let hiValue = select(inside, upper - below)
        guard n % 2 == 0 else { return hiValue }
        // After selecting rank upper - below (>= 1), the values left of it are the smaller ones.
        var loValue = inside[0]
        for k in 1..<(upper - below) where inside[k] > loValue { loValue = inside[k] }
        return (loValue + hiValue) / 2
    }
}
