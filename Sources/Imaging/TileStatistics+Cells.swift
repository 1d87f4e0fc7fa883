import Foundation

extension TileStatistics {
    /// `measure(image, plane:, rect)` of every rectangle of `tiles`, bit for bit, without selecting
    /// from overlapping rectangles' pixels again and again.
    ///
    /// How: every rectangle edge cuts the plane into cells (overlapping tiles share their cells). Each
    /// cell's finite pixels, and its finite horizontal differences, are put once into `TileBuckets.count`
    /// buckets of a monotone map of values (`TileBuckets`, one counting-sort pass per cell); a
    /// rectangle's order statistics then come from the cells it covers: the bucket holding rank k from
    /// the cells' summed bucket counts, and the exact value by selection among that bucket's values
    /// only. The MAD (rank k of |d - centre|) by bisection on the deviation: values in buckets that lie
    /// wholly inside or outside `|d - centre| <= t` are counted from bucket counts, the 1-3 buckets at
    /// each end are compared value by value. The results are exact order statistics, so the same values
    /// as `measure`; a zero median (whose sign bit depends on the selection) is recomputed by the plain
    /// path as `measure` does.
    public static func measure(_ image: Image, plane: Int = 0, tiles: [TileRect]) -> [TileStatistics] {
        precondition(plane >= 0 && plane < image.channels, "plane out of range")
        for t in tiles {
            precondition(t.x >= 0 && t.y >= 0 && t.width >= 0 && t.height >= 0
                         && t.x + t.width <= image.width && t.y + t.height <= image.height, "rectangle outside the image")
        }
        let live = tiles.filter { $0.width > 0 && $0.height > 0 }
        guard !live.isEmpty else { return tiles.map { _ in TileStatistics(finiteCount: 0, median: nil, differenceMAD: nil) } }
        return image.pixels.withUnsafeBufferPointer { all -> [TileStatistics] in
            let base = all.baseAddress! + plane * image.planeSize
            let cells = TileCells(base: base, width: image.width, height: image.height, tiles: live)
            defer { cells.deallocate() }
            var hint = 1
            return tiles.map { rect in
                guard rect.width > 0, rect.height > 0 else { return TileStatistics(finiteCount: 0, median: nil, differenceMAD: nil) }
                var stats = cells.statistics(of: rect, hint: &hint)
                if stats.finiteCount > 0 && stats.median == 0 {
                    let rows = Rows(base: base + rect.y * image.width + rect.x, stride: image.width,
                                    width: rect.width, height: rect.height)
                    stats.median = Statistics.median(copyValues(rows))
                }
                return stats
            }
        }
    }
}

/// A monotone map of floats (not NaN) to `TileBuckets.count` buckets: `x <= y` implies
/// `bucket(x) <= bucket(y)` (each step, `(x - lo) * scale + 1` in Float, clamping to [0, count - 1]
/// and rounding to the nearest integer by adding 2^23, is monotone). Buckets split `[lo, hi]` of a
/// sample evenly; the first and last also take the tails. Any such map gives the same results; a good
/// one keeps the buckets near a median small.
struct TileBuckets {
    /// Buckets per group.
    static let count = 512
    /// Low end of the even buckets, and buckets per unit of value.
    let lo: Float, scale: Float

    /// A map spreading the 0.5 % .. 99.5 % quantiles of `sample` (finite values) over the buckets.
    init(sample: [Float]) {
        guard let a = Statistics.quantile(sample, 0.005), let b = Statistics.quantile(sample, 0.995) else {
            lo = 0; scale = 1; return
        }
        let s = Float(Self.count - 2) / (b - a)
        lo = a
        scale = s.isFinite && s > 0 ? s : 1
    }

    static let top = Float(count - 1)
    static let magic: Float = 8_388_608  // 2^23: x + 2^23 for 0 <= x < 2^22 holds round(x) in its low bits

    /// The bucket of `x` (not NaN; ±infinity go to the ends).
    @inline(__always)
    func bucket(_ x: Float) -> Int {
        let u = (x - lo) * scale + 1
        let c = u < 0 ? 0 : (u > Self.top ? Self.top : u)
        return Int((c + Self.magic).bitPattern &- Self.magic.bitPattern)
    }

