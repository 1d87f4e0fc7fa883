/// Lanczos-3 resampling of a similarity transform in two 1-D passes (METHOD phase 1's warp, the
/// fast path of `warp`).
///
/// For `outputToSource` x' = a x - b y + tx, y' = b x + a y + ty, output column x is a straight line
/// in the source. Pass 1 samples every source row r where each output column's line crosses it
/// (x' = s x + c_r with s = a + b^2 / a, c_r = tx + (ty - r) b / a: a 1-D resampling of the row with a
/// constant step); pass 2 samples each output column's line at y' (rows r of pass 1 are unit steps
/// along that line). The point mapping is exact; the 6x6 footprint is the 2-D kernel's, sheared by the
/// rotation (its rows slide by b / a px per row: 0.002 px at a 0.1 degree field rotation). The cost
/// per output pixel is two 6-tap sums instead of a 36-tap one.
///
/// Interior samples (all 6 taps inside the frame) sit on a grid of 1/2048 px: the sample position is
/// rounded to it (`gridSplit`, error <= 1/4096 px) and its single-precision weights are one row of
/// `lanczosGrid8`; a sample on a pixel (grid row 0) copies that pixel. They run 8 output columns at a
/// time (lanes = columns: each tap is one 8-wide load of neighbouring pixels), and one at a time with
/// the same operations elsewhere, so a value does not depend on which way it was computed.
///
/// Borders follow `warp`'s rules: coverage from (x', y') inside the source's pixel-centre rectangle;
/// taps outside the source dropped and the rest renormalized (per pass, at the exact position, Double
/// weights); a NaN under a tap of non-zero weight makes the output NaN with coverage 0; integer
/// offsets copy pixels exactly. Where a column's line leaves the frame within 3 rows of a covered
/// sample (a band of width 3 |b / a| px at the left and right borders), pass 1 samples the border column.
extension WarpKernel {
    /// The two-pass warp, or nil when it does not apply (|a| < 0.5: rotations near +-90 degrees, where
    /// the row step s would blow up; `warp` then uses the direct 2-D kernel).
    ///
    /// `s x`, `a x` and `b x` per output column and `b y`, `a y` per output row are computed once (each
    /// is one product, the same one); every sample of a pass is then the same expression whether it runs
    /// in an 8-column group or alone.
    static func twoPass(_ image: Image, a: Double, b: Double, tx: Double, ty: Double, width: Int, height: Int,
                        clamp: Bool) -> WarpResult? {
        guard abs(a) >= 0.5 else { return nil }
        let sw = image.width, sh = image.height, channels = image.channels
        let srcPlane = image.planeSize, dstPlane = width * height, midPlane = width * sh
        let s = a + b * b / a
        // Pass 1 writes every value of `mid`, pass 2 every value of `out` and `coverage` (NaN and 0 where
        // not covered): no pass fills them first.
        var mid = [Float](unsafeUninitializedCapacity: midPlane * channels) { _, n in n = midPlane * channels }
        var out = [Float](unsafeUninitializedCapacity: dstPlane * channels) { _, n in n = dstPlane * channels }
        var coverage = [UInt8](unsafeUninitializedCapacity: dstPlane) { _, n in n = dstPlane }
        let sx1 = (0..<width).map { s * Double($0) }
        let ax1 = (0..<width).map { a * Double($0) }, bx1 = (0..<width).map { b * Double($0) }
        let grid = lanczosGrid8, table = lanczosTable
        image.pixels.withUnsafeBufferPointer { src in
        mid.withUnsafeMutableBufferPointer { mid in
        out.withUnsafeMutableBufferPointer { dst in
        coverage.withUnsafeMutableBufferPointer { cov in
        grid.withUnsafeBufferPointer { grid in
        table.withUnsafeBufferPointer { lut in
        sx1.withUnsafeBufferPointer { sx1 in
        ax1.withUnsafeBufferPointer { ax1 in
        bx1.withUnsafeBufferPointer { bx1 in
            rowPass(src: src.baseAddress!, mid: mid.baseAddress!, sw: sw, sh: sh, width: width, channels: channels,
                    srcPlane: srcPlane, midPlane: midPlane, a: a, b: b, tx: tx, ty: ty, sx1: sx1.baseAddress!,
                    grid: grid.baseAddress!, lut: lut)
            columnPass(mid: UnsafePointer(mid.baseAddress!), src: src, dst: dst.baseAddress!, cov: cov.baseAddress!,
                       sw: sw, sh: sh, width: width, height: height, channels: channels, srcPlane: srcPlane,
                       midPlane: midPlane, dstPlane: dstPlane, tx: tx, ty: ty, a: a, b: b, ax1: ax1.baseAddress!,
                       bx1: bx1.baseAddress!, clamp: clamp, grid: grid.baseAddress!, lut: lut)
        }
        }
        }
        }
        }
        }
        }
        }
        }
        return WarpResult(image: Image(width: width, height: height, channels: channels, pixels: out), coverage: coverage)
    }

