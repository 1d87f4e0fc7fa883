import Dispatch

/// Per-pixel outlier rejection across a stack of frames (satellite and plane trails, cosmic rays, hot
/// pixels): each pixel's values over the frames are clipped against a robust centre, with residuals
/// scaled by each frame's own noise.
///
/// For one pixel with finite values x_f (background already removed, in the units the frames are
/// combined in) and frame noise sigma_f:
/// - centre c = median of the kept x_f (unweighted: robust against a bright outlier in a high-weight frame);
/// - residuals z_f = (x_f - c) / sigma_f, so a noisy frame is not clipped for being noisy;
/// - spread s of the kept z: `sigma` = 1.4826 x their median absolute value (the MAD about the median:
///   unlike the plain RMS it is not inflated by the outlier itself, which with N frames caps an outlier's
///   residual at sqrt(N - 1) RMS, so plain 3-sigma clipping could never reject anything below 10 frames);
///   `winsorized` = starting there, the RMS after the z are clamped to +-1.5 s, iterated to convergence
///   and corrected by 1.134 (Huber's winsorized estimate, as in Siril's winsorized sigma clipping);
///   never below 1, since the scatter cannot be smaller than the frames' noise (this floor keeps a few
///   frames agreeing by chance from clipping the next one);
/// - x_f is rejected when z_f < -kappaLow s or z_f > kappaHigh s; repeated until nothing new is
///   rejected or `iterations` rounds ran. Fewer than `minimumFrames` finite values: nothing is rejected.
///
/// On star pixels seeing varies from frame to frame, so s grows there and the sharp frames' peaks are
/// kept; outliers of 10-1000 sigma are removed. Deterministic: the same values give the same
/// decisions, whatever `threads`.
public enum PixelRejection {
    /// Spread estimator.
    public enum Method: String, Sendable, Codable, CaseIterable {
        /// 1.4826 x MAD of the noise-scaled residuals about the median.
        case sigma
        /// Winsorized RMS (Huber, clamp at 1.5 s, factor 1.134).
        case winsorized
    }

    /// Clipping parameters.
    public struct Options: Sendable, Equatable {
        /// Spread estimator.
        public var method: Method
        /// Reject below centre - kappaLow * s.
        public var kappaLow: Double
        /// Reject above centre + kappaHigh * s.
        public var kappaHigh: Double
        /// Clipping rounds (>= 1).
        public var iterations: Int
        /// Pixels with fewer finite values than this are left alone (a median of 2 is no centre).
        public var minimumFrames: Int

        /// Options; `minimumFrames` defaults to 3.
        public init(method: Method, kappaLow: Double, kappaHigh: Double, iterations: Int, minimumFrames: Int = 3) {
            precondition(kappaLow > 0 && kappaHigh > 0 && iterations >= 1 && minimumFrames >= 1)
            self.method = method
            self.kappaLow = kappaLow
            self.kappaHigh = kappaHigh
            self.iterations = iterations
            self.minimumFrames = minimumFrames
        }
    }

    /// A stack of `frames` images of `count` values each, frame-major (`values[f * count + i]`), NaN where a
    /// frame has no value; with `planes` > 1, one such stack per plane after another
    /// (`values[(p * frames + f) * count + i]`), so the planes of a frame are filled from one read.
    public struct Cube: Sendable {
        /// Number of frames.
        public let frames: Int
        /// Values per frame (and plane).
        public private(set) var count: Int
        /// Planes (stacks).
        public let planes: Int
        /// `planes * frames * count` values, plane-major, then frame-major.
        public var values: [Float]

        /// A cube of NaN.
        public init(frames: Int, count: Int, planes: Int = 1) {
            self.frames = frames
            self.count = count
            self.planes = planes
            values = [Float](repeating: .nan, count: planes * frames * count)
        }

        /// A cube of room for `frames x capacity x planes` values that are not initialized: the caller
        /// writes every value `clip` reads. A pass over chunks of rows allocates it once and `resize`s it
        /// per chunk (no fill, no fresh pages per chunk).
        public init(frames: Int, capacity: Int, planes: Int = 1) {
            self.frames = frames
            self.count = capacity
            self.planes = planes
            let total = planes * frames * capacity
            values = [Float](unsafeUninitializedCapacity: total) { _, initialized in initialized = total }
        }