    /// `bucket` of each lane (the same arithmetic), `count` for a non-finite lane.
    @inline(__always)
    func buckets(_ x: SIMD8<Float>) -> SIMD8<Int32> {
        let u = (x - SIMD8(repeating: lo)) * SIMD8(repeating: scale) + SIMD8(repeating: 1)
        let c = u.replacing(with: 0, where: u .< 0).replacing(with: Self.top, where: u .> Self.top)
        let b = unsafeBitCast(c + SIMD8(repeating: Self.magic), to: SIMD8<Int32>.self) &- Int32(bitPattern: Self.magic.bitPattern)
        return b.replacing(with: Int32(Self.count), where: (x - x) .!= SIMD8(repeating: 0))
    }

    /// `bucket` of each lane (the same arithmetic), `count` for a non-finite lane.
    @inline(__always)
    func buckets(_ x: SIMD4<Float>) -> SIMD4<Int32> {
        let u = (x - SIMD4(repeating: lo)) * SIMD4(repeating: scale) + SIMD4(repeating: 1)
        let c = u.replacing(with: 0, where: u .< 0).replacing(with: Self.top, where: u .> Self.top)
        let b = unsafeBitCast(c + SIMD4(repeating: Self.magic), to: SIMD4<Int32>.self) &- Int32(bitPattern: Self.magic.bitPattern)
        // x - x is 0 exactly for finite x, NaN for NaN and infinities (one compare, no integer mask).
        return b.replacing(with: Int32(Self.count), where: (x - x) .!= SIMD4(repeating: 0))
    }
}

/// The cells of one plane cut by every edge of a set of rectangles, each with three groups of values
/// sorted into buckets: its finite pixels, its finite differences `p[c] - p[c-1]` with both columns
/// in the cell, and those of its first column (`c` = the cell's left edge, `c-1` in the cell to the
/// left), which a rectangle takes only when it also covers the cell to the left.
struct TileCells {
    let xs: [Int], ys: [Int]
    let valueMap: TileBuckets, differenceMap: TileBuckets
    /// Elements of every group, each group's grouped by bucket (non-finite ones at its end).
    let elements: UnsafeMutablePointer<Float>
    /// Per group `groupStride` entries, `TileBuckets.count + 1` of them used: elements in buckets below b
    /// (entry `count`: the finite count).
    let prefix: UnsafeMutablePointer<Int32>
    /// Start of each group in `elements`.
    let offsets: [Int]

    static let nb = TileBuckets.count
    /// Entries per group in `prefix` and per histogram while building: nb + 1 rounded up to 8 lanes.
    static let groupStride = (nb + 1 + 7) & ~7

    /// Group index of cell (i, j) and kind (0 values, 1 interior differences, 2 first-column differences).
    @inline(__always) func group(_ i: Int, _ j: Int, _ kind: Int) -> Int { ((j * (xs.count - 1)) + i) * 3 + kind }