    /// Pass 1: every source row r resampled at x' = s x + c_r for each output column x (all planes),
    /// eight columns at a time inside the row's interior span (`interiorSpan`: grid index in
    /// [2, sw - 4], no bounds checks or clamps there) when their pixels are consecutive (ascending, or
    /// descending for a ~180 degree rotation), one at a time elsewhere.
    @inline(__always)
    private static func rowPass(src: UnsafePointer<Float>, mid: UnsafeMutablePointer<Float>, sw: Int, sh: Int, width: Int,
                                channels: Int, srcPlane: Int, midPlane: Int, a: Double, b: Double, tx: Double, ty: Double,
                                sx1: UnsafePointer<Double>, grid: UnsafePointer<SIMD8<Float>>, lut: UnsafeBufferPointer<Double>) {
        let last = Double(sw - 1)
        let s = a + b * b / a  // the step of `sx1` (only for the interior span's estimate)
        let up0 = SIMD4<Int64>(0, 1, 2, 3), up1 = SIMD4<Int64>(4, 5, 6, 7)
        for r in 0..<sh {
            let cr = tx + (ty - Double(r)) * b / a
            let cr4 = SIMD4<Double>(repeating: cr)
            let srcRow = src + r &* sw, midRow = mid + r &* width
            // The columns whose 6 taps from the grid index - 2 lie inside the row (x' in [2, sw - 4) roughly,
            // so the clamp to [0, sw - 1] is the identity there); one interval, x' being monotone in the column.
            let inside = interiorSpan(width: width, slope: s, offset: cr, from: 2, below: Double(sw - 4)) { ox in
                let i = gridSplit(sx1[ox] + cr).index
                return i >= 2 && i <= sw &- 4
            }
            var lastK0 = SIMD4<Int64>(repeating: 0), lastK1 = SIMD4<Int64>(repeating: 0)
            var w = gridWeights(lastK0, lastK1, grid)
            var ox = 0
            while ox < inside.lowerBound {
                rowSample(ox: ox, cr: cr, srcRow: srcRow, midRow: midRow, sw: sw, channels: channels, srcPlane: srcPlane,
                          midPlane: midPlane, last: last, sx1: sx1, grid: grid, lut: lut)
                ox &+= 1
            }
            while ox &+ 8 <= inside.upperBound {
                let x0 = UnsafeRawPointer(sx1 + ox).loadUnaligned(as: SIMD4<Double>.self) + cr4
                let x1 = UnsafeRawPointer(sx1 + (ox &+ 4)).loadUnaligned(as: SIMD4<Double>.self) + cr4
                let (i0, k0) = gridSplit(x0), (i1, k1) = gridSplit(x1)
                let first = i0[0]
                let ascending = allEqualFirst(i0 &- up0, i1 &- up1)
                guard ascending || allEqualFirst(i0 &+ up0, i1 &+ up1) else {
                    for i in ox..<(ox &+ 8) {
                        rowSample(ox: i, cr: cr, srcRow: srcRow, midRow: midRow, sw: sw, channels: channels,
                                  srcPlane: srcPlane, midPlane: midPlane, last: last, sx1: sx1, grid: grid, lut: lut)
                    }
                    ox &+= 8
                    continue
                }
                // The grid rows hardly change along a row when the scale is ~1: the weights of the last group
                // are used again when every lane's row is the same.
                if !allZero(k0 &- lastK0, k1 &- lastK1) {
                    w = gridWeights(k0, k1, grid)
                    (lastK0, lastK1) = (k0, k1)
                }
                let copy = onPixel(k0, k1)
                // Lane i's taps start at pixel first + i - 2 (ascending) or first - i - 2 (descending).
                let start = Int(truncatingIfNeeded: first) &- (ascending ? 2 : 9)
                for c in 0..<channels {
                    let taps = UnsafeRawPointer(srcRow + (c &* srcPlane &+ start))
                    var p0 = taps.loadUnaligned(as: SIMD8<Float>.self)
                    var p1 = taps.loadUnaligned(fromByteOffset: 4, as: SIMD8<Float>.self)
                    var p2 = taps.loadUnaligned(fromByteOffset: 8, as: SIMD8<Float>.self)
                    var p3 = taps.loadUnaligned(fromByteOffset: 12, as: SIMD8<Float>.self)
                    var p4 = taps.loadUnaligned(fromByteOffset: 16, as: SIMD8<Float>.self)
                    var p5 = taps.loadUnaligned(fromByteOffset: 20, as: SIMD8<Float>.self)
                    if !ascending {
                        (p0, p1, p2) = (reversed(p0), reversed(p1), reversed(p2))
                        (p3, p4, p5) = (reversed(p3), reversed(p4), reversed(p5))
                    }
                    let v = select(copy, p2, else: tapSum6(w, p0, p1, p2, p3, p4, p5))
                    let out = midRow + (c &* midPlane &+ ox)
                    UnsafeMutableRawPointer(out).storeBytes(of: v, as: SIMD8<Float>.self)
                    if !allFinite(v) {
                        for lane in 0..<8 where !v[lane].isFinite {
                            out[lane] = rowExact(sx1[ox &+ lane] + cr, srcRow + c &* srcPlane, sw: sw, lut: lut)
                        }
                    }
                }
                ox &+= 8
            }
            while ox < width {
                rowSample(ox: ox, cr: cr, srcRow: srcRow, midRow: midRow, sw: sw, channels: channels, srcPlane: srcPlane,
                          midPlane: midPlane, last: last, sx1: sx1, grid: grid, lut: lut)
                ox &+= 1
            }
        }
    }