        /// Makes the cube `count` values per frame (at most the capacity it was made with); the layout
        /// `values[(p * frames + f) * count + i]` follows the new count, the storage is kept.
        public mutating func resize(count: Int) {
            precondition(count >= 0 && planes * frames * count <= values.count)
            self.count = count
        }
    }

    /// Clips every pixel of plane `plane` of `cube` and returns, per frame, the indices (0 ..< cube.count, ascending) of its
    /// rejected values. `noise[f]` > 0 is frame f's noise in the cube's units. Pixels are split into
    /// `threads` fixed contiguous ranges and the per-range lists are concatenated in order, so the result
    /// does not depend on `threads`.
    public static func clip(_ cube: Cube, plane: Int = 0, noise: [Double], options: Options, threads: Int) -> [[Int]] {
        precondition(noise.count == cube.frames && plane >= 0 && plane < cube.planes)
        let parts = max(1, min(threads, cube.count / 4096 + 1))
        let bounds = (0...parts).map { $0 * cube.count / parts }
        final class Box: @unchecked Sendable { var lists: [[[Int]]] = [] }
        let box = Box()
        box.lists = [[[Int]]](repeating: [], count: parts)
        let inverse = noise.map { $0 > 0 && $0.isFinite ? 1 / $0 : 0 }
        let work: @Sendable (Int) -> Void = { p in
            let lists = cube.values.withUnsafeBufferPointer { all in
                let stack = plane * cube.frames * cube.count
                let v = UnsafeBufferPointer(rebasing: all[stack..<(stack + cube.frames * cube.count)])
                return clipRange(v, frames: cube.frames, count: cube.count, range: bounds[p]..<bounds[p + 1],
                          inverseNoise: inverse, options: options)
            }
            box.lists[p] = lists
        }
        Parallel.forEach(parts, threads: parts, work)
        var out = [[Int]](repeating: [], count: cube.frames)
        for part in box.lists {
            for f in 0..<cube.frames { out[f].append(contentsOf: part[f]) }
        }
        return out
    }

