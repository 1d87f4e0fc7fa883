/// The two passes over a stamp that the Gaussian PSF fit's solver (`LevenbergMarquardt.minimizeSplit`)
/// needs, vectorized: eight pixels per step in Float32 (one AVX register on the release target, two SSE
/// registers on baseline x86-64).
///
/// Parameters are those of the fit, in image coordinates: `p = [background, amplitude, x0, y0, a, b, c]`
/// for `background + amplitude * exp(-Q/2)`, `Q = a dx^2 + 2 b dx dy + c dy^2`.
///
/// - `cost` is the sum of squared residuals: each residual in Float32 (`FastMath.expNegative` on
///   `SIMD8<Float>`, values relative to the stamp's sky offset, so a residual is formed near the noise
///   level: its rounding error is ~6e-8 of the star's peak), squared and summed per lane in Float with
///   Kahan compensation, the lanes in Double. It decides
///   the accept/reject and convergence tests; its relative error (~1e-7 or less) is far below the
///   solver's relative cost tolerance (1e-5). It keeps each pixel's `g` and `r` in the stamp.
/// - `normal` forms `J^T J` and `J^T r` in Float32 at the point of the last `cost` pass, from the `g`
///   and `r` that pass kept (the solver forms the normal equations only at an accepted trial point,
///   whose cost it has just evaluated; at any other point `normal` runs the cost pass first), and
///   combines the lanes in Double. It only steers the steps: the solver converges where the Float
///   gradient vanishes, next to the Double optimum (measured on 200 noisy stars: FWHM, centre and flux
///   within 6e-6, relative or px, of the all-Double fit, whose errors against truth are ~1e-2;
///   `PSFVectorFitTests`).
///
/// Both passes read the lanes of a pixel group in a fixed order and add the lane sums in a fixed order,
/// so results are deterministic and independent of threads.
struct PSFGaussianPasses {
    let stamp: PSFStamp

    /// Eight pixels per step: one AVX register on the release target.
    typealias V = SIMD8<Float>

    /// The Float lanes of the parameters (relative to the stamp), as both passes use them.
    @inline(__always)
    private func lanes(_ p: UnsafeBufferPointer<Double>) -> (bg: V, amp: V, px: V, py: V, a: V, b: V, c: V) {
        let s = stamp
        return (V(repeating: Float(p[0] - s.offset)), V(repeating: Float(p[1])),
                V(repeating: Float(p[2] - Double(s.cx))), V(repeating: Float(p[3] - Double(s.cy))),
                V(repeating: Float(-0.5 * p[4])), V(repeating: Float(-p[5])), V(repeating: Float(-0.5 * p[6])))
    }

    /// `sum_i (background + amplitude * g_i - value_i)^2`; keeps `g_i` and the residuals in the stamp.
    func cost(_ p: UnsafeBufferPointer<Double>) -> Double {
        let s = stamp
        let (bg, amp, px, py, a, b, c) = lanes(p)
        // Kahan-compensated Float sums per lane (error ~1e-7 of the cost whatever the pixel count), so the
        // loop stays in eight-lane registers (a Double accumulator splits it into 4-lane halves).
        var sum = V.zero, lost = V.zero
        var k = 0
        while k < s.floatCount {
            let x = UnsafeRawPointer(s.xf + k).loadUnaligned(as: V.self)
            let y = UnsafeRawPointer(s.yf + k).loadUnaligned(as: V.self)
            let v = UnsafeRawPointer(s.vf + k).loadUnaligned(as: V.self)
            let w = UnsafeRawPointer(s.wf + k).loadUnaligned(as: V.self)
            let dx = x - px, dy = y - py
            let xx = dx * dx, xy = dx * dy, yy = dy * dy
            let g = FastMath.expNegative(a * xx + b * xy + c * yy)
            let r = (bg + amp * g - v) * w
            UnsafeMutableRawPointer(s.gf + k).storeBytes(of: g, as: V.self)
            UnsafeMutableRawPointer(s.rf + k).storeBytes(of: r, as: V.self)
            let term = r * r - lost
            let next = sum + term
            lost = (next - sum) - term
            sum = next
            k += 8
        }
        for j in 0..<7 { s.at[j] = p[j] }
        let d = (SIMD4<Double>(sum.lowHalf) - SIMD4<Double>(lost.lowHalf)) + (SIMD4<Double>(sum.highHalf) - SIMD4<Double>(lost.highHalf))
        return (d[0] + d[1]) + (d[2] + d[3])
    }

