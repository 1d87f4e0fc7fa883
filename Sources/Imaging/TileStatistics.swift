import Foundation

/// A rectangle of pixels: columns `[x, x + width)`, rows `[y, y + height)`.
public struct TileRect: Sendable, Equatable {
    /// Left column.
    public var x: Int
    /// Top row.
    public var y: Int
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// A rectangle.
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

/// The robust location and noise of one rectangle of a plane, as the local metrics use them (METHOD
/// phase 5): the median of its finite pixels, and the raw MAD of the horizontal differences of finite
/// neighbours (a noise measure blind to smooth structure).
///
/// Guarantees: `median` is `Statistics.median(finite pixels)` and `differenceMAD` is
/// `Statistics.mad(differences)` bit for bit (differences row by row, `p[x] - p[x-1]` for each pair
/// inside the rectangle with a finite result). Computed by sample-bracketed selection
/// (`SelectionBracket`) straight from the image, without copying the rectangle; a missed bracket or a
/// zero median falls back to the plain selection on a copy.
public struct TileStatistics: Sendable, Equatable {
    /// Finite pixels in the rectangle.
    public var finiteCount: Int
    /// Median of the finite pixels; nil when there is none.
    public var median: Float?
    /// Raw MAD (no 1.4826) of the finite horizontal differences; nil when there is none.
    public var differenceMAD: Float?

    /// Statistics from explicit values.
    public init(finiteCount: Int, median: Float?, differenceMAD: Float?) {
        self.finiteCount = finiteCount
        self.median = median
        self.differenceMAD = differenceMAD
    }

    /// Sampling step in x and y for the brackets (1 pixel in 16).
    static let sampleStep = 4

    /// The statistics of `rect` in plane `plane` of `image`.
    public static func measure(_ image: Image, plane: Int = 0, _ rect: TileRect) -> TileStatistics {
        let w = rect.width, h = rect.height, stride = image.width
        precondition(plane >= 0 && plane < image.channels, "plane out of range")
        precondition(rect.x >= 0 && rect.y >= 0 && w >= 0 && h >= 0 && rect.x + w <= image.width && rect.y + h <= image.height,
                     "rectangle outside the image")
        guard w > 0, h > 0 else { return TileStatistics(finiteCount: 0, median: nil, differenceMAD: nil) }
        return image.pixels.withUnsafeBufferPointer { all -> TileStatistics in
            let base = all.baseAddress! + plane * image.planeSize + rect.y * stride + rect.x
            let pixels = Rows(base: base, stride: stride, width: w, height: h)
            return measure(pixels)
        }
    }

    /// The rectangle as row pointers.
    struct Rows {
        let base: UnsafePointer<Float>
        let stride: Int, width: Int, height: Int
        @inline(__always) func row(_ r: Int) -> UnsafePointer<Float> { base + r * stride }
    }

    static func measure(_ px: Rows) -> TileStatistics {
        let w = px.width, h = px.height, step = sampleStep
        let capacity = w * h + 1
        // Samples of the pixels and of the differences on a regular grid.
        var valueSample: [Float] = [], diffSample: [Float] = []
        valueSample.reserveCapacity((w / step + 1) * (h / step + 1))
        diffSample.reserveCapacity((w / step + 1) * (h / step + 1))
        var r = 0
        while r < h {
            let row = px.row(r)
            var c = 0
            while c < w {
                let v = row[c]
                if v.isFinite { valueSample.append(v) }
                if c + 1 < w { let d = row[c + 1] - row[c]; if d.isFinite { diffSample.append(d) } }
                c += step
            }
            r += step
        }
        // Finite ends: NaN and infinities are then never below nor gathered.
        let vb = valueSample.withUnsafeMutableBufferPointer { SelectionBracket.around(0.5, sample: $0).finite }
        let db = diffSample.withUnsafeMutableBufferPointer { SelectionBracket.around(0.5, sample: $0).finite }

        // One pass: count, count below, gather inside, for the pixels and for the differences.
        let gatheredV = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        let gatheredD = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        defer { gatheredV.deallocate(); gatheredD.deallocate() }
        var nV = 0, belowV = 0, mV = 0, nD = 0, belowD = 0, mD = 0
        let loV = vb.lo, hiV = vb.hi, loD = db.lo, hiD = db.hi
        for r in 0..<h {
            let row = px.row(r)
            let (fv, bv) = countFinite(row, w, below: loV)
            nV += fv; belowV += bv
            mV = gather(row, w, lo: loV, hi: hiV, into: gatheredV, at: mV)
            if w > 1 {
                let (fd, bd) = countFiniteDifferences(row, w, below: loD)
                nD += fd; belowD += bd
                mD = gatherDifferences(row, w, lo: loD, hi: hiD, into: gatheredD, at: mD)
            }
        }
        var median = SelectionBracket.finish(UnsafeMutableBufferPointer(start: gatheredV, count: mV), below: belowV, n: nV, q: 0.5)
        if nV > 0 && (median == nil || median == 0) { median = Statistics.median(copyValues(px)) }
        let centre = SelectionBracket.finish(UnsafeMutableBufferPointer(start: gatheredD, count: mD), below: belowD, n: nD, q: 0.5)
        var mad: Float? = nil
        if nD > 0 {
            // The sign of a zero centre does not matter: |d - (+0)| == |d - (-0)| for every d.
            if let m = centre { mad = deviationMedian(px, centre: m, n: nD, sample: diffSample, gather: gatheredD) }
            if mad == nil { mad = Statistics.mad(copyDifferences(px)) }
        }
        return TileStatistics(finiteCount: nV, median: median, differenceMAD: mad)
    }

