import Testing
import TestSupport
@testable import Imaging

/// The selection code against references: the block partition of `Statistics.select` against the
/// scalar quickselect it replaced (same permutation, bit for bit), and the bracketed order
/// statistics of `median`, `quantile`, `mad` against the plain selection on a copy (same bits, the
/// sign of zero included) and against a full sort (same value).
@Suite("selection: block partition and bracketed order statistics")
struct SelectionEquivalenceTests {
    /// `Statistics.select` as it was before the block partition (the scalar Hoare quickselect).
    static func referenceSelect<T: Comparable>(_ a: UnsafeMutableBufferPointer<T>, _ k: Int) -> T {
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
            var i = l + 1, j = r
            let pivot = a[l + 1]
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

    /// The plain type-7 quantile before this change: finite copy, reference selection, same formula.
    static func referenceQuantile<T: BinaryFloatingPoint>(_ values: [T], _ q: Double) -> T? {
        var buf = values.filter { $0.isFinite }
        let n = buf.count
        guard n > 0 else { return nil }
        return buf.withUnsafeMutableBufferPointer { buf -> T in
            let qc = min(max(q, 0), 1)
            let h = Double(n - 1) * qc
            let lo = Int(h.rounded(.down))
            let frac = h - Double(lo)
            let a = referenceSelect(buf, lo)
            guard frac > 0, lo + 1 < n else { return a }
            var b = buf[lo + 1]
            for i in (lo + 2)..<max(lo + 2, n) where buf[i] < b { b = buf[i] }
            if qc == 0.5 && n % 2 == 0 { return (a + b) / 2 }
            return T(Double(a) + frac * (Double(b) - Double(a)))
        }
    }

    /// The plain raw MAD before this change.
    static func referenceMAD<T: BinaryFloatingPoint>(_ values: [T]) -> T? {
        guard let m = referenceQuantile(values, 0.5) else { return nil }
        return referenceQuantile(values.filter { $0.isFinite }.map { abs($0 - m) }, 0.5)
    }

    /// Type-7 quantile of the finite values from a full sort (values only: the sign of a zero is
    /// not defined by sorting).
    static func sortedQuantile<T: BinaryFloatingPoint>(_ values: [T], _ q: Double) -> T? {
        let s = values.filter { $0.isFinite }.sorted()
        guard !s.isEmpty else { return nil }
        let h = Double(s.count - 1) * q
        let lo = Int(h.rounded(.down)), f = h - Double(lo)
        if lo + 1 >= s.count || f == 0 { return s[lo] }
        if q == 0.5 && s.count % 2 == 0 { return (s[lo] + s[lo + 1]) / 2 }
        return T(Double(s[lo]) + f * (Double(s[lo + 1]) - Double(s[lo])))
    }

    /// Test data of kind `kind`: Gaussian noise, a few integer levels (ties), signed zeros among
    /// small integers, sorted, reversed, organ pipe, constant, and noise with NaN and infinities.
    static func data(_ kind: Int, _ n: Int, _ rng: inout TestRNG) -> [Float] {
        switch kind {
        case 0: return (0..<n).map { _ in Float(rng.normal() * 100) }
        case 1: return (0..<n).map { _ in Float(Int(rng.uniform() * 5)) }
        case 2: return (0..<n).map { _ in [Float(0), -0, 1, -1, 0, -0][Int(rng.uniform() * 6)] }
        case 3: return (0..<n).map { Float($0 / 3) }
        case 4: return (0..<n).map { Float(n - $0 / 2) }
        case 5: return (0..<n).map { Float(min($0, n - $0)) }
        case 6: return [Float](repeating: 7, count: n)
        default:
            return (0..<n).map { _ in
                let u = rng.uniform()
                return u < 0.02 ? .nan : u < 0.03 ? .infinity : u < 0.035 ? -.infinity : Float(rng.normal())
            }
        }
    }

    static func bits<T: BinaryFloatingPoint>(_ x: T?) -> String {
        guard let x else { return "nil" }
        return "\(x) \(x.sign == .minus ? "-" : "+") \(x.exponentBitPattern) \(x.significandBitPattern)"
    }

    static func sizes(_ rng: inout TestRNG) -> [Int] {
        [1, 2, 3, 5, 31, 128, 129, 130, 131, 200, 257, 1000, 4095, 4096, 4097, 9999, 30_000] + (0..<6).map { _ in 1 + Int(rng.uniform() * 20_000) }
    }

    @Test("select: the block partition leaves the scalar quickselect's permutation, bit for bit (Float, Double)")
    func blockPartitionPermutation() {
        var rng = TestRNG(seed: 2026)
        for n in Self.sizes(&rng) {
            for kind in 0..<7 {
                let base = Self.data(kind, n, &rng)
                for k in Set([0, n / 2, (n - 1) / 2, n - 1, Int(rng.uniform() * Double(n))]) {
                    var a = base, b = base
                    let x = a.withUnsafeMutableBufferPointer { Statistics.select($0, k) }
                    let y = b.withUnsafeMutableBufferPointer { Self.referenceSelect($0, k) }
                    #expect(x.bitPattern == y.bitPattern, "n \(n) kind \(kind) k \(k)")
                    #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "permutation n \(n) kind \(kind) k \(k)")
                    var c = base.map(Double.init), d = c
                    _ = c.withUnsafeMutableBufferPointer { Statistics.select($0, k) }
                    _ = d.withUnsafeMutableBufferPointer { Self.referenceSelect($0, k) }
                    #expect(c.map(\.bitPattern) == d.map(\.bitPattern), "Double permutation n \(n) kind \(kind) k \(k)")
                }
            }
        }
    }

    @Test("select: adversarial inputs that exhaust the round budget (sort fallback) keep the permutation")
    func blockPartitionBudget() {
        // Median-of-3 killer-like: pivots near the ends on every round.
        for n in [500, 2048, 5000] {
            var base = [Float](repeating: 0, count: n)
            for i in 0..<n { base[i] = Float(i % 2 == 0 ? i : n - i) }
            for k in [0, n / 2, n - 1] {
                var a = base, b = base
                _ = a.withUnsafeMutableBufferPointer { Statistics.select($0, k) }
                _ = b.withUnsafeMutableBufferPointer { Self.referenceSelect($0, k) }
                #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "n \(n) k \(k)")
            }
        }
    }

    @Test("median, quantile, mad (Float): the plain selection's bits and the sorted value, NaN, ties and zeros included")
    func floatOrderStatistics() {
        var rng = TestRNG(seed: 7)
        for n in Self.sizes(&rng) {
            for kind in 0..<8 {
                let v = Self.data(kind, n, &rng)
                #expect(Self.bits(Statistics.median(v)) == Self.bits(Self.referenceQuantile(v, 0.5)), "median n \(n) kind \(kind)")
                #expect(Statistics.median(v) == Self.sortedQuantile(v, 0.5), "median n \(n) kind \(kind)")
                for q in [0.0, 0.001, 0.1, 0.5, 0.77, 0.999, 1] {
                    #expect(Self.bits(Statistics.quantile(v, q)) == Self.bits(Self.referenceQuantile(v, q)), "q \(q) n \(n) kind \(kind)")
                    #expect(Self.bits(Statistics.quantileBracketed(v, q)) == Self.bits(Self.referenceQuantile(v, q)), "bracketed q \(q) n \(n) kind \(kind)")
                    #expect(Statistics.quantile(v, q) == Self.sortedQuantile(v, q), "q \(q) n \(n) kind \(kind)")
                }
                #expect(Self.bits(Statistics.mad(v)) == Self.bits(Self.referenceMAD(v)), "mad n \(n) kind \(kind)")
                var w = v
                #expect(Self.bits(Statistics.madInPlace(&w)) == Self.bits(Self.referenceMAD(v)), "madInPlace n \(n) kind \(kind)")
            }
        }
    }

    @Test("median, quantile, mad (Double): the plain selection's bits and the sorted value")
    func doubleOrderStatistics() {
        var rng = TestRNG(seed: 8)
        for n in Self.sizes(&rng) {
            for kind in 0..<8 {
                let v = Self.data(kind, n, &rng).map { Double($0) * 1.000_000_1 }
                #expect(Self.bits(Statistics.median(v)) == Self.bits(Self.referenceQuantile(v, 0.5)), "median n \(n) kind \(kind)")
                #expect(Statistics.median(v) == Self.sortedQuantile(v, 0.5), "median n \(n) kind \(kind)")
                for q in [0.0, 0.25, 0.5, 0.9] {
                    #expect(Self.bits(Statistics.quantile(v, q)) == Self.bits(Self.referenceQuantile(v, q)), "q \(q) n \(n) kind \(kind)")
                }
                #expect(Self.bits(Statistics.mad(v)) == Self.bits(Self.referenceMAD(v)), "mad n \(n) kind \(kind)")
            }
        }
    }

    @Test("mad: deviations that overflow to +inf count above the median, as in the plain selection")
    func madOverflow() {
        var rng = TestRNG(seed: 9)
        var v = (0..<10_000).map { _ in Float(rng.normal()) }
        for i in stride(from: 0, to: 10_000, by: 3) { v[i] = .greatestFiniteMagnitude * (i % 2 == 0 ? 1 : -1) }
        #expect(Self.bits(Statistics.mad(v)) == Self.bits(Self.referenceMAD(v)))
        for i in stride(from: 1, to: 10_000, by: 3) { v[i] = -.greatestFiniteMagnitude }
        #expect(Self.bits(Statistics.mad(v)) == Self.bits(Self.referenceMAD(v)))
    }

    @Test("a sample unlike the rest (the gather buffer must grow, the bracket may miss): same bits")
    func unrepresentativeSample() {
        var rng = TestRNG(seed: 11)
        for n in [5000, 40_000] {
            // The strided sample sees only the wide values; nearly every other value lands in its bracket.
            let v = (0..<n).map { i in i % 16 == 0 ? Float(rng.normal() * 100) : Float(0.5 + rng.normal() * 1e-3) }
            let w = (0..<n).map { i in i % 16 == 0 ? Float(rng.normal() * 100) : Float(30 + rng.normal()) }
            for data in [v, w] {
                for q in [0.1, 0.5, 0.9] {
                    #expect(Self.bits(Statistics.quantile(data, q)) == Self.bits(Self.referenceQuantile(data, q)), "q \(q) n \(n)")
                }
                #expect(Self.bits(Statistics.mad(data)) == Self.bits(Self.referenceMAD(data)), "n \(n)")
                let d = data.map(Double.init)
                #expect(Self.bits(Statistics.median(d)) == Self.bits(Self.referenceQuantile(d, 0.5)), "n \(n)")
            }
        }
    }

    @Test("sigma clipping keeps its results (it sums the buffer in the order the selection leaves)")
    func sigmaClipUnchanged() {
        var rng = TestRNG(seed: 10)
        for n in [100, 5000, 65_536] {
            let v = (0..<n).map { _ in rng.uniform() < 0.05 ? Float(50 + rng.uniform() * 1000) : Float(100 + rng.normal() * 3) }
            var a = v
            let s = a.withUnsafeMutableBufferPointer { Statistics.sigmaClip($0, kappa: 3, iterations: 5) }
            // The reference: the same loop with the reference selection.
            var b = v, count = n
            var med = 0.0, mean = 0.0, sd = 0.0, round = 0
            b.withUnsafeMutableBufferPointer { all in
                while true {
                    let buf = UnsafeMutableBufferPointer(rebasing: all[0..<count])
                    var sum = 0.0
                    for x in buf { sum += Double(x) }
                    mean = sum / Double(count)
                    var ss = 0.0
                    for x in buf { let d = Double(x) - mean; ss += d * d }
                    sd = (ss / Double(count)).squareRoot()
                    let lo = (count - 1) / 2
                    let a0 = Self.referenceSelect(buf, lo)
                    var m = a0
                    if count % 2 == 0 {
                        var b0 = buf[lo + 1]
                        for i in (lo + 2)..<max(lo + 2, count) where buf[i] < b0 { b0 = buf[i] }
                        m = (a0 + b0) / 2
                    }
                    med = Double(m)
                    if round >= 5 || sd == 0 { break }
                    round += 1
                    var w = 0
                    for i in 0..<count where abs(Double(buf[i]) - med) <= 3 * sd { buf[w] = buf[i]; w += 1 }
                    if w == count || w == 0 { break }
                    count = w
                }
            }
            #expect(s == ClippedStats(mean: mean, median: med, sigma: sd, count: count), "n \(n)")
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "n \(n)")
        }
    }
}
