import Foundation

extension Kernels {
    /// `gradientEnergyMean(image, plane:, x0:, y0:, width:, height:)` of every rectangle of `tiles`, bit
    /// for bit, in one sweep of the plane: each pixel's |∇I|² (Sobel / 8, in Double) is computed once
    /// per row even where rectangles overlap, and each rectangle's sum takes its energies in the same
    /// order (row by row, left to right) as the per-rectangle kernel. nil for a rectangle smaller than
    /// 3 x 3 or without an evaluable pixel.
    public static func gradientEnergyMeans(_ image: Image, plane: Int = 0, tiles: [TileRect]) -> [Double?] {
        precondition(plane >= 0 && plane < image.channels, "plane out of range")
        for t in tiles {
            precondition(t.x >= 0 && t.y >= 0 && t.width >= 0 && t.height >= 0
                         && t.x + t.width <= image.width && t.y + t.height <= image.height, "region outside the image")
        }
        let width = image.width, height = image.height
        var sums = [Double](repeating: 0, count: tiles.count)
        var counts = [Int](repeating: 0, count: tiles.count)
        // Rectangles by the interior rows they span; only rectangles of at least 3 x 3 have any.
        var startingAt = [[Int]](repeating: [], count: height)
        for (i, t) in tiles.enumerated() where t.width >= 3 && t.height >= 3 { startingAt[t.y + 1].append(i) }
        var active: [Int] = []
        // Energies of the current row (non-finite where the pixel is skipped).
        var energy = [Double](repeating: .nan, count: width)
        image.pixels.withUnsafeBufferPointer { all in
            let base = all.baseAddress! + plane * image.planeSize
            energy.withUnsafeMutableBufferPointer { e in
                for y in 1..<max(1, height - 1) {
                    active.append(contentsOf: startingAt[y])
                    active.removeAll { y > tiles[$0].y + tiles[$0].height - 2 }
                    guard !active.isEmpty else { continue }
                    energyRow(up: base + (y - 1) * width, mid: base + y * width, down: base + (y + 1) * width,
                              width: width, into: e.baseAddress!)
                    // Four (or two) rectangles at a time when they are as wide: independent sums, one per
                    // lane, hide the latency of the additions (each sum still takes its terms in its own
                    // order, and a vector lane adds as the scalar does).
                    var k = 0
                    while k < active.count {
                        let i = active[k], t = tiles[i]
                        if k + 3 < active.count, tiles[active[k + 1]].width == t.width,
                           tiles[active[k + 2]].width == t.width, tiles[active[k + 3]].width == t.width {
                            let lanes = SIMD4<Int>(i, active[k + 1], active[k + 2], active[k + 3])
                            sumFour(e.baseAddress! + t.x + 1, n: t.width - 2, dx1: tiles[lanes[1]].x - t.x,
                                    dx2: tiles[lanes[2]].x - t.x, dx3: tiles[lanes[3]].x - t.x,
                                    lanes: lanes, sums: &sums, counts: &counts)
                            k += 4
                        } else if k + 1 < active.count, tiles[active[k + 1]].width == t.width {
                            let j = active[k + 1], dx = tiles[j].x - t.x
                            var si = sums[i], ci = counts[i], sj = sums[j], cj = counts[j]
                            for x in (t.x + 1)..<(t.x + t.width - 1) {
                                let u = e[x], v = e[x + dx]
                                let oku = u < .infinity, okv = v < .infinity
                                si += oku ? u : 0
                                ci &+= oku ? 1 : 0
                                sj += okv ? v : 0
                                cj &+= okv ? 1 : 0
                            }
                            sums[i] = si; counts[i] = ci; sums[j] = sj; counts[j] = cj
                            k += 2
                        } else {
                            var sum = sums[i], count = counts[i]
                            // Adding +0 leaves a non-negative sum's bits unchanged: skipped pixels cost no branch.
                            for x in (t.x + 1)..<(t.x + t.width - 1) {
                                let v = e[x]
                                let ok = v < .infinity
                                sum += ok ? v : 0
                                count &+= ok ? 1 : 0
                            }
                            sums[i] = sum
                            counts[i] = count
                            k += 1
                        }
                    }
                }
            }
        }
        return tiles.indices.map { counts[$0] > 0 ? sums[$0] / Double(counts[$0]) : nil }
    }