    /// Median of |d - centre| over the `n` finite differences, gathering in `gp` (room for every
    /// difference plus one); nil when the bracket misses.
    static func deviationMedian(_ px: Rows, centre m: Float, n: Int, sample: [Float], gather gp: UnsafeMutablePointer<Float>) -> Float? {
        var devSample = sample.map { abs($0 - m) }
        var b = devSample.withUnsafeMutableBufferPointer { SelectionBracket.around(0.5, sample: $0) }
        // Finite ends: a non-finite deviation (from a NaN or infinite difference, or +inf from an
        // overflowing finite one) is then never below nor gathered; the finite differences' +inf
        // deviations still count in `n`, above the bracket, as in `Statistics.mad`.
        b.lo = max(b.lo, -.greatestFiniteMagnitude)
        b.hi = min(b.hi, .greatestFiniteMagnitude)
        var below = 0, count = 0
        guard px.width > 1 else { return nil }
        for r in 0..<px.height {
            let row = px.row(r)
            below += countDeviationsBelow(row, px.width, centre: m, below: b.lo)
            count = gatherDeviations(row, px.width, centre: m, lo: b.lo, hi: b.hi, into: gp, at: count)
        }
        return SelectionBracket.finish(UnsafeMutableBufferPointer(start: gp, count: count), below: below, n: n, q: 0.5)
    }

    // MARK: - row kernels