    /// The columns `ox` of `within` (default: all of `0..<width`) where `test(ox)` holds, given that the
    /// columns where it holds form one interval (every condition of `test` bounds a value that is monotone
    /// in `ox`) close to where `slope * ox + offset` lies in `[from, below)`: that interval of the real
    /// line, shrunk by a column at each end against rounding, and kept only when `test` holds at both of
    /// its ends (then it holds between them); else empty (the callers' per-sample paths do the rest).
    @inline(__always)
    static func interiorSpan(width: Int, slope: Double, offset: Double, from lo: Double, below hi: Double,
                             within: Range<Int>? = nil, _ test: (Int) -> Bool) -> Range<Int> {
        let bounds = within ?? 0..<width
        var x0: Double, x1: Double
        if slope > 0 {
            x0 = (lo - offset) / slope
            x1 = (hi - offset) / slope
        } else if slope < 0 {
            x0 = (hi - offset) / slope
            x1 = (lo - offset) / slope
        } else if offset >= lo && offset < hi {
            x0 = -.infinity
            x1 = .infinity
        } else {
            return 0..<0
        }
        guard !x0.isNaN, !x1.isNaN else { return 0..<0 }
        let limit = Double(width) + 2
        x0 = min(max(x0, -2), limit)
        x1 = min(max(x1, -2), limit)
        let l = max(bounds.lowerBound, Int(x0.rounded(.up)) + 1)
        let r = min(bounds.upperBound, Int(x1.rounded(.down)))
        guard l < r, test(l), test(r - 1) else { return 0..<0 }
        return l..<r
    }