    /// Writes `J^T J` (upper triangle, 7 x 7 row-major) and `J^T r` at `p`.
    ///
    /// With `g = exp(-Q/2)` the Jacobian row is `[1, g, amp g u, amp g v, -amp g dx^2 / 2, -amp g dx dy,
    /// -amp g dy^2 / 2]`, `u = a dx + b dy`, `v = b dx + c dy`: columns 1...6 are `K h` with
    /// `h = g [1, dx, dy, dx^2, dx dy, dy^2]` and a constant 6 x 6 matrix `K` (amplitude and the form).
    /// So `J^T J` needs only the 15 moments `sum g^2 dx^i dy^j` (i + j <= 4), and `J^T r` and row 0 the
    /// sums `sum r`, `sum g r m` and `sum g m` over the monomials `m = [1, dx, dy, dx^2, dx dy, dy^2]`:
    /// 28 sums per lane instead of the 34 products of the rows, in two loops (13 and 15 accumulators;
    /// both read `g`, the first `r`, from the cost pass). `K`
    /// is applied in Double. Cancellation in `K M K^T` is bounded by the axis ratio (a factor < 7 at
    /// ratio 0.2), far inside Float's margin over the step's needs.
    func normal(_ p: UnsafeBufferPointer<Double>, _ jtj: UnsafeMutablePointer<Double>, _ jtr: UnsafeMutablePointer<Double>) {
        let s = stamp
        var same = true
        for j in 0..<7 where s.at[j] != p[j] { same = false }
        if !same { _ = cost(p) }
        let l = lanes(p)
        let px = l.px, py = l.py
        // Loop 1: sum r, sum g m, sum g r m (g and r from the cost pass).
        var sr = V.zero
        var g0 = V.zero, g1 = V.zero, g2 = V.zero, g3 = V.zero, g4 = V.zero, g5 = V.zero
        var r0 = V.zero, r1 = V.zero, r2 = V.zero, r3 = V.zero, r4 = V.zero, r5 = V.zero
        var k = 0
        while k < s.floatCount {
            let x = UnsafeRawPointer(s.xf + k).loadUnaligned(as: V.self)
            let y = UnsafeRawPointer(s.yf + k).loadUnaligned(as: V.self)
            let g = UnsafeRawPointer(s.gf + k).loadUnaligned(as: V.self)
            let r = UnsafeRawPointer(s.rf + k).loadUnaligned(as: V.self)
            let dx = x - px, dy = y - py
            let xx = dx * dx, xy = dx * dy, yy = dy * dy
            let gr = g * r
            sr += r
            g0 += g; g1 += g * dx; g2 += g * dy; g3 += g * xx; g4 += g * xy; g5 += g * yy
            r0 += gr; r1 += gr * dx; r2 += gr * dy; r3 += gr * xx; r4 += gr * xy; r5 += gr * yy
            k += 8
        }
        // Loop 2: the moments sum g^2 dx^i dy^j, i + j <= 4 (`m40` is i = 4, j = 0).
        var m00 = V.zero, m10 = V.zero, m01 = V.zero, m20 = V.zero, m11 = V.zero, m02 = V.zero
        var m30 = V.zero, m21 = V.zero, m12 = V.zero, m03 = V.zero
        var m40 = V.zero, m31 = V.zero, m22 = V.zero, m13 = V.zero, m04 = V.zero
        k = 0
        while k < s.floatCount {
            let x = UnsafeRawPointer(s.xf + k).loadUnaligned(as: V.self)
            let y = UnsafeRawPointer(s.yf + k).loadUnaligned(as: V.self)
            let g = UnsafeRawPointer(s.gf + k).loadUnaligned(as: V.self)
            let h = g * g
            let dx = x - px, dy = y - py
            let hx = h * dx, hy = h * dy
            let hxx = hx * dx, hxy = hx * dy, hyy = hy * dy
            let hxxx = hxx * dx, hxxy = hxx * dy, hxyy = hxy * dy, hyyy = hyy * dy
            m00 += h; m10 += hx; m01 += hy; m20 += hxx; m11 += hxy; m02 += hyy
            m30 += hxxx; m21 += hxxy; m12 += hxyy; m03 += hyyy
            m40 += hxxx * dx; m31 += hxxx * dy; m22 += hxxy * dy; m13 += hxyy * dy; m04 += hyyy * dy
            k += 8
        }
        /// The eight lanes' sum in Double, in a fixed order.
        @inline(__always) func sum(_ l: V) -> Double {
            let d = SIMD4<Double>(l.lowHalf) + SIMD4<Double>(l.highHalf)
            return (d[0] + d[1]) + (d[2] + d[3])
        }
        let s00 = sum(m00), s10 = sum(m10), s01 = sum(m01), s20 = sum(m20), s11 = sum(m11), s02 = sum(m02)
        let s30 = sum(m30), s21 = sum(m21), s12 = sum(m12), s03 = sum(m03)
        let s40 = sum(m40), s31 = sum(m31), s22 = sum(m22), s13 = sum(m13), s04 = sum(m04)
        // Columns 1...6 of J are h0, al h1 + be h2, be h1 + ga h2, de h3, ep h4, de h5 (h_i = g m_i), so
        // J^T J = K M K^T with M_ij = sum g^2 m_i m_j, written out below (s_ij = sum g^2 dx^i dy^j).
        let A = p[1]
        let al = A * p[4], be = A * p[5], ga = A * p[6], de = -0.5 * A, ep = -A
        let gs0 = sum(g0), gs1 = sum(g1), gs2 = sum(g2), gs3 = sum(g3), gs4 = sum(g4), gs5 = sum(g5)
        let rs0 = sum(r0), rs1 = sum(r1), rs2 = sum(r2), rs3 = sum(r3), rs4 = sum(r4), rs5 = sum(r5)
        jtj[0] = Double(s.count)
        jtj[1] = gs0
        jtj[2] = al * gs1 + be * gs2
        jtj[3] = be * gs1 + ga * gs2
        jtj[4] = de * gs3
        jtj[5] = ep * gs4
        jtj[6] = de * gs5
        jtr[0] = sum(sr)
        jtr[1] = rs0
        jtr[2] = al * rs1 + be * rs2
        jtr[3] = be * rs1 + ga * rs2
        jtr[4] = de * rs3
        jtr[5] = ep * rs4
        jtr[6] = de * rs5
        // Row 1 (h0 = g): M_0j = s of m_j.
        jtj[8] = s00
        jtj[9] = al * s10 + be * s01
        jtj[10] = be * s10 + ga * s01
        jtj[11] = de * s20
        jtj[12] = ep * s11
        jtj[13] = de * s02
        // Rows 2, 3 (h1 = g dx, h2 = g dy).
        jtj[16] = al * al * s20 + 2 * al * be * s11 + be * be * s02
        jtj[17] = al * be * s20 + (al * ga + be * be) * s11 + be * ga * s02
        jtj[18] = de * (al * s30 + be * s21)
        jtj[19] = ep * (al * s21 + be * s12)
        jtj[20] = de * (al * s12 + be * s03)
        jtj[24] = be * be * s20 + 2 * be * ga * s11 + ga * ga * s02
        jtj[25] = de * (be * s30 + ga * s21)
        jtj[26] = ep * (be * s21 + ga * s12)
        jtj[27] = de * (be * s12 + ga * s03)
        // Rows 4...6 (h3 = g dx^2, h4 = g dx dy, h5 = g dy^2).
        jtj[32] = de * de * s40
        jtj[33] = de * ep * s31
        jtj[34] = de * de * s22
        jtj[40] = ep * ep * s22
        jtj[41] = ep * de * s13
        jtj[48] = de * de * s04
    }
}