    init(base: UnsafePointer<Float>, width: Int, height: Int, tiles: [TileRect]) {
        xs = Array(Set(tiles.flatMap { [$0.x, $0.x + $0.width] })).sorted()
        ys = Array(Set(tiles.flatMap { [$0.y, $0.y + $0.height] })).sorted()
        // Maps from a 1-in-64 grid sample of the plane and of its differences (a map only sets the speed).
        var vs: [Float] = [], ds: [Float] = []
        var y = 0
        while y < height {
            let row = base + y * width
            var x = 0
            while x < width {
                if row[x].isFinite { vs.append(row[x]) }
                if x + 1 < width { let d = row[x + 1] - row[x]; if d.isFinite { ds.append(d) } }
                x += 8
            }
            y += 8
        }
        valueMap = TileBuckets(sample: vs)
        differenceMap = TileBuckets(sample: ds)

        let nx = xs.count - 1, ny = ys.count - 1
        var offsets = [Int](repeating: 0, count: nx * ny * 3 + 1)
        var total = 0
        for j in 0..<ny {
            for i in 0..<nx {
                let w = xs[i + 1] - xs[i], h = ys[j + 1] - ys[j]
                let g = ((j * nx) + i) * 3
                offsets[g] = total; total += w * h
                offsets[g + 1] = total; total += (w - 1) * h
                offsets[g + 2] = total; total += xs[i] > 0 ? h : 0
            }
        }
        offsets[nx * ny * 3] = total
        self.offsets = offsets
        let stride = Self.groupStride
        elements = .allocate(capacity: max(total, 1))
        prefix = .allocate(capacity: nx * ny * 3 * stride)
        var maxW = 0, maxH = 0
        for i in 0..<nx { maxW = max(maxW, xs[i + 1] - xs[i]) }
        for j in 0..<ny { maxH = max(maxH, ys[j + 1] - ys[j]) }
        let maxCell = maxW * maxH
        let values = UnsafeMutablePointer<Float>.allocate(capacity: maxCell + 8)
        let keys = UnsafeMutablePointer<Int32>.allocate(capacity: maxCell + 8)
        // The histograms `keyValues` / `keyDifferences` fill and `sort` empties again, and `sort`'s positions.
        let counts = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * stride)
        let positions = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * stride)
        counts.initialize(repeating: 0, count: 2 * stride)
        defer { values.deallocate(); keys.deallocate(); counts.deallocate(); positions.deallocate() }
        for j in 0..<ny {
            for i in 0..<nx {
                let x0 = xs[i], x1 = xs[i + 1], y0 = ys[j], y1 = ys[j + 1]
                let g = ((j * nx) + i) * 3
                // Values.
                var n = 0
                for r in y0..<y1 {
                    n = Self.keyValues(base + r * width, from: x0, to: x1, map: valueMap, values: values, keys: keys, at: n, counts: counts)
                }
                Self.sort(values, keys, n, into: elements + offsets[g], prefix: prefix + g * stride, counts: counts,
                          positions: positions)
                // Interior differences.
                n = 0
                for r in y0..<y1 {
                    n = Self.keyDifferences(base + r * width, from: x0 + 1, to: x1, map: differenceMap, values: values, keys: keys, at: n, counts: counts)
                }
                Self.sort(values, keys, n, into: elements + offsets[g + 1], prefix: prefix + (g + 1) * stride, counts: counts,
                          positions: positions)
                // First-column differences.
                n = 0
                if x0 > 0 {
                    for r in y0..<y1 {
                        let p = base + r * width
                        Self.append(p[x0] - p[x0 - 1], map: differenceMap, values: values, keys: keys, at: n, counts: counts)
                        n += 1
                    }
                }
                Self.sort(values, keys, n, into: elements + offsets[g + 2], prefix: prefix + (g + 2) * stride, counts: counts,
                          positions: positions)
            }
        }
    }

    func deallocate() {
        elements.deallocate()
        prefix.deallocate()
    }

    // MARK: - building

    /// Appends `p[c]` for c in from ..< to, with their buckets, at `n`, and counts each in `sort`'s
    /// histograms (`counts`: of the even-, then the odd-indexed values); returns the new end.
    @inline(__always)
    static func keyValues(_ p: UnsafePointer<Float>, from: Int, to: Int, map: TileBuckets,
                          values: UnsafeMutablePointer<Float>, keys: UnsafeMutablePointer<Int32>, at n: Int,
                          counts: UnsafeMutablePointer<Int32>) -> Int {
        var c = from, m = n
        while c + 8 <= to {
            append(load8(p + c), map: map, values: values, keys: keys, at: m, counts: counts)
            c += 8; m += 8
        }
        if c + 4 <= to {
            append(TileStatistics.load4(p + c), map: map, values: values, keys: keys, at: m, counts: counts)
            c += 4; m += 4
        }
        while c < to {
            append(p[c], map: map, values: values, keys: keys, at: m, counts: counts)
            c += 1; m += 1
        }
        return m
    }

    /// Appends `p[c] - p[c-1]` for c in from ..< to (from >= 1), with their buckets, at `n`, counted
    /// as in `keyValues`.
    @inline(__always)
    static func keyDifferences(_ p: UnsafePointer<Float>, from: Int, to: Int, map: TileBuckets,
                               values: UnsafeMutablePointer<Float>, keys: UnsafeMutablePointer<Int32>, at n: Int,
                               counts: UnsafeMutablePointer<Int32>) -> Int {
        var c = from, m = n
        while c + 8 <= to {
            append(load8(p + c) - load8(p + c - 1), map: map, values: values, keys: keys, at: m, counts: counts)
            c += 8; m += 8
        }
        if c + 4 <= to {
            append(TileStatistics.load4(p + c) - TileStatistics.load4(p + c - 1), map: map, values: values, keys: keys,
                   at: m, counts: counts)
            c += 4; m += 4
        }
        while c < to {
            append(p[c] - p[c - 1], map: map, values: values, keys: keys, at: m, counts: counts)
            c += 1; m += 1
        }
        return m
    }

    /// Eight floats from `p` (any alignment).
    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

    /// Stores the eight values `v` and their buckets at indices m ..< m + 8 and counts the buckets in
    /// the histogram of each index's parity.
    @inline(__always)
    static func append(_ v: SIMD8<Float>, map: TileBuckets, values: UnsafeMutablePointer<Float>,
                       keys: UnsafeMutablePointer<Int32>, at m: Int, counts: UnsafeMutablePointer<Int32>) {
        UnsafeMutableRawPointer(values + m).storeBytes(of: v, as: SIMD8<Float>.self)
        let k = map.buckets(v)
        UnsafeMutableRawPointer(keys + m).storeBytes(of: k, as: SIMD8<Int32>.self)
        let even = counts + (m & 1) &* groupStride, odd = counts + ((m &+ 1) & 1) &* groupStride
        even[Int(k[0])] &+= 1
        odd[Int(k[1])] &+= 1
        even[Int(k[2])] &+= 1
        odd[Int(k[3])] &+= 1
        even[Int(k[4])] &+= 1
        odd[Int(k[5])] &+= 1
        even[Int(k[6])] &+= 1
        odd[Int(k[7])] &+= 1
    }

    /// `append` of four values.
    @inline(__always)
    static func append(_ v: SIMD4<Float>, map: TileBuckets, values: UnsafeMutablePointer<Float>,
                       keys: UnsafeMutablePointer<Int32>, at m: Int, counts: UnsafeMutablePointer<Int32>) {
        UnsafeMutableRawPointer(values + m).storeBytes(of: v, as: SIMD4<Float>.self)
        let k = map.buckets(v)
        UnsafeMutableRawPointer(keys + m).storeBytes(of: k, as: SIMD4<Int32>.self)
        let even = counts + (m & 1) &* groupStride, odd = counts + ((m &+ 1) & 1) &* groupStride
        even[Int(k[0])] &+= 1
        odd[Int(k[1])] &+= 1
        even[Int(k[2])] &+= 1
        odd[Int(k[3])] &+= 1
    }

    /// `append` of one value (a non-finite one takes the extra bucket `nb`).
    @inline(__always)
    static func append(_ v: Float, map: TileBuckets, values: UnsafeMutablePointer<Float>,
                       keys: UnsafeMutablePointer<Int32>, at m: Int, counts: UnsafeMutablePointer<Int32>) {
        values[m] = v
        let k = v.isFinite ? Int32(map.bucket(v)) : Int32(nb)
        keys[m] = k
        counts[(m & 1) &* groupStride &+ Int(k)] &+= 1
    }

    /// Counting sort of `values[0 ..< n]` by `keys` into `out` (finite ones by bucket, then the
    /// non-finite ones, key `nb`); `pre[b]` = values in buckets below b, `pre[nb]` = finite values.
    /// Two histograms (`counts`, 2 `groupStride` entries), of the even- and odd-indexed values, filled by
    /// `keyValues` / `keyDifferences` while they computed the keys; left all zero again for the next
    /// group. `positions` (2 `groupStride` entries) is scratch.
    static func sort(_ values: UnsafeMutablePointer<Float>, _ keys: UnsafeMutablePointer<Int32>, _ n: Int,
                     into out: UnsafeMutablePointer<Float>, prefix pre: UnsafeMutablePointer<Int32>,
                     counts: UnsafeMutablePointer<Int32>, positions: UnsafeMutablePointer<Int32>) {
        let a = counts, b = counts + groupStride
        let pa = positions, pb = positions + groupStride
        // Even-indexed values go to the front of their bucket, odd ones behind them: two independent
        // chains of position updates (the order inside a bucket matters to no result). The prefix sums
        // eight buckets at a time (exact: integer sums), emptying the histograms.
        var carry = SIMD8<Int32>()
        var k = 0
        while k < groupStride {
            let ca = UnsafeRawPointer(a + k).loadUnaligned(as: SIMD8<Int32>.self)
            let cb = UnsafeRawPointer(b + k).loadUnaligned(as: SIMD8<Int32>.self)
            let t = ca &+ cb
            let inclusive = inclusiveSum(t) &+ carry
            let exclusive = inclusive &- t
            UnsafeMutableRawPointer(pre + k).storeBytes(of: exclusive, as: SIMD8<Int32>.self)
            UnsafeMutableRawPointer(pa + k).storeBytes(of: exclusive, as: SIMD8<Int32>.self)
            UnsafeMutableRawPointer(pb + k).storeBytes(of: exclusive &+ ca, as: SIMD8<Int32>.self)
            UnsafeMutableRawPointer(a + k).storeBytes(of: SIMD8<Int32>(), as: SIMD8<Int32>.self)
            UnsafeMutableRawPointer(b + k).storeBytes(of: SIMD8<Int32>(), as: SIMD8<Int32>.self)
            carry = SIMD8(repeating: inclusive[7])
            k &+= 8
        }
        var i = 0
        while i &+ 4 <= n {
            let k0 = Int(keys[i]), k1 = Int(keys[i &+ 1]), k2 = Int(keys[i &+ 2]), k3 = Int(keys[i &+ 3])
            let p0 = pa[k0]
            out[Int(p0)] = values[i]
            pa[k0] = p0 &+ 1
            let p1 = pb[k1]
            out[Int(p1)] = values[i &+ 1]
            pb[k1] = p1 &+ 1
            let p2 = pa[k2]
            out[Int(p2)] = values[i &+ 2]
            pa[k2] = p2 &+ 1
            let p3 = pb[k3]
            out[Int(p3)] = values[i &+ 3]
            pb[k3] = p3 &+ 1
            i &+= 4
        }
        while i < n {
            let k = Int(keys[i])
            let p = i & 1 == 0 ? pa : pb
            let q = p[k]
            out[Int(q)] = values[i]
            p[k] = q &+ 1
            i &+= 1
        }
    }

    /// Lane i: t[0] + ... + t[i] (wrapping; the counts are far below 2^31).
    @inline(__always)
    static func inclusiveSum(_ t: SIMD8<Int32>) -> SIMD8<Int32> {
        let s1 = t &+ SIMD8(0, t[0], t[1], t[2], t[3], t[4], t[5], t[6])
        let s2 = s1 &+ SIMD8(0, 0, s1[0], s1[1], s1[2], s1[3], s1[4], s1[5])
        return s2 &+ SIMD8(0, 0, 0, 0, s2[0], s2[1], s2[2], s2[3])
    }

    // MARK: - per rectangle

    /// The groups of `rect`'s values and differences.
    func groups(of rect: TileRect) -> (values: [Int], differences: [Int]) {
        let i0 = Self.index(xs, rect.x), i1 = Self.index(xs, rect.x + rect.width)
        let j0 = Self.index(ys, rect.y), j1 = Self.index(ys, rect.y + rect.height)
        var v: [Int] = [], d: [Int] = []
        v.reserveCapacity((i1 - i0) * (j1 - j0))
        d.reserveCapacity(2 * (i1 - i0) * (j1 - j0))
        for j in j0..<j1 {
            for i in i0..<i1 {
                v.append(group(i, j, 0))
                d.append(group(i, j, 1))
                if i > i0 { d.append(group(i, j, 2)) }
            }
        }
        return (v, d)
    }

    /// Position of `x` in the sorted edges `e`.
    static func index(_ e: [Int], _ x: Int) -> Int {
        var lo = 0, hi = e.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if e[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    @inline(__always) func pre(_ g: Int) -> UnsafeMutablePointer<Int32> { prefix + g * Self.groupStride }

    /// Finite count, median and difference MAD of `rect` (median 0 with either sign; see `measure`).
    func statistics(of rect: TileRect, hint: inout Int) -> TileStatistics {
        let (vg, dg) = groups(of: rect)
        let nV = vg.reduce(0) { $0 + Int(pre($1)[Self.nb]) }
        let nD = dg.reduce(0) { $0 + Int(pre($1)[Self.nb]) }
        let median = nV > 0 ? quantileHalf(nV) { kth($0, vg) } : nil
        var mad: Float? = nil
        if nD > 0 {
            let centre = quantileHalf(nD) { kth($0, dg) }
            mad = quantileHalf(nD) { k -> Float in kthDeviation(k, centre: centre, dg, hint: &hint) }
        }
        return TileStatistics(finiteCount: nV, median: median, differenceMAD: mad)
    }

    /// `selectQuantile(·, 0.5)` from the order statistics: rank (n-1)/2, or the mean of ranks n/2-1
    /// and n/2 for even n.
    @inline(__always)
    func quantileHalf(_ n: Int, _ kth: (Int) -> Float) -> Float {
        let k = (n - 1) / 2
        let a = kth(k)
        return n % 2 == 0 ? (a + kth(k + 1)) / 2 : a
    }

    /// The k-th smallest (from 0) of the finite values of groups `gs`.
    func kth(_ k: Int, _ gs: [Int]) -> Float {
        // The bucket holding rank k: the first b whose groups hold more than k values below b + 1.
        var lo = 0, hi = Self.nb - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            var below = 0
            for g in gs { below &+= Int(pre(g)[mid + 1]) }
            if below > k { hi = mid } else { lo = mid + 1 }
        }
        var below = 0, size = 0
        for g in gs { let p = pre(g); below &+= Int(p[lo]); size &+= Int(p[lo + 1] &- p[lo]) }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: size)
        defer { scratch.deallocate() }
        var m = 0
        for g in gs {
            let p = pre(g), start = offsets[g] + Int(p[lo]), c = Int(p[lo + 1] &- p[lo])
            (scratch + m).update(from: elements + start, count: c)
            m += c
        }
        return Statistics.select(UnsafeMutableBufferPointer(start: scratch, count: size), k - below)
    }

    /// How many finite differences `d` of groups `gs` have `abs(d - centre) <= t` (t >= 0), as Float
    /// arithmetic decides it. The set is an interval [a, b] of floats (|d - c| rounds monotonically);
    /// `aIn`/`bIn` lie inside it, `aOut`/`bOut` outside, so buckets strictly between those of `aIn`
    /// and `bIn` count whole, buckets outside those of `aOut` and `bOut` not at all, and the rest are
    /// compared value by value.
    func countDeviations(atMost t: Float, centre m: Float, _ gs: [Int]) -> Int {
        if t == .infinity { return gs.reduce(0) { $0 + Int(pre($1)[Self.nb]) } }
        let (ba0, ba1, bb0, bb1) = window(t, centre: m)
        var count = 0
        for g in gs {
            let p = pre(g), e = elements + offsets[g]
            if ba1 + 1 < bb0 {
                count &+= Int(p[bb0] &- p[ba1 + 1])
                count &+= Self.countNear(e, from: Int(p[ba0]), to: Int(p[ba1 + 1]), centre: m, t: t)
                count &+= Self.countNear(e, from: Int(p[bb0]), to: Int(p[bb1 + 1]), centre: m, t: t)
            } else {
                count &+= Self.countNear(e, from: Int(p[ba0]), to: Int(p[bb1 + 1]), centre: m, t: t)
            }
        }
        return count
    }

    /// The buckets of `aOut`, `aIn`, `bIn`, `bOut` for `abs(d - centre) <= t` (see `countDeviations`):
    /// values in buckets a0 ... a1 and b0 ... b1 must be compared, those strictly between a1 and b0
    /// are inside, the others outside (t finite, >= 0).
    @inline(__always)
    func window(_ t: Float, centre m: Float) -> (a0: Int, a1: Int, b0: Int, b1: Int) {
        let map = differenceMap
        let md = Double(m), td = Double(t)
        // Exact |d - c| <= t implies inclusion; inclusion implies |d - c| <= t + ulp(t) / 2.
        let wide = td * (1 + 0x1p-22) + 0x1p-148
        let aIn = Self.roundUp(md - td), bIn = Self.roundDown(md + td)
        let aOut = Self.roundDown(md - wide).nextDown, bOut = Self.roundUp(md + wide).nextUp
        return (map.bucket(aOut), map.bucket(aIn), map.bucket(bIn), map.bucket(bOut))
    }

    /// Values of `e[from ..< to]` with `abs(d - centre) <= t`.
    @inline(__always)
    static func countNear(_ e: UnsafeMutablePointer<Float>, from: Int, to: Int, centre m: Float, t: Float) -> Int {
        var c = 0
        for i in from..<to { c &+= Statistics.bit(abs(e[i] - m) <= t) }
        return c
    }

    /// The smallest Float >= x.
    static func roundUp(_ x: Double) -> Float { let f = Float(x); return Double(f) < x ? f.nextUp : f }
    /// The largest Float <= x.
    static func roundDown(_ x: Double) -> Float { let f = Float(x); return Double(f) > x ? f.nextDown : f }

    /// The k-th smallest (from 0) of `abs(d - centre)` over the finite differences of `gs`: the
    /// least t (a Float >= 0, so a deviation) with more than k deviations at most t. Searched on the
    /// grid t_j = j * (bucket width) (galloping from `hint`, then bisection) until t_j < result <= t_j+1; the deviations in that step lie in the buckets between the two
    /// thresholds' uncertain ones and are selected from directly.
    func kthDeviation(_ k: Int, centre m: Float, _ gs: [Int], hint: inout Int) -> Float {
        let zero = countDeviations(atMost: 0, centre: m, gs)
        if zero > k { return 0 }
        let w = max(1 / differenceMap.scale, .leastNonzeroMagnitude)
        // Past 2^60 steps the threshold is infinite (every deviation counts), so no j overflows.
        let jMax = 1 << 60
        @inline(__always) func t(_ j: Int) -> Float { j >= jMax ? .infinity : Float(j) * w }
        // Bracket jl < result step <= jh by galloping from the previous rectangle's step (`hint`;
        // neighbouring tiles have similar noise), then bisect. Any path gives the same answer.
        var jl = 0, jh = min(max(hint, 1), jMax), below = zero
        var step = max(jh / 8, 1)
        let c0 = countDeviations(atMost: t(jh), centre: m, gs)
        if c0 <= k {
            jl = jh; below = c0
            while true {
                jh = min(jl + step, jMax)
                let c = countDeviations(atMost: t(jh), centre: m, gs)
                if c > k { break }
                jl = jh; below = c; step = min(step * 2, jMax)
            }
        } else {
            while jh > 1 {
                let j = max(jh - step, 0)
                if j == 0 { break }
                let c = countDeviations(atMost: t(j), centre: m, gs)
                if c <= k { jl = j; below = c; break }
                jh = j; step = min(step * 2, jMax)
            }
        }
        while jh - jl > 1 {
            let mid = jl + (jh - jl) / 2
            let c = countDeviations(atMost: t(mid), centre: m, gs)
            if c > k { jh = mid } else { jl = mid; below = c }
        }
        hint = jh
        let lo = t(jl), hi = t(jh)
        // Deviations in (lo, hi]: in hi's uncertain-or-inside buckets but not in lo's sure ones.
        let outer = window(hi, centre: m), inner = window(lo, centre: m)
        var ranges: [(Int, Int)] = []
        if inner.a1 + 1 < inner.b0 {
            ranges = [(outer.a0, inner.a1), (inner.b0, outer.b1)]
        } else {
            ranges = [(outer.a0, outer.b1)]
        }
        var size = 0
        for g in gs { for (p, q) in ranges { size &+= Int(pre(g)[q + 1] &- pre(g)[p]) } }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: size)
        defer { scratch.deallocate() }
        var n = 0
        for g in gs {
            let p = pre(g), e = elements + offsets[g]
            for (a, b) in ranges {
                for i in Int(p[a])..<Int(p[b + 1]) {
                    let dev = abs(e[i] - m)
                    scratch[n] = dev
                    n &+= Statistics.bit(dev > lo) & Statistics.bit(dev <= hi)
                }
            }
        }
        return Statistics.select(UnsafeMutableBufferPointer(start: scratch, count: n), k - below)
    }
}