    /// One output column of pass 1 (every plane).
    @inline(__always)
    private static func rowSample(ox: Int, cr: Double, srcRow: UnsafePointer<Float>, midRow: UnsafeMutablePointer<Float>,
                                  sw: Int, channels: Int, srcPlane: Int, midPlane: Int, last: Double, sx1: UnsafePointer<Double>,
                                  grid: UnsafePointer<SIMD8<Float>>, lut: UnsafeBufferPointer<Double>) {
        let x = min(max(sx1[ox] + cr, 0), last)
        // x in [0, sw - 1] (NaN only from a non-finite transform: `rowExact` traps as before).
        let (i, k) = x.isNaN ? (0, 0) : gridSplit(x)
        if !x.isNaN, i >= 2, i <= sw &- 4 {
            let w = grid[k]
            for c in 0..<channels {
                let p = srcRow + (c &* srcPlane &+ i &- 2)
                let v = k == 0 ? p[2] : tapSum6(w[0], w[1], w[2], w[3], w[4], w[5], p[0], p[1], p[2], p[3], p[4], p[5])
                midRow[c &* midPlane &+ ox] = v.isFinite ? v : rowExact(x, srcRow + c &* srcPlane, sw: sw, lut: lut)
            }
        } else {
            for c in 0..<channels { midRow[c &* midPlane &+ ox] = rowExact(x, srcRow + c &* srcPlane, sw: sw, lut: lut) }
        }
    }

    /// A pass-1 sample at the exact position x in [0, sw - 1] of `row`: the pixel when x is an integer,
    /// else `tapSum` (Double weights, taps outside the row dropped) - borders and non-finite sums.
    @inline(never)
    private static func rowExact(_ x: Double, _ row: UnsafePointer<Float>, sw: Int, lut: UnsafeBufferPointer<Double>) -> Float {
        let (ix, fx) = x.isNaN ? (Int(x), 0) : floorSplit(x)
        let t = x - fx
        return t == 0 ? row[ix] : tapSum(row, first: ix &- 2, count: sw, frac: t, table: lut)
    }

