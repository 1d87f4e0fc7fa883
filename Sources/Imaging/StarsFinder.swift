import Foundation

/// The per-plane steps of `detectStars` (candidates, separation, measurement) on row buffers.
/// Internal: the public entry point is `detectStars(in:channel:options:)`.
struct StarFinder {
    /// A thresholded local maximum.
    struct Candidate {
        /// Peak column.
        var x: Int
        /// Peak row.
        var y: Int
        /// Background-subtracted peak value.
        var value: Float
        /// Raw peak value (for the saturation test).
        var raw: Float
    }

    /// The raw plane (fits run on it, with a free local background).
    let plane: UnsafeBufferPointer<Float>
    /// The background-subtracted plane.
    let residual: UnsafeBufferPointer<Float>
    let width: Int
    let height: Int
    let options: StarDetectionOptions

    /// Step 2 and 3: pixels above `threshold` that are the maximum of their window, minus hot pixels.
    /// `margin >= radius >= 1` keeps every window and neighbour inside the plane.
    func candidates(threshold: Float, radius r: Int, margin: Int) -> [Candidate] {
        let w = width, sub = residual
        var out: [Candidate] = []
        let hotRatio = Float(options.hotPixelRatio)
        let thresholdV = SIMD8<Float>(repeating: threshold)
        let base = sub.baseAddress!
        for y in margin..<(height - margin) {
            let row = y * w
            /// The scalar test of pixel x (reading order within the row).
            @inline(__always) func visit(_ x: Int) {
                let v = sub[row + x]
                guard v > threshold else { return }
                var isMax = true
                scan: for yy in (y - r)...(y + r) {
                    let rr = yy * w
                    for xx in (x - r)...(x + r) where !(xx == x && yy == y) {
                        let u = sub[rr + xx]
                        // Earlier pixels (reading order) must be strictly lower, later ones not higher;
                        // NaN neighbours are ignored.
                        let earlier = yy < y || (yy == y && xx < x)
                        if earlier ? (u >= v) : (u > v) { isMax = false; break scan }
                    }
                }
                guard isMax else { return }
                if hotRatio > 0 {
                    // A single-pixel spike: all four orthogonal neighbours far below the peak.
                    let limit = hotRatio * v
                    if !(sub[row + x - 1] >= limit) && !(sub[row + x + 1] >= limit)
                        && !(sub[row - w + x] >= limit) && !(sub[row + w + x] >= limit) { return }
                }
                out.append(Candidate(x: x, y: y, value: v, raw: plane[row + x]))
            }
            // Eight pixels at a time: only a vector with a pixel above the threshold is looked at.
            var x = margin
            let end = w - margin
            while x + 8 <= end {
                let v = UnsafeRawPointer(base + row + x).loadUnaligned(as: SIMD8<Float>.self)
                let above = v .> thresholdV
                if any(above) { for lane in 0..<8 where above[lane] { visit(x + lane) } }
                x += 8
            }
            while x < end { visit(x); x += 1 }
        }
        return out
    }

    /// Step 4: candidates by descending peak (ties: row, column); one closer than `minSeparation`
    /// to an already kept candidate is dropped. A grid of `ceil(minSeparation)` px cells keeps it O(n).
    func separated(_ candidates: [Candidate]) -> [Candidate] {
        let sorted = candidates.sorted { $0.value != $1.value ? $0.value > $1.value : ($0.y, $0.x) < ($1.y, $1.x) }
        let sep = options.minSeparation
        guard sep > 0 else { return sorted }
        let cell = max(1, Int(sep.rounded(.up)))
        // Kept candidates per cell as linked lists in flat arrays (a frame of one empty cell around the
        // plane, so the 3 x 3 neighbourhood needs no bounds test): `head[cell]` is the last kept candidate
        // of a cell, `next[k]` the one kept before it in the same cell, -1 ends a list.
        let gw = width / cell + 3, gh = height / cell + 3
        var head = [Int32](repeating: -1, count: gw * gh)
        var next: [Int32] = []
        var kept: [Candidate] = []
        next.reserveCapacity(sorted.count)
        kept.reserveCapacity(sorted.count)
        for c in sorted {
            let g = (c.y / cell + 1) * gw + c.x / cell + 1
            var clash = false
            search: for dy in -1...1 {
                for dx in -1...1 {
                    var k = head[g + dy * gw + dx]
                    while k >= 0 {
                        let ddx = Double(kept[Int(k)].x - c.x), ddy = Double(kept[Int(k)].y - c.y)
                        if ddx * ddx + ddy * ddy < sep * sep { clash = true; break search }
                        k = next[Int(k)]
                    }
                }
            }
            if clash { continue }
            next.append(head[g])
            head[g] = Int32(kept.count)
            kept.append(c)
        }
        return kept
    }