    /// Adds `p[x + dx_l]` for x in 0 ..< n, in that order, to `sums[lanes[l]]` (and 1 to `counts[lanes[l]]`)
    /// for each lane l (dx_0 = 0), skipping non-finite energies: the two-at-a-time loop of
    /// `gradientEnergyMeans` four lanes wide, each lane's additions those of the scalar loop.
    @inline(__always)
    static func sumFour(_ p: UnsafeMutablePointer<Double>, n: Int, dx1: Int, dx2: Int, dx3: Int,
                        lanes: SIMD4<Int>, sums: inout [Double], counts: inout [Int]) {
        var s = SIMD4<Double>(sums[lanes[0]], sums[lanes[1]], sums[lanes[2]], sums[lanes[3]])
        var c = SIMD4<Int64>(Int64(counts[lanes[0]]), Int64(counts[lanes[1]]), Int64(counts[lanes[2]]), Int64(counts[lanes[3]]))
        let p1 = p + dx1, p2 = p + dx2, p3 = p + dx3
        let limit = SIMD4<Double>(repeating: .infinity), zero = SIMD4<Double>()
        for x in 0..<n {
            let v = SIMD4<Double>(p[x], p1[x], p2[x], p3[x])
            let ok = v .< limit
            // Adding +0 leaves a non-negative sum's bits unchanged, as in the scalar loop.
            s += zero.replacing(with: v, where: ok)
            c &-= unsafeBitCast(ok, to: SIMD4<Int64>.self)
        }
        for l in 0..<4 {
            sums[lanes[l]] = s[l]
            counts[lanes[l]] = Int(c[l])
        }
    }

    /// |∇I|² (Sobel / 8) of columns 1 ..< width-1 of the row `mid` into `e`, non-finite (NaN or
    /// +inf) where the per-rectangle kernel skips the pixel. `gx + (mid - mid)` is `gx` (up to the sign
    /// of a zero, which squaring drops) where the centre pixel is finite and NaN where it is not.
    @inline(__always)
    static func energyRow(up: UnsafePointer<Float>, mid: UnsafePointer<Float>, down: UnsafePointer<Float>,
                          width: Int, into e: UnsafeMutablePointer<Double>) {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
        }
        let scale = SIMD4<Double>(repeating: 1.0 / 64)
        var x = 1
        while x + 4 <= width - 1 {
            let ul = load(up + x - 1), uc = load(up + x), ur = load(up + x + 1)
            let ml = load(mid + x - 1), mc = load(mid + x), mr = load(mid + x + 1)
            let dl = load(down + x - 1), dc = load(down + x), dr = load(down + x + 1)
            let gx = (ur - ul) + 2 * (mr - ml) + (dr - dl) + (mc - mc)
            let gy = (dl - ul) + 2 * (dc - uc) + (dr - ur)
            // Each lane the scalar expression: Double(gx)² + Double(gy)², times 1/64 (no fused operations).
            let xd = SIMD4<Double>(gx), yd = SIMD4<Double>(gy)
            UnsafeMutableRawPointer(e + x).storeBytes(of: (xd * xd + yd * yd) * scale, as: SIMD4<Double>.self)
            x += 4
        }
        while x < width - 1 {
            let gx = (up[x + 1] - up[x - 1]) + 2 * (mid[x + 1] - mid[x - 1]) + (down[x + 1] - down[x - 1]) + (mid[x] - mid[x])
            let gy = (down[x - 1] - up[x - 1]) + 2 * (down[x] - up[x]) + (down[x + 1] - up[x + 1])
            e[x] = (Double(gx) * Double(gx) + Double(gy) * Double(gy)) * (1.0 / 64)
            x += 1
        }
    }
}