    /// The rejections of the pixels in `range`, per frame, ascending.
    ///
    /// Same decisions as the definition above, faster:
    /// - the values of `tileWidth` pixels are transposed at a time (each pixel's values of the frames with
    ///   a noise contiguous, in frame order) and stay Float: a median is an order statistic of them, so it is
    ///   found among the Floats and only then widened to Double (the same value as among Doubles);
    /// - medians are found inside a bracket around a guess (`bracketMedian`: the previous pixel's centre, the
    ///   previous round's centre and spread; counted 4 values at a time, moved and widened on a miss);
    /// - a round in which every residual is within [-kappaLow, kappaHigh] ends the pixel without computing
    ///   the spread, since s >= 1 could reject none of them (on noise ~70 % of the pixels at 120 frames);
    /// - the winsorized spread is iterated with 4 partial sums (`winsorizedFast`), whose rounding differs from
    ///   the sequential sum by far less than its margin; a round in which that could matter (a convergence
    ///   test or a residual within 1e-9 of its threshold) takes the sequential `winsorized` instead.
    static func clipRange(_ v: UnsafeBufferPointer<Float>, frames: Int, count: Int, range: Range<Int>,
                          inverseNoise: [Double], options: Options) -> [[Int]] {
        var out = [[Int]](repeating: [], count: frames)
        // Frames without a noise never take part: the tile holds the others only.
        let valid = (0..<frames).filter { inverseNoise[$0] > 0 }
        let nv = valid.count
        guard nv >= options.minimumFrames, !range.isEmpty else { return out }
        // The centre's first bracket: +-0.35 of the median frame noise, in value units.
        let noises = valid.map { 1 / inverseNoise[$0] }
        let centreWidth = Float(0.35 * (Statistics.median(noises) ?? 0))
        let kappaLow = options.kappaLow, kappaHigh = options.kappaHigh
        let winsorizedMethod = options.method == .winsorized
        // Wide tiles: each frame's segment of a tile is many cache lines in a row (which the prefetcher
        // follows), and the transposed tile still fits the L2 cache.
        let tw = max(16, min(tileWidth, tileBytes / (4 * nv)) / 16 * 16)
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: nv * tw)   // tile[j * nv + q]
        let validInv = UnsafeMutablePointer<Double>.allocate(capacity: nv)
        let validFrame = UnsafeMutablePointer<Int32>.allocate(capacity: nv)
        let inv = UnsafeMutablePointer<Double>.allocate(capacity: nv)         // per slot, after a compaction
        let fr = UnsafeMutablePointer<Int32>.allocate(capacity: nv)
        let z = UnsafeMutablePointer<Double>.allocate(capacity: nv)
        let az = UnsafeMutablePointer<Double>.allocate(capacity: nv)
        let scratchF = UnsafeMutablePointer<Float>.allocate(capacity: nv)
        let scratchD = UnsafeMutablePointer<Double>.allocate(capacity: nv)
        defer {
            tile.deallocate(); validInv.deallocate(); validFrame.deallocate(); inv.deallocate(); fr.deallocate()
            z.deallocate(); az.deallocate(); scratchF.deallocate(); scratchD.deallocate()
        }
        for q in 0..<nv { validInv[q] = inverseNoise[valid[q]]; validFrame[q] = Int32(valid[q]) }
        let base = v.baseAddress!
        var centreGuess = 0.0, madGuess = 0.6745
        var i0 = range.lowerBound
        while i0 < range.upperBound {
            let width = min(tw, range.upperBound - i0)
            // Transpose 16 pixels (one cache line of every frame) at a time, so the stores stay in L1.
            var j0 = 0
            while j0 < width {
                let w16 = min(16, width &- j0)
                for q in 0..<nv {
                    let src = base + (valid[q] &* count &+ i0 &+ j0)
                    let dst = tile + (j0 &* nv &+ q)
                    for j in 0..<w16 { dst[j &* nv] = src[j] }
                }
                j0 &+= 16
            }
            for j in 0..<width {
                let i = i0 + j
                let x = tile + (j &* nv)        // this pixel's values, compacted in place
                let allFinite = finite(x, nv)
                var n = nv
                var slotInv = UnsafePointer(validInv), slotFrame = UnsafePointer(validFrame)
                if !allFinite {
                    n = 0
                    for q in 0..<nv {
                        let value = x[q]
                        x[n] = value
                        inv[n] = validInv[q]
                        fr[n] = validFrame[q]
                        n &+= value.isFinite ? 1 : 0
                    }
                    slotInv = UnsafePointer(inv)
                    slotFrame = UnsafePointer(fr)
                }
                guard n >= options.minimumFrames else { continue }
                for round in 0..<options.iterations {
                    // After a round, the medians move by a few ranks only: narrower brackets around them.
                    let c = bracketMedian(x, n, guess: Float(centreGuess), width: round == 0 ? centreWidth : centreWidth / 4,
                                          scratch: scratchF)
                    centreGuess = c
                    if !residuals(x, slotInv, n, centre: c, z: z, abs: az, kappaLow: kappaLow, kappaHigh: kappaHigh) {
                        break  // s >= 1: none beyond kappa s, kept == n
                    }
                    let mad = bracketMedian(UnsafePointer(az), n, lo: (round == 0 ? 0.7 : 0.9) * madGuess,
                                            hi: (round == 0 ? 1.4 : 1.1) * madGuess, scratch: scratchD)
                    madGuess = mad
                    let start = 1.4826 * mad
                    var s = start
                    var fast = false
                    if winsorizedMethod {
                        if let w = winsorizedFast(z, n, start: max(start, 1), squares: scratchD) { s = w; fast = true } else {
                            s = winsorized(UnsafeMutableBufferPointer(start: z, count: n), n, start: max(start, 1))
                        }
                    }
                    s = max(s, 1)
                    var (rejected, ambiguous) = outside(z, n, lo: -kappaLow * s, hi: kappaHigh * s, margin: fast)
                    if ambiguous {
                        s = max(winsorized(UnsafeMutableBufferPointer(start: z, count: n), n, start: max(start, 1)), 1)
                        rejected = outside(z, n, lo: -kappaLow * s, hi: kappaHigh * s, margin: false).rejected
                    }
                    if rejected == 0 { break }   // kept == n
                    let lo = -kappaLow * s, hi = kappaHigh * s
                    // Values before the first rejected one stay where they are.
                    var kept = 0
                    while kept < n && z[kept] >= lo && z[kept] <= hi { kept += 1 }
                    if slotInv != UnsafePointer(inv) {
                        inv.update(from: slotInv, count: kept)
                        fr.update(from: slotFrame, count: kept)
                    }
                    for k in kept..<n {
                        let zk = z[k]
                        if zk < lo || zk > hi {
                            out[Int(slotFrame[k])].append(i)
                        } else {
                            x[kept] = x[k]
                            inv[kept] = slotInv[k]
                            fr[kept] = slotFrame[k]
                            kept += 1
                        }
                    }
                    slotInv = UnsafePointer(inv)
                    slotFrame = UnsafePointer(fr)
                    if kept < options.minimumFrames { break }
                    n = kept
                }
            }
            i0 += width
        }
        return out
    }

    /// Whether every value of `x[0..<n]` is finite (v - v is 0 exactly for finite v, NaN otherwise).
    @inline(__always)
    static func finite(_ x: UnsafePointer<Float>, _ n: Int) -> Bool {
        var ok = SIMDMask<SIMD4<Int32>>(repeating: true)
        let zero = SIMD4<Float>()
        var k = 0
        while k &+ 4 <= n {
            let v = UnsafeRawPointer(x + k).loadUnaligned(as: SIMD4<Float>.self)
            ok = ok .& ((v - v) .== zero)
            k &+= 4
        }
        var all = Swift.all(ok)
        while k < n { all = all && x[k].isFinite; k &+= 1 }
        return all
    }

    /// z[k] = (x[k] - centre) * inv[k] and its absolute value; true when some z is below -kappaLow or above
    /// kappaHigh.
    @inline(__always)
    static func residuals(_ x: UnsafePointer<Float>, _ inv: UnsafePointer<Double>, _ n: Int, centre c: Double,
                          z: UnsafeMutablePointer<Double>, abs az: UnsafeMutablePointer<Double>,
                          kappaLow: Double, kappaHigh: Double) -> Bool {
        let c4 = SIMD4<Double>(repeating: c), lo4 = SIMD4<Double>(repeating: -kappaLow), hi4 = SIMD4<Double>(repeating: kappaHigh)
        var any = SIMDMask<SIMD4<Int64>>(repeating: false)
        let signless = SIMD4<UInt64>(repeating: ~(1 << 63))   // abs: the sign bit cleared, as `abs`
        var k = 0
        while k &+ 4 <= n {
            let xf = UnsafeRawPointer(x + k).loadUnaligned(as: SIMD4<Float>.self)
            let xd = SIMD4<Double>(Double(xf[0]), Double(xf[1]), Double(xf[2]), Double(xf[3]))
            let r = (xd - c4) * UnsafeRawPointer(inv + k).loadUnaligned(as: SIMD4<Double>.self)
            UnsafeMutableRawPointer(z + k).storeBytes(of: r, as: SIMD4<Double>.self)
            let magnitude = unsafeBitCast(unsafeBitCast(r, to: SIMD4<UInt64>.self) & signless, to: SIMD4<Double>.self)
            UnsafeMutableRawPointer(az + k).storeBytes(of: magnitude, as: SIMD4<Double>.self)
            any = any .| (r .< lo4) .| (r .> hi4)
            k &+= 4
        }
        var found = Swift.any(any)
        while k < n {
            let r = (Double(x[k]) - c) * inv[k]
            z[k] = r
            az[k] = Swift.abs(r)
            found = found || r < -kappaLow || r > kappaHigh
            k &+= 1
        }
        return found
    }

    /// How many z are below `lo` or above `hi`, and (with `margin`) whether some z is within 1e-9 (relative)
    /// of either threshold, where thresholds from `winsorizedFast` and `winsorized` might decide differently.
    /// Counts below lo -+ margin and above hi +- margin: when each pair agrees, no z is near a threshold
    /// and the counts are those of the thresholds themselves.
    @inline(__always)
    static func outside(_ z: UnsafePointer<Double>, _ n: Int, lo: Double, hi: Double, margin: Bool) -> (rejected: Int, ambiguous: Bool) {
        let dl = margin ? 1e-9 * Swift.abs(lo) : 0, dh = margin ? 1e-9 * Swift.abs(hi) : 0
        let lo1 = SIMD4<Double>(repeating: lo - dl), lo2 = SIMD4<Double>(repeating: lo + dl)
        let hi1 = SIMD4<Double>(repeating: hi + dh), hi2 = SIMD4<Double>(repeating: hi - dh)
        var c1 = SIMD4<Int64>(), c2 = SIMD4<Int64>(), c3 = SIMD4<Int64>(), c4 = SIMD4<Int64>()
        var k = 0
        while k &+ 4 <= n {
            let r = UnsafeRawPointer(z + k).loadUnaligned(as: SIMD4<Double>.self)
            c1 &-= unsafeBitCast(r .< lo1, to: SIMD4<Int64>.self)
            c2 &-= unsafeBitCast(r .< lo2, to: SIMD4<Int64>.self)
            c3 &-= unsafeBitCast(r .> hi1, to: SIMD4<Int64>.self)
            c4 &-= unsafeBitCast(r .> hi2, to: SIMD4<Int64>.self)
            k &+= 4
        }
        var belowOuter = Int(c1.wrappedSum()), belowInner = Int(c2.wrappedSum())
        var aboveOuter = Int(c3.wrappedSum()), aboveInner = Int(c4.wrappedSum())
        while k < n {
            let r = z[k]
            belowOuter &+= r < lo - dl ? 1 : 0
            belowInner &+= r < lo + dl ? 1 : 0
            aboveOuter &+= r > hi + dh ? 1 : 0
            aboveInner &+= r > hi - dh ? 1 : 0
            k &+= 1
        }
        if !margin { return (belowOuter + aboveOuter, false) }
        return (belowOuter + aboveOuter, belowOuter != belowInner || aboveOuter != aboveInner)
    }

    /// `winsorized` with the sum of squares in 4 partial sums (a different rounding than the sequential sum, by at
    /// most ~(n + 3) ulp relative per round, so ~1e-12 after 10 rounds for n <= 10^4). Nil when a convergence
    /// test is within 1e-9 (relative) of deciding the other way, so that the sequential iteration could take
    /// another path; otherwise the result is within ~1e-12 (relative) of `winsorized`'s.
    static func winsorizedFast(_ z: UnsafePointer<Double>, _ n: Int, start: Double, squares: UnsafeMutablePointer<Double>) -> Double? {
        guard n <= 100_000 else { return nil }
        // min(z^2, b^2) is exactly clamp(z, -b, b)^2 (rounding is monotone): one blend per value and round.
        for k in 0..<n { squares[k] = z[k] * z[k] }
        var s = start
        for _ in 0..<10 {
            guard s > 0 else { return 0 }
            let bound = 1.5 * s
            let bb = bound * bound
            // Four scalar sums (`Swift.min` of non-NaN values becomes minsd, and the four lanes minpd).
            var a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
            var k = 0
            while k &+ 4 <= n {
                a0 += Swift.min(squares[k], bb)
                a1 += Swift.min(squares[k &+ 1], bb)
                a2 += Swift.min(squares[k &+ 2], bb)
                a3 += Swift.min(squares[k &+ 3], bb)
                k &+= 4
            }
            var ss = (a0 + a1) + (a2 + a3)
            while k < n {
                let r = min(max(z[k], -bound), bound)
                ss += r * r
                k &+= 1
            }
            let next = 1.134 * (ss / Double(n)).squareRoot()
            let d = Swift.abs(next - s), t = 0.005 * s
            if Swift.abs(d - t) <= 1e-9 * (next + s) { return nil }
            if d <= t { return next }
            s = next
        }
        return s
    }

    /// Pixels per tile of the gather in `clipRange`, at most (and at most `tileBytes` of values).
    static let tileWidth = 256
    /// Bytes of a transposed tile, at most (when that leaves at least 16 pixels).
    static let tileBytes = 128 << 10

    /// Huber's winsorized spread of `z[0..<n]` (residuals about the centre): clamp at +-1.5 s, RMS,
    /// times 1.134; iterated from `start` until it changes by less than 0.5 % (at most 10 rounds).
    static func winsorized(_ z: UnsafeMutableBufferPointer<Double>, _ n: Int, start: Double) -> Double {
        var s = start
        for _ in 0..<10 {
            guard s > 0 else { return 0 }
            let bound = 1.5 * s
            var ss = 0.0
            for k in 0..<n {
                let r = min(max(z[k], -bound), bound)
                ss += r * r
            }
            let next = 1.134 * (ss / Double(n)).squareRoot()
            if abs(next - s) <= 0.005 * s { return next }
            s = next
        }
        return s
    }

    /// Median of a non-empty buffer of finite values (reorders it).
    static func median(_ a: UnsafeMutableBufferPointer<Double>) -> Double {
        let n = a.count
        let hi = Statistics.select(a, n / 2)
        guard n % 2 == 0 else { return hi }
        var lo = a[0]
        for k in 1..<(n / 2) where a[k] > lo { lo = a[k] }
        return (lo + hi) / 2
    }
}
