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
        for y in margin..<(height - margin) {
            let row = y * w
            for x in margin..<(w - margin) {
                let v = sub[row + x]
                guard v > threshold else { continue }
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
                guard isMax else { continue }
                if hotRatio > 0 {
                    // A single-pixel spike: all four orthogonal neighbours far below the peak.
                    let limit = hotRatio * v
                    if !(sub[row + x - 1] >= limit) && !(sub[row + x + 1] >= limit)
                        && !(sub[row - w + x] >= limit) && !(sub[row + w + x] >= limit) { continue }
                }
                out.append(Candidate(x: x, y: y, value: v, raw: plane[row + x]))
            }
        }
        return out
    }

    /// Step 4: candidates by descending peak (ties: row, column); one closer than `minSeparation`
    /// to an already kept candidate is dropped. A hash grid keeps it O(n).
    func separated(_ candidates: [Candidate]) -> [Candidate] {
        let sorted = candidates.sorted { $0.value != $1.value ? $0.value > $1.value : ($0.y, $0.x) < ($1.y, $1.x) }
        let sep = options.minSeparation
        guard sep > 0 else { return sorted }
        let cell = max(1, Int(sep.rounded(.up)))
        let gw = width / cell + 1
        var grid: [Int: [Int]] = [:]
        var kept: [Candidate] = []
        for c in sorted {
            let gx = c.x / cell, gy = c.y / cell
            var clash = false
            search: for dy in -1...1 {
                for dx in -1...1 {
                    guard let list = grid[(gy + dy) * gw + gx + dx] else { continue }
                    for k in list {
                        let ddx = Double(kept[k].x - c.x), ddy = Double(kept[k].y - c.y)
                        if ddx * ddx + ddy * ddy < sep * sep { clash = true; break search }
                    }
                }
            }
            if clash { continue }
            grid[gy * gw + gx, default: []].append(kept.count)
            kept.append(c)
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
        guard let fit = fitter.fit(cx: c.x, cy: c.y, x: cx, y: cy, noiseSigma: noise, options: options.fit) else {
            return nil
        }
        let m = fit.measurement
        let dx = m.x - cx, dy = m.y - cy
        guard (dx * dx + dy * dy).squareRoot() <= options.maxCentroidShift,
              m.fwhm >= options.minFWHM, m.fwhm <= options.maxFWHM, m.flux.isFinite, m.flux > 0 else { return nil }
        return m
    }
}