    /// Step 5b: the candidates that are not lines (`StarLineRejection`), in the same order.
    ///
    /// The footprint is flood-filled on a state grid of the window with a one-pixel frame (0: not yet
    /// looked at, 1: in the footprint, 2: below the level, outside the plane or the frame), so a
    /// neighbour costs one byte test and no bounds arithmetic; its moments are integer sums, exact in
    /// any visiting order.
    func withoutLines(_ candidates: [Candidate], _ rule: StarLineRejection) -> [Candidate] {
        let r = max(1, rule.radius), side = 2 * r + 1, pitch = side + 2
        let state = UnsafeMutablePointer<UInt8>.allocate(capacity: pitch * pitch)
        // Stack entries: the grid index, the plane index and the offsets from the peak of a footprint pixel.
        let stack = UnsafeMutablePointer<Int>.allocate(capacity: 4 * side * side)
        defer { state.deallocate(); stack.deallocate() }
        var kept: [Candidate] = []
        kept.reserveCapacity(candidates.count)
        let res = residual.baseAddress!, w = width
        for c in candidates {
            let level = 0.5 * c.value
            let x0 = max(0, c.x - r), x1 = min(width - 1, c.x + r)
            let y0 = max(0, c.y - r), y1 = min(height - 1, c.y + r)
            state.update(repeating: 2, count: pitch * pitch)
            for y in y0...y1 { (state + (y - c.y + r + 1) * pitch + (x0 - c.x + r + 1)).update(repeating: 0, count: x1 - x0 + 1) }
            let centre = (r + 1) * pitch + (r + 1)
            state[centre] = 1
            stack[0] = centre; stack[1] = c.y * w + c.x; stack[2] = 0; stack[3] = 0
            var top = 1
            var count = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0
            while top > 0 {
                top -= 1
                let e = stack + 4 * top
                let k = e[0], i = e[1], dx = e[2], dy = e[3]
                count += 1; sx += dx; sy += dy; sxx += dx * dx; syy += dy * dy; sxy += dx * dy
                /// The neighbour at (ox, oy): into the footprint (and onto the stack) or marked below.
                @inline(__always) func visit(_ ox: Int, _ oy: Int) {
                    let q = k + oy * pitch + ox
                    guard state[q] == 0 else { return }
                    let j = i + oy * w + ox
                    // >= fails for NaN: blank pixels end the footprint.
                    if res[j] >= level {
                        state[q] = 1
                        let f = stack + 4 * top
                        f[0] = q; f[1] = j; f[2] = dx + ox; f[3] = dy + oy
                        top += 1
                    } else {
                        state[q] = 2
                    }
                }
                visit(-1, -1); visit(0, -1); visit(1, -1); visit(-1, 0); visit(1, 0); visit(-1, 1); visit(0, 1); visit(1, 1)
            }
            let nn = Double(count)
            let mx = Double(sx) / nn, my = Double(sy) / nn
            let vxx = Double(sxx) / nn - mx * mx + 1.0 / 12, vyy = Double(syy) / nn - my * my + 1.0 / 12
            let vxy = Double(sxy) / nn - mx * my
            let half = 0.5 * (vxx + vyy), d = (0.25 * (vxx - vyy) * (vxx - vyy) + vxy * vxy).squareRoot()
            let major = half + d, minor = max(half - d, 1.0 / 12)
            let isLine = (major / minor).squareRoot() > rule.maxElongation && (12 * major).squareRoot() >= rule.minLength
            if !isLine { kept.append(c) }
        }
        return kept
    }

    /// Step 6: intensity-weighted centroid over 7x7 positive residuals, then the PSF fit started
    /// there; nil when the fit fails or fails the FWHM / drift / flux checks.
    func measure(_ c: Candidate, noise: Double) -> StarMeasurement? {
        let w = width
        var sw = 0.0, sx = 0.0, sy = 0.0
        for yy in max(0, c.y - 3)...min(height - 1, c.y + 3) {
            for xx in max(0, c.x - 3)...min(w - 1, c.x + 3) {
                let u = Double(residual[yy * w + xx])
                guard u > 0, u.isFinite else { continue }
                sw += u; sx += u * Double(xx); sy += u * Double(yy)
            }
        }
        guard sw > 0 else { return nil }
        let cx = sx / sw, cy = sy / sw
        let fitter = PSFFitter(plane: plane, width: w, height: height)
        // A fit that drifts beyond the allowed shift is dropped below anyway: abandon it there.
        var fitOptions = options.fit
        if fitOptions.maxDrift == nil { fitOptions.maxDrift = options.maxCentroidShift }
        guard let fit = fitter.fit(cx: c.x, cy: c.y, x: cx, y: cy, noiseSigma: noise, options: fitOptions) else {
            return nil
        }
        let m = fit.measurement
        let dx = m.x - cx, dy = m.y - cy
        guard (dx * dx + dy * dy).squareRoot() <= options.maxCentroidShift,
              m.fwhm >= options.minFWHM, m.fwhm <= options.maxFWHM, m.flux.isFinite, m.flux > 0 else { return nil }
        return m
    }
}