    /// Pass 2: each output column's line sampled at y' (all planes), with `warp`'s coverage rule; eight
    /// columns at a time inside the output row's span of covered interior samples (`interiorSpan`: no
    /// coverage or bounds checks there), one at a time elsewhere.
    @inline(__always)
    private static func columnPass(mid: UnsafePointer<Float>, src: UnsafeBufferPointer<Float>, dst: UnsafeMutablePointer<Float>,
                                   cov: UnsafeMutablePointer<UInt8>, sw: Int, sh: Int, width: Int, height: Int,
                                   channels: Int, srcPlane: Int, midPlane: Int, dstPlane: Int, tx: Double, ty: Double,
                                   a: Double, b: Double, ax1: UnsafePointer<Double>, bx1: UnsafePointer<Double>, clamp: Bool,
                                   grid: UnsafePointer<SIMD8<Float>>, lut: UnsafeBufferPointer<Double>) {
        let eps = 1e-9, xMax = Double(sw - 1) + eps, yMax = Double(sh - 1) + eps
        let ty4 = SIMD4<Double>(repeating: ty)
        let w1 = 4 &* width, w2 = 8 &* width, w3 = 12 &* width, w4 = 16 &* width, w5 = 20 &* width  // bytes
        // Per 8-column group: the grid rows and weights it used last. Down a column y' steps by a (~1), so
        // the grid rows of the next output row are mostly the same: then the weights are used again.
        let groups = width / 8
        typealias Weights = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
        let noRow = SIMD4<Int64>(repeating: -1)
        let lastK = UnsafeMutablePointer<(SIMD4<Int64>, SIMD4<Int64>)>.allocate(capacity: max(groups, 1))
        lastK.initialize(repeating: (noRow, noRow), count: max(groups, 1))
        let lastW = UnsafeMutablePointer<Weights>.allocate(capacity: max(groups, 1))
        defer { lastK.deallocate(); lastW.deallocate() }
        for oy in 0..<height {
            let fy = Double(oy)
            let bfy = b * fy, afy = a * fy
            let afy4 = SIMD4<Double>(repeating: afy)
            let rowStart = oy &* width
            // The columns whose sample is covered and whose 6 taps from the grid index - 2 lie inside the
            // frame: x' = a x - b y + tx in [0, sw - 1], y' = b x + a y + ty in [2, sh - 4) roughly; one
            // interval, x' and y' being monotone in the column (checked exactly at its ends).
            let xSpan = interiorSpan(width: width, slope: a, offset: tx - bfy, from: 0, below: Double(sw - 1)) { _ in true }
            let span = clamp ? 0..<0 : interiorSpan(width: width, slope: b, offset: afy + ty, from: 2, below: Double(sh - 4),
                                                    within: xSpan) { ox in
                let sx = ax1[ox] - bfy + tx, sy = bx1[ox] + afy + ty
                guard sx >= -eps && sx <= xMax && sy >= -eps && sy <= yMax else { return false }
                let i = gridSplit(sy).index
                return i >= 2 && i <= sh &- 4
            }
            var ox = 0
            while ox < span.lowerBound {
                columnSample(ox: ox, bfy: bfy, afy: afy, rowStart: rowStart, mid: mid, src: src, dst: dst, cov: cov,
                             sw: sw, sh: sh, width: width, channels: channels, srcPlane: srcPlane, midPlane: midPlane,
                             dstPlane: dstPlane, tx: tx, ty: ty, ax1: ax1, bx1: bx1, clamp: clamp, grid: grid, lut: lut)
                ox &+= 1
            }
            while ox &+ 8 <= span.upperBound {
                let bx0 = UnsafeRawPointer(bx1 + ox).loadUnaligned(as: SIMD4<Double>.self)
                let bx4 = UnsafeRawPointer(bx1 + (ox &+ 4)).loadUnaligned(as: SIMD4<Double>.self)
                let sy0: SIMD4<Double> = (bx0 + afy4) + ty4, sy1: SIMD4<Double> = (bx4 + afy4) + ty4
                let (i0, k0) = gridSplit(sy0), (i1, k1) = gridSplit(sy1)
                // The group's slot: columns ox..<ox + 8 start at a multiple of 8 only when the span does;
                // any slot would do (a cached row set is only used when every lane's row matches).
                let g = ox &>> 3
                let w: Weights
                if allZero(k0 &- lastK[g].0, k1 &- lastK[g].1) {
                    w = lastW[g]
                } else {
                    w = gridWeights(k0, k1, grid)
                    lastK[g] = (k0, k1)
                    lastW[g] = w
                }
                let copy = onPixel(k0, k1)
                let first = i0[0]
                // y' is monotone in the column (each step one rounded product or sum), so is the grid index.
                let sameRow = first == i1[3]
                let pixel = rowStart &+ ox
                let rowOffset = (Int(truncatingIfNeeded: first) &- 2) &* width &+ ox
                // Plane c of the group (its taps from one row range, or gathered lane by lane).
                @inline(__always) func sample(_ c: Int) -> SIMD8<Float> {
                    let plane = mid + c &* midPlane
                    let p0, p1, p2, p3, p4, p5: SIMD8<Float>
                    if sameRow {
                        let p = UnsafeRawPointer(plane + rowOffset)
                        p0 = p.loadUnaligned(as: SIMD8<Float>.self)
                        p1 = p.loadUnaligned(fromByteOffset: w1, as: SIMD8<Float>.self)
                        p2 = p.loadUnaligned(fromByteOffset: w2, as: SIMD8<Float>.self)
                        p3 = p.loadUnaligned(fromByteOffset: w3, as: SIMD8<Float>.self)
                        p4 = p.loadUnaligned(fromByteOffset: w4, as: SIMD8<Float>.self)
                        p5 = p.loadUnaligned(fromByteOffset: w5, as: SIMD8<Float>.self)
                    } else {
                        (p0, p1, p2, p3, p4, p5) = gatherColumns(plane, rows: (i0, i1), ox: ox, width: width)
                    }
                    return select(copy, p2, else: tapSum6(w, p0, p1, p2, p3, p4, p5))
                }
                var valid = true
                if channels == 1 {
                    // Mono: no plane loop (whose hoisted row addresses would be set up again for every group).
                    let v = sample(0)
                    valid = allFinite(v)
                    if valid { UnsafeMutableRawPointer(dst + pixel).storeBytes(of: v, as: SIMD8<Float>.self) }
                } else {
                    for c in 0..<channels {
                        let v = sample(c)
                        if !allFinite(v) { valid = false; break }
                        UnsafeMutableRawPointer(dst + (c &* dstPlane &+ pixel)).storeBytes(of: v, as: SIMD8<Float>.self)
                    }
                }
                if valid {
                    UnsafeMutableRawPointer(cov + pixel).storeBytes(of: 0x0101_0101_0101_0101 as UInt64, as: UInt64.self)
                } else {
                    for i in ox..<(ox &+ 8) {
                        columnSample(ox: i, bfy: bfy, afy: afy, rowStart: rowStart, mid: mid, src: src, dst: dst, cov: cov,
                                     sw: sw, sh: sh, width: width, channels: channels, srcPlane: srcPlane, midPlane: midPlane,
                                     dstPlane: dstPlane, tx: tx, ty: ty, ax1: ax1, bx1: bx1, clamp: clamp, grid: grid, lut: lut)
                    }
                }
                ox &+= 8
            }
            while ox < width {
                columnSample(ox: ox, bfy: bfy, afy: afy, rowStart: rowStart, mid: mid, src: src, dst: dst, cov: cov,
                             sw: sw, sh: sh, width: width, channels: channels, srcPlane: srcPlane, midPlane: midPlane,
                             dstPlane: dstPlane, tx: tx, ty: ty, ax1: ax1, bx1: bx1, clamp: clamp, grid: grid, lut: lut)
                ox &+= 1
            }
        }
    }

