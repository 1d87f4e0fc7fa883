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
/// Borders follow `warp`'s rules: coverage from (x', y') inside the source's pixel-centre rectangle;
/// taps outside the source dropped and the rest renormalized (per pass); a NaN under a tap of non-zero
/// weight makes the output NaN with coverage 0; integer offsets copy pixels exactly. Where a column's
/// line leaves the frame within 3 rows of a covered sample (a band of width 3 |b / a| px at the left
/// and right borders), pass 1 samples the border column.
extension WarpKernel {
    /// The two-pass warp, or nil when it does not apply (|a| < 0.5: rotations near +-90 degrees, where
    /// the row step s would blow up; `warp` then uses the direct 2-D kernel).
    ///
    /// Every output value is the same expression, in the same order, as the per-pixel definition above;
    /// what is shared is only what does not change its bits: `s x`, `a x` and `b x` per output column and
    /// `b y`, `a y` per output row are computed once (each is one product, the same one), the tap
    /// weights of a sample once for all planes, and the interpolation steps of the weight table once
    /// (`lanczosSteps8`, the same Float differences).
    static func twoPass(_ image: Image, a: Double, b: Double, tx: Double, ty: Double, width: Int, height: Int,
                        clamp: Bool) -> WarpResult? {
        guard abs(a) >= 0.5 else { return nil }
        let sw = image.width, sh = image.height, channels = image.channels
        let srcPlane = image.planeSize, dstPlane = width * height, midPlane = width * sh
        let s = a + b * b / a
        // Pass 1 writes every value of `mid`.
        var mid = [Float](unsafeUninitializedCapacity: midPlane * channels) { _, n in n = midPlane * channels }
        var out = [Float](repeating: .nan, count: dstPlane * channels)
        var coverage = [UInt8](repeating: 0, count: dstPlane)
        let sx1 = (0..<width).map { s * Double($0) }
        let ax1 = (0..<width).map { a * Double($0) }, bx1 = (0..<width).map { b * Double($0) }
        let lut8 = lanczosTable8, steps8 = lanczosSteps8, table = lanczosTable
        image.pixels.withUnsafeBufferPointer { src in
        mid.withUnsafeMutableBufferPointer { mid in
        out.withUnsafeMutableBufferPointer { dst in
        coverage.withUnsafeMutableBufferPointer { cov in
        lut8.withUnsafeBufferPointer { lut8 in
        steps8.withUnsafeBufferPointer { steps8 in
        table.withUnsafeBufferPointer { lut in
        sx1.withUnsafeBufferPointer { sx1 in
        ax1.withUnsafeBufferPointer { ax1 in
        bx1.withUnsafeBufferPointer { bx1 in
            rowPass(src: src.baseAddress!, mid: mid.baseAddress!, sw: sw, sh: sh, width: width, channels: channels,
                    srcPlane: srcPlane, midPlane: midPlane, a: a, b: b, tx: tx, ty: ty, sx1: sx1.baseAddress!,
                    lut8: lut8, steps8: steps8, lut: lut)
            columnPass(mid: UnsafePointer(mid.baseAddress!), src: src, dst: dst.baseAddress!, cov: cov.baseAddress!,
                       sw: sw, sh: sh, width: width, height: height, channels: channels, srcPlane: srcPlane,
                       midPlane: midPlane, dstPlane: dstPlane, tx: tx, ty: ty, a: a, b: b, ax1: ax1.baseAddress!,
                       bx1: bx1.baseAddress!, clamp: clamp, lut8: lut8, steps8: steps8, lut: lut)
        }
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
    /// four columns at a time inside the row's interior span (`interiorSpan`: no bounds checks or clamps
    /// there), one at a time elsewhere and for integer offsets.
    @inline(__always)
    private static func rowPass(src: UnsafePointer<Float>, mid: UnsafeMutablePointer<Float>, sw: Int, sh: Int, width: Int,
                                channels: Int, srcPlane: Int, midPlane: Int, a: Double, b: Double, tx: Double, ty: Double,
                                sx1: UnsafePointer<Double>, lut8: UnsafeBufferPointer<SIMD8<Float>>,
                                steps8: UnsafeBufferPointer<SIMD8<Float>>, lut: UnsafeBufferPointer<Double>) {
        let last = Double(sw - 1)
        let s = a + b * b / a  // the step of `sx1` (only for the interior span's estimate)
        let zero2 = SIMD2<Double>(repeating: 0)
        let steps2 = SIMD2<Double>(repeating: Double(lutSteps))
        for r in 0..<sh {
            let cr = tx + (ty - Double(r)) * b / a
            let cr2 = SIMD2<Double>(repeating: cr)
            let srcRow = src + r &* sw, midRow = mid + r &* width
            // The columns whose 8 taps from ix - 2 lie inside the row: x = s x + c_r in [2, sw - 5) (so the
            // clamp to [0, sw - 1] is the identity there); one interval, x being monotone in the column.
            let inside = interiorSpan(width: width, slope: s, offset: cr, from: 2, below: Double(sw - 5)) { ox in
                let x = sx1[ox] + cr
                return x >= 2 && floorSplit(x).index <= sw &- 6
            }
            var ox = 0
            while ox < inside.lowerBound {
                rowSample(ox: ox, cr: cr, srcRow: srcRow, midRow: midRow, sw: sw, channels: channels, srcPlane: srcPlane,
                          midPlane: midPlane, last: last, sx1: sx1, lut8: lut8, steps8: steps8, lut: lut)
                ox &+= 1
            }
            while ox &+ 4 <= inside.upperBound {
                // x = s x + c_r per lane, inside [2, sw - 5): its clamp to [0, sw - 1] changes nothing.
                let xl = UnsafeRawPointer(sx1 + ox).loadUnaligned(as: SIMD2<Double>.self) + cr2
                let xh = UnsafeRawPointer(sx1 + (ox &+ 2)).loadUnaligned(as: SIMD2<Double>.self) + cr2
                let fl = floorSplit(xl), fh = floorSplit(xh)
                let tl = xl - fl.value, th = xh - fh.value
                let x0l = fl.index &- 2, x0h = fh.index &- 2
                // Integer offsets (t == 0) copy the pixel: one sample at a time.
                guard all((tl .!= zero2) .& (th .!= zero2)) else {
                    for i in ox..<(ox &+ 4) { rowSample(ox: i, cr: cr, srcRow: srcRow, midRow: midRow, sw: sw, channels: channels,
                                                        srcPlane: srcPlane, midPlane: midPlane, last: last, sx1: sx1,
                                                        lut8: lut8, steps8: steps8, lut: lut) }
                    ox &+= 4
                    continue
                }
                // t in (0, 1) exactly (x >= 0), so pos < lutSteps and k < lutSteps.
                let pl = tl * steps2, ph = th * steps2
                let kl = floorSplit(pl), kh = floorSplit(ph)
                let f = floats(pl - kl.value, ph - kh.value)
                let (w0, w1, w2, w3) = weights8x4((Int(truncatingIfNeeded: kl.index.x), Int(truncatingIfNeeded: kl.index.y),
                                                   Int(truncatingIfNeeded: kh.index.x), Int(truncatingIfNeeded: kh.index.y)),
                                                  f, lut8, steps8)
                let i0 = Int(truncatingIfNeeded: x0l.x), i1 = Int(truncatingIfNeeded: x0l.y)
                let i2 = Int(truncatingIfNeeded: x0h.x), i3 = Int(truncatingIfNeeded: x0h.y)
                for c in 0..<channels {
                    let row = srcRow + c &* srcPlane
                    // Each lane: h8 = w * p; h4 = h8.low + h8.high; v = (h4[0] + h4[2]) + (h4[1] + h4[3]).
                    let h0 = w0 * UnsafeRawPointer(row + i0).loadUnaligned(as: SIMD8<Float>.self)
                    let h1 = w1 * UnsafeRawPointer(row + i1).loadUnaligned(as: SIMD8<Float>.self)
                    let h2 = w2 * UnsafeRawPointer(row + i2).loadUnaligned(as: SIMD8<Float>.self)
                    let h3 = w3 * UnsafeRawPointer(row + i3).loadUnaligned(as: SIMD8<Float>.self)
                    let (q0, q1, q2, q3) = transpose(h0.lowHalf + h0.highHalf, h1.lowHalf + h1.highHalf,
                                                     h2.lowHalf + h2.highHalf, h3.lowHalf + h3.highHalf)
                    let v = (q0 + q2) + (q1 + q3)
                    let out = midRow + (c &* midPlane &+ ox)
                    UnsafeMutableRawPointer(out).storeBytes(of: v, as: SIMD4<Float>.self)
                    if !allFinite(v) {
                        let t = SIMD4<Double>(lowHalf: tl, highHalf: th), x0 = (i0, i1, i2, i3)
                        for lane in 0..<4 where !v[lane].isFinite {
                            let first = lane == 0 ? x0.0 : lane == 1 ? x0.1 : lane == 2 ? x0.2 : x0.3
                            out[lane] = tapSum(row, first: first, count: sw, frac: t[lane], table: lut)
                        }
                    }
                }
                ox &+= 4
            }
            while ox < width {
                rowSample(ox: ox, cr: cr, srcRow: srcRow, midRow: midRow, sw: sw, channels: channels, srcPlane: srcPlane,
                          midPlane: midPlane, last: last, sx1: sx1, lut8: lut8, steps8: steps8, lut: lut)
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
                                  lut8: UnsafeBufferPointer<SIMD8<Float>>, steps8: UnsafeBufferPointer<SIMD8<Float>>,
                                  lut: UnsafeBufferPointer<Double>) {
        let x = min(max(sx1[ox] + cr, 0), last)
        // x in [0, sw - 1] (NaN only from a non-finite transform: `Int` traps as before).
        let (ix, fx) = x.isNaN ? (Int(x), 0) : floorSplit(x)
        let t = x - fx
        if t == 0 {
            for c in 0..<channels { midRow[c &* midPlane &+ ox] = srcRow[c &* srcPlane &+ ix] }
            return
        }
        let x0 = ix &- 2
        if x0 >= 0, x0 &+ 8 <= sw {
            let w = weights8(frac: t, lut8, steps8)
            for c in 0..<channels {
                let row = srcRow + c &* srcPlane
                let h8 = w * UnsafeRawPointer(row + x0).loadUnaligned(as: SIMD8<Float>.self)
                let h4 = h8.lowHalf + h8.highHalf, h2 = h4.lowHalf + h4.highHalf
                let v = h2.x + h2.y
                midRow[c &* midPlane &+ ox] = v.isFinite ? v : tapSum(row, first: x0, count: sw, frac: t, table: lut)
            }
        } else {
            for c in 0..<channels {
                midRow[c &* midPlane &+ ox] = tapSum(srcRow + c &* srcPlane, first: x0, count: sw, frac: t, table: lut)
            }
        }
    }

    /// Pass 2: each output column's line sampled at y' (all planes), with `warp`'s coverage rule; four
    /// columns at a time inside the output row's span of covered interior samples (`interiorSpan`: no
    /// coverage or bounds checks there), one at a time elsewhere and for integer offsets.
    @inline(__always)
    private static func columnPass(mid: UnsafePointer<Float>, src: UnsafeBufferPointer<Float>, dst: UnsafeMutablePointer<Float>,
                                   cov: UnsafeMutablePointer<UInt8>, sw: Int, sh: Int, width: Int, height: Int,
                                   channels: Int, srcPlane: Int, midPlane: Int, dstPlane: Int, tx: Double, ty: Double,
                                   a: Double, b: Double, ax1: UnsafePointer<Double>, bx1: UnsafePointer<Double>, clamp: Bool,
                                   lut8: UnsafeBufferPointer<SIMD8<Float>>, steps8: UnsafeBufferPointer<SIMD8<Float>>,
                                   lut: UnsafeBufferPointer<Double>) {
        let eps = 1e-9, xMax = Double(sw - 1) + eps, yMax = Double(sh - 1) + eps
        let zero2 = SIMD2<Double>(repeating: 0), steps2 = SIMD2<Double>(repeating: Double(lutSteps))
        let ty2 = SIMD2<Double>(repeating: ty)
        let w1 = width, w2 = 2 &* width, w3 = 3 &* width, w4 = 4 &* width, w5 = 5 &* width
        for oy in 0..<height {
            let fy = Double(oy)
            let bfy = b * fy, afy = a * fy
            let afy2 = SIMD2<Double>(repeating: afy)
            let rowStart = oy &* width
            // The columns whose sample is covered and whose 6 taps from iy - 2 lie inside the frame:
            // x' = a x - b y + tx in [0, sw - 1] and y' = b x + a y + ty in [2, sh - 3); one interval,
            // x' and y' being monotone in the column (checked exactly at its ends).
            let xSpan = interiorSpan(width: width, slope: a, offset: tx - bfy, from: 0, below: Double(sw - 1)) { _ in true }
            let span = clamp ? 0..<0 : interiorSpan(width: width, slope: b, offset: afy + ty, from: 2, below: Double(sh - 3),
                                                    within: xSpan) { ox in
                let sx = ax1[ox] - bfy + tx, sy = bx1[ox] + afy + ty
                guard sx >= -eps && sx <= xMax && sy >= -eps && sy <= yMax else { return false }
                let y0 = floorSplit(sy).index &- 2
                return y0 >= 0 && y0 <= sh &- 6
            }
            var ox = 0
            while ox < span.lowerBound {
                columnSample(ox: ox, bfy: bfy, afy: afy, rowStart: rowStart, mid: mid, src: src, dst: dst, cov: cov,
                             sw: sw, sh: sh, width: width, channels: channels, srcPlane: srcPlane, midPlane: midPlane,
                             dstPlane: dstPlane, tx: tx, ty: ty, ax1: ax1, bx1: bx1, clamp: clamp, lut8: lut8,
                             steps8: steps8, lut: lut)
                ox &+= 1
            }
            while ox &+ 4 <= span.upperBound {
                let bxl = UnsafeRawPointer(bx1 + ox).loadUnaligned(as: SIMD2<Double>.self)
                let bxh = UnsafeRawPointer(bx1 + (ox &+ 2)).loadUnaligned(as: SIMD2<Double>.self)
                let syl: SIMD2<Double> = (bxl + afy2) + ty2, syh: SIMD2<Double> = (bxh + afy2) + ty2
                let fl = floorSplit(syl), fh = floorSplit(syh)
                let tl = syl - fl.value, th = syh - fh.value
                let y0l = fl.index &- 2, y0h = fh.index &- 2
                // Covered, taps inside (the span); integer offsets (t == 0) one sample at a time.
                guard all((tl .!= zero2) .& (th .!= zero2)) else {
                    for i in ox..<(ox &+ 4) {
                        columnSample(ox: i, bfy: bfy, afy: afy, rowStart: rowStart, mid: mid, src: src, dst: dst, cov: cov,
                                     sw: sw, sh: sh, width: width, channels: channels, srcPlane: srcPlane, midPlane: midPlane,
                                     dstPlane: dstPlane, tx: tx, ty: ty, ax1: ax1, bx1: bx1, clamp: clamp, lut8: lut8,
                                     steps8: steps8, lut: lut)
                    }
                    ox &+= 4
                    continue
                }
                // y' >= 2 here, so t in (0, 1) exactly and k < lutSteps.
                let pl = tl * steps2, ph = th * steps2
                let kl = floorSplit(pl), kh = floorSplit(ph)
                let f = floats(pl - kl.value, ph - kh.value)
                let (wa, wb, wc, wd) = weights8x4((Int(truncatingIfNeeded: kl.index.x), Int(truncatingIfNeeded: kl.index.y),
                                                   Int(truncatingIfNeeded: kh.index.x), Int(truncatingIfNeeded: kh.index.y)),
                                                  f, lut8, steps8)
                let (v0, v1, v2, v3) = transpose(wa.lowHalf, wb.lowHalf, wc.lowHalf, wd.lowHalf)
                let v4 = SIMD4<Float>(wa[4], wb[4], wc[4], wd[4]), v5 = SIMD4<Float>(wa[5], wb[5], wc[5], wd[5])
                let pixel = rowStart &+ ox
                let r0 = Int(truncatingIfNeeded: y0l.x), r1 = Int(truncatingIfNeeded: y0l.y)
                let r2 = Int(truncatingIfNeeded: y0h.x), r3 = Int(truncatingIfNeeded: y0h.y)
                let sameRow = r0 == r1 && r1 == r2 && r2 == r3
                var valid = true
                for c in 0..<channels {
                    let plane = mid + c &* midPlane
                    let p0, p1, p2, p3, p4, p5: SIMD4<Float>
                    if sameRow {
                        let p = UnsafeRawPointer(plane + (r0 &* width &+ ox))
                        p0 = p.loadUnaligned(as: SIMD4<Float>.self)
                        p1 = p.loadUnaligned(fromByteOffset: 4 &* w1, as: SIMD4<Float>.self)
                        p2 = p.loadUnaligned(fromByteOffset: 4 &* w2, as: SIMD4<Float>.self)
                        p3 = p.loadUnaligned(fromByteOffset: 4 &* w3, as: SIMD4<Float>.self)
                        p4 = p.loadUnaligned(fromByteOffset: 4 &* w4, as: SIMD4<Float>.self)
                        p5 = p.loadUnaligned(fromByteOffset: 4 &* w5, as: SIMD4<Float>.self)
                    } else {
                        (p0, p1, p2, p3, p4, p5) = gatherColumns(plane, rows: (r0, r1, r2, r3), ox: ox, width: width)
                    }
                    let v01: SIMD4<Float> = v0 * p0 + v1 * p1
                    let v23: SIMD4<Float> = v2 * p2 + v3 * p3
                    let v45: SIMD4<Float> = v4 * p4 + v5 * p5
                    let v: SIMD4<Float> = v01 + v23 + v45
                    if !allFinite(v) { valid = false; break }
                    UnsafeMutableRawPointer(dst + (c &* dstPlane &+ pixel)).storeBytes(of: v, as: SIMD4<Float>.self)
                }
                if valid {
                    UnsafeMutableRawPointer(cov + pixel).storeBytes(of: 0x0101_0101 as UInt32, as: UInt32.self)
                } else {
                    for i in ox..<(ox &+ 4) {
                        columnSample(ox: i, bfy: bfy, afy: afy, rowStart: rowStart, mid: mid, src: src, dst: dst, cov: cov,
                                     sw: sw, sh: sh, width: width, channels: channels, srcPlane: srcPlane, midPlane: midPlane,
                                     dstPlane: dstPlane, tx: tx, ty: ty, ax1: ax1, bx1: bx1, clamp: clamp, lut8: lut8,
                                     steps8: steps8, lut: lut)
                    }
                }
                ox &+= 4
            }
            while ox < width {
                columnSample(ox: ox, bfy: bfy, afy: afy, rowStart: rowStart, mid: mid, src: src, dst: dst, cov: cov,
                             sw: sw, sh: sh, width: width, channels: channels, srcPlane: srcPlane, midPlane: midPlane,
                             dstPlane: dstPlane, tx: tx, ty: ty, ax1: ax1, bx1: bx1, clamp: clamp, lut8: lut8,
                             steps8: steps8, lut: lut)
                ox &+= 1
            }
        }
    }

    /// The 6 taps of four adjacent columns whose first tap rows differ (lane i: column ox + i from row
    /// rows.i on). Out of line: inlined, its addresses would be set up for every group.
    @inline(never)
    private static func gatherColumns(_ plane: UnsafePointer<Float>, rows: (Int, Int, Int, Int), ox: Int, width: Int)
        -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
        let q0 = plane + (rows.0 &* width &+ ox), q1 = plane + (rows.1 &* width &+ ox &+ 1)
        let q2 = plane + (rows.2 &* width &+ ox &+ 2), q3 = plane + (rows.3 &* width &+ ox &+ 3)
        let w2 = 2 &* width, w3 = 3 &* width, w4 = 4 &* width, w5 = 5 &* width
        return (SIMD4(q0[0], q1[0], q2[0], q3[0]), SIMD4(q0[width], q1[width], q2[width], q3[width]),
                SIMD4(q0[w2], q1[w2], q2[w2], q3[w2]), SIMD4(q0[w3], q1[w3], q2[w3], q3[w3]),
                SIMD4(q0[w4], q1[w4], q2[w4], q3[w4]), SIMD4(q0[w5], q1[w5], q2[w5], q3[w5]))
    }

    /// One output pixel of pass 2 (every plane).
    @inline(__always)
    private static func columnSample(ox: Int, bfy: Double, afy: Double, rowStart: Int, mid: UnsafePointer<Float>,
                                     src: UnsafeBufferPointer<Float>, dst: UnsafeMutablePointer<Float>,
                                     cov: UnsafeMutablePointer<UInt8>, sw: Int, sh: Int, width: Int, channels: Int,
                                     srcPlane: Int, midPlane: Int, dstPlane: Int, tx: Double, ty: Double,
                                     ax1: UnsafePointer<Double>, bx1: UnsafePointer<Double>, clamp: Bool,
                                     lut8: UnsafeBufferPointer<SIMD8<Float>>, steps8: UnsafeBufferPointer<SIMD8<Float>>,
                                     lut: UnsafeBufferPointer<Double>) {
        let eps = 1e-9
        let sx = ax1[ox] - bfy + tx
        let sy = bx1[ox] + afy + ty
        guard sx >= -eps && sx <= Double(sw - 1) + eps && sy >= -eps && sy <= Double(sh - 1) + eps else { return }  // `covers`
        let (iy, floorY) = floorSplit(sy)  // sy in [-1e-9, sh - 1 + 1e-9]
        let y0 = iy &- 2
        let t = sy - floorY
        let pixel = rowStart &+ ox
        if t != 0, y0 >= 0, y0 &+ 6 <= sh, !clamp {
            // Interior: the 6 taps with the pre-normalized single-precision weights.
            let w = weights8(frac: t, lut8, steps8)
            let w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5]
            var valid = true
            var p = mid + (y0 &* width &+ ox)
            var d = dst + pixel
            for _ in 0..<channels {
                let v01: Float = w0 * p[0] + w1 * p[width]
                let v23: Float = w2 * p[2 &* width] + w3 * p[3 &* width]
                let v45: Float = w4 * p[4 &* width] + w5 * p[5 &* width]
                let v = v01 + v23 + v45
                if !v.isFinite { valid = false; break }
                d.pointee = v
                p += midPlane
                d += dstPlane
            }
            if valid { cov[pixel] = 1; return }
        }
        exactColumnSample(mid: mid, src: src, dst: dst, cov: cov, pixel: pixel, ox: ox, sx: sx, iy: iy, y0: y0, t: t,
                          sw: sw, sh: sh, width: width, channels: channels, srcPlane: srcPlane, midPlane: midPlane,
                          dstPlane: dstPlane, clamp: clamp, lut: lut)
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