    /// Four floats from `p` (any alignment).
    @inline(__always)
    static func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self) }

    /// Lanes of `v` that are finite (exponent not all ones), by the bit pattern.
    @inline(__always)
    static func finiteLanes(_ v: SIMD4<Float>) -> SIMDMask<SIMD4<Int32>> {
        (unsafeBitCast(v, to: SIMD4<Int32>.self) & 0x7fff_ffff) .< 0x7f80_0000
    }

    /// 1 in each lane where `mask` is set (a set lane is all ones, -1).
    @inline(__always)
    static func ones(_ mask: SIMDMask<SIMD4<Int32>>) -> SIMD4<Int32> { 0 &- unsafeBitCast(mask, to: SIMD4<Int32>.self) }

    /// Finite values of `p[0 ..< n]`, and how many of them are below `lo`.
    @inline(__always)
    static func countFinite(_ p: UnsafePointer<Float>, _ n: Int, below lo: Float) -> (Int, Int) {
        var accF = SIMD4<Int32>(), accB = SIMD4<Int32>()
        var c = 0
        while c + 4 <= n {
            let v = load4(p + c)
            let finite = finiteLanes(v)
            accF &+= ones(finite)
            accB &+= ones(finite .& (v .< lo))
            c += 4
        }
        var f = Int(accF.wrappedSum()), b = Int(accB.wrappedSum())
        while c < n {
            let v = p[c]
            f += v.isFinite ? 1 : 0
            b += v.isFinite && v < lo ? 1 : 0
            c += 1
        }
        return (f, b)
    }

    /// Finite differences `p[c] - p[c-1]` for c in 1 ..< n, and how many of them are below `lo`.
    @inline(__always)
    static func countFiniteDifferences(_ p: UnsafePointer<Float>, _ n: Int, below lo: Float) -> (Int, Int) {
        var accF = SIMD4<Int32>(), accB = SIMD4<Int32>()
        var c = 1
        while c + 4 <= n {
            let d = load4(p + c) - load4(p + c - 1)
            let finite = finiteLanes(d)
            accF &+= ones(finite)
            accB &+= ones(finite .& (d .< lo))
            c += 4
        }
        var f = Int(accF.wrappedSum()), b = Int(accB.wrappedSum())
        while c < n {
            let d = p[c] - p[c - 1]
            f += d.isFinite ? 1 : 0
            b += d.isFinite && d < lo ? 1 : 0
            c += 1
        }
        return (f, b)
    }

    /// Deviations |p[c] - p[c-1] - centre| below `lo` (finite) for c in 1 ..< n; NaN and infinite
    /// deviations never count.
    @inline(__always)
    static func countDeviationsBelow(_ p: UnsafePointer<Float>, _ n: Int, centre m: Float, below lo: Float) -> Int {
        var acc = SIMD4<Int32>()
        let mv = SIMD4<Float>(repeating: m)
        var c = 1
        while c + 4 <= n {
            let x = load4(p + c) - load4(p + c - 1) - mv
            // |x| < lo without the sign of zero mattering: -lo < x < lo (lo > 0), or nothing (lo <= 0).
            acc &+= ones((x .< lo) .& (x .> -lo))
            c += 4
        }
        var b = Int(acc.wrappedSum())
        while c < n {
            b += abs(p[c] - p[c - 1] - m) < lo ? 1 : 0
            c += 1
        }
        return b
    }

    /// 1 when lo <= v <= hi, else 0, without a branch (a short-circuit `&&` compiles to jumps that
    /// mispredict on every gathered value).
    @inline(__always)
    static func inside(_ v: Float, _ lo: Float, _ hi: Float) -> Int { (v >= lo ? 1 : 0) & (v <= hi ? 1 : 0) }

    /// Writes the values of `p[0 ..< n]` in `[lo, hi]` (finite ends) to `g` from `m`; returns the new end.
    @inline(__always)
    static func gather(_ p: UnsafePointer<Float>, _ n: Int, lo: Float, hi: Float, into g: UnsafeMutablePointer<Float>, at start: Int) -> Int {
        var m = start
        for c in 0..<n {
            let v = p[c]
            g[m] = v
            m &+= inside(v, lo, hi)
        }
        return m
    }

    /// Writes the differences `p[c] - p[c-1]` in `[lo, hi]` (finite ends) to `g` from `m`.
    @inline(__always)
    static func gatherDifferences(_ p: UnsafePointer<Float>, _ n: Int, lo: Float, hi: Float, into g: UnsafeMutablePointer<Float>, at start: Int) -> Int {
        var m = start
        var previous = p[0]
        for c in 1..<n {
            let v = p[c]
            let d = v - previous
            previous = v
            g[m] = d
            m &+= inside(d, lo, hi)
        }
        return m
    }

    /// Writes the deviations |p[c] - p[c-1] - centre| in `[lo, hi]` (finite ends) to `g` from `m`.
    @inline(__always)
    static func gatherDeviations(_ p: UnsafePointer<Float>, _ n: Int, centre: Float, lo: Float, hi: Float,
                                 into g: UnsafeMutablePointer<Float>, at start: Int) -> Int {
        var m = start
        var previous = p[0]
        for c in 1..<n {
            let v = p[c]
            let dev = abs(v - previous - centre)
            previous = v
            g[m] = dev
            m &+= inside(dev, lo, hi)
        }
        return m
    }

    /// The finite pixels, row by row (the plain path's input).
    static func copyValues(_ px: Rows) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(px.width * px.height)
        for r in 0..<px.height {
            let row = px.row(r)
            for c in 0..<px.width where row[c].isFinite { out.append(row[c]) }
        }
        return out
    }

    /// The finite horizontal differences, row by row (the plain path's input).
    static func copyDifferences(_ px: Rows) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(px.width * px.height)
        for r in 0..<px.height {
            let row = px.row(r)
            for c in 1..<max(1, px.width) {
                let d = row[c] - row[c - 1]
                if d.isFinite { out.append(d) }
            }
        }
        return out
    }
}