    /// The 6 taps of eight adjacent columns whose grid indices differ (lane i: column ox + i from row
    /// index i - 2 on). Out of line: inlined, its addresses would be set up for every group.
    @inline(never)
    private static func gatherColumns(_ plane: UnsafePointer<Float>, rows: (SIMD4<Int64>, SIMD4<Int64>), ox: Int, width: Int)
        -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        var q = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
        for lane in 0..<8 {
            let r = Int(truncatingIfNeeded: lane < 4 ? rows.0[lane] : rows.1[lane &- 4])
            let p = plane + ((r &- 2) &* width &+ ox &+ lane)
            q.0[lane] = p[0]
            q.1[lane] = p[width]
            q.2[lane] = p[2 &* width]
            q.3[lane] = p[3 &* width]
            q.4[lane] = p[4 &* width]
            q.5[lane] = p[5 &* width]
        }
        return q
    }

    /// One output pixel of pass 2 (every plane).
    @inline(__always)
    private static func columnSample(ox: Int, bfy: Double, afy: Double, rowStart: Int, mid: UnsafePointer<Float>,
                                     src: UnsafeBufferPointer<Float>, dst: UnsafeMutablePointer<Float>,
                                     cov: UnsafeMutablePointer<UInt8>, sw: Int, sh: Int, width: Int, channels: Int,
                                     srcPlane: Int, midPlane: Int, dstPlane: Int, tx: Double, ty: Double,
                                     ax1: UnsafePointer<Double>, bx1: UnsafePointer<Double>, clamp: Bool,
                                     grid: UnsafePointer<SIMD8<Float>>, lut: UnsafeBufferPointer<Double>) {
        let eps = 1e-9
        let sx = ax1[ox] - bfy + tx
        let sy = bx1[ox] + afy + ty
        let pixel = rowStart &+ ox
        guard sx >= -eps && sx <= Double(sw - 1) + eps && sy >= -eps && sy <= Double(sh - 1) + eps else {  // `covers`
            for c in 0..<channels { dst[c &* dstPlane &+ pixel] = .nan }
            cov[pixel] = 0
            return
        }
        let (i, k) = gridSplit(sy)  // sy in [-1e-9, sh - 1 + 1e-9]
        if !clamp, i >= 2, i <= sh &- 4 {
            // Interior: the 6 taps on the grid.
            let w = grid[k]
            let w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5]
            var valid = true
            var p = mid + ((i &- 2) &* width &+ ox)
            var d = dst + pixel
            for _ in 0..<channels {
                let v = k == 0 ? p[2 &* width]
                    : tapSum6(w0, w1, w2, w3, w4, w5, p[0], p[width], p[2 &* width], p[3 &* width], p[4 &* width], p[5 &* width])
                if !v.isFinite { valid = false; break }
                d.pointee = v
                p += midPlane
                d += dstPlane
            }
            if valid { cov[pixel] = 1; return }
        }
        let (iy, floorY) = floorSplit(sy)
        exactColumnSample(mid: mid, src: src, dst: dst, cov: cov, pixel: pixel, ox: ox, sx: sx, iy: iy, y0: iy &- 2,
                          t: sy - floorY, sw: sw, sh: sh, width: width, channels: channels, srcPlane: srcPlane,
                          midPlane: midPlane, dstPlane: dstPlane, clamp: clamp, lut: lut)
    }

    /// One output pixel of pass 2 through the Double weights, dropping taps outside the frame and
    /// renormalizing, with the ringing clamp (borders, integer offsets, clamp, non-finite fast sums).
    @inline(never)
    private static func exactColumnSample(mid: UnsafePointer<Float>, src: UnsafeBufferPointer<Float>,
                                          dst: UnsafeMutablePointer<Float>, cov: UnsafeMutablePointer<UInt8>, pixel: Int,
                                          ox: Int, sx: Double, iy: Int, y0: Int, t: Double, sw: Int, sh: Int, width: Int,
                                          channels: Int, srcPlane: Int, midPlane: Int, dstPlane: Int, clamp: Bool,
                                          lut: UnsafeBufferPointer<Double>) {
        var wy = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        let k = withUnsafeMutableBytes(of: &wy) { raw in
            weights(frac: t, first: y0, count: sh, radius: 3, table: lut, into: raw.bindMemory(to: Double.self))
        }
        let norm = 1 / k.sum
        var valid = true
        withUnsafeBytes(of: &wy) { raw in
            let wy = raw.bindMemory(to: Double.self)
            for c in 0..<channels {
                let column = mid + (c &* midPlane &+ ox)
                var acc = 0.0
                for j in k.lo..<k.hi { acc += wy[j] * Double(column[(y0 + j) * width]) }
                var v = acc * norm
                if !v.isFinite { valid = false; break }
                if clamp {
                    v = clampToNeighbours(v, src: src, base: c * srcPlane, ix: floorIndex(sx), iy: iy, sw: sw, sh: sh)
                }
                dst[c * dstPlane + pixel] = Float(v)
            }
        }
        if valid {
            cov[pixel] = 1
        } else {
            for c in 0..<channels { dst[c * dstPlane + pixel] = .nan }
            cov[pixel] = 0
        }
    }

    /// A 6-tap row sum at fractional offset `t` past tap 2 of `row[first...]`, dropping taps outside
    /// [0, count) and those of weight 0 and renormalizing (the exact path of pass 1); NaN when a tap
    /// of non-zero weight is NaN or no tap is left.
    @inline(never)
    static func tapSum(_ row: UnsafePointer<Float>, first: Int, count: Int, frac t: Double,
                       table: UnsafeBufferPointer<Double>) -> Float {
        var w = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        let k = withUnsafeMutableBytes(of: &w) { raw in
            weights(frac: t, first: first, count: count, radius: 3, table: table,
                    into: raw.bindMemory(to: Double.self))
        }
        guard k.sum != 0 else { return .nan }
        return withUnsafeBytes(of: &w) { raw in
            let wp = raw.bindMemory(to: Double.self)
            var acc = 0.0
            for j in k.lo..<k.hi { acc += wp[j] * Double(row[first + j]) }
            return Float(acc / k.sum)
        }
    }
}
