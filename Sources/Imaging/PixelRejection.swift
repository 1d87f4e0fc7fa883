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
        public let count: Int
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
    /// Same decisions as the definition above, faster: the medians are found inside a bracket around a
    /// guess (`Statistics.medianInBracket`: the previous pixel's centre, the previous round's centre and
    /// spread), falling back to a full selection when the guess misses; and a round in which every
    /// residual is within [-kappaLow, kappaHigh] ends the pixel without computing the spread, since
    /// s >= 1 could reject none of them (on noise ~70 % of the pixels at 120 frames).
    static func clipRange(_ v: UnsafeBufferPointer<Float>, frames: Int, count: Int, range: Range<Int>,
                          inverseNoise: [Double], options: Options) -> [[Int]] {
        var out = [[Int]](repeating: [], count: frames)
        var x = [Double](repeating: 0, count: frames)      // values of the kept frames
        var z = [Double](repeating: 0, count: frames)
        var frame = [Int](repeating: 0, count: frames)     // frame of each slot
        var scratch = [Double](repeating: 0, count: 2 * frames)  // a copy and a bracket's values
        // Bracket half-widths: the centre's in value units (0.35 of the median frame noise), the MAD's
        // relative to its guess. Wider brackets miss less often but select among more values.
        let noises = inverseNoise.filter { $0 > 0 }.map { 1 / $0 }
        let centreWidth = 0.35 * (Statistics.median(noises) ?? 0)
        let kappaLow = options.kappaLow, kappaHigh = options.kappaHigh
        x.withUnsafeMutableBufferPointer { x in
        z.withUnsafeMutableBufferPointer { z in
        frame.withUnsafeMutableBufferPointer { fr in
        scratch.withUnsafeMutableBufferPointer { sc in
        inverseNoise.withUnsafeBufferPointer { inv in
            let xp = x.baseAddress!, scp = sc.baseAddress!, inBracket = scp + frames
            var centreGuess = 0.0, madGuess = 0.6745
            let tile = UnsafeMutablePointer<Float>.allocate(capacity: frames * tileWidth)
            defer { tile.deallocate() }
            for i in range {
                // Every tileWidth pixels, copy their values of every frame into `tile` (frame-major rows of
                // tileWidth): the per-pixel gather then reads from L1 instead of `frames` distant pages.
                let j = (i - range.lowerBound) % tileWidth
                if j == 0 {
                    let width = min(tileWidth, range.upperBound - i)
                    for f in 0..<frames {
                        (tile + f * tileWidth).update(from: v.baseAddress! + f * count + i, count: width)
                    }
                }
                var n = 0
                for f in 0..<frames {
                    let value = tile[f * tileWidth + j]
                    guard value.isFinite, inv[f] > 0 else { continue }
                    x[n] = Double(value)
                    fr[n] = f
                    n += 1
                }
                guard n >= options.minimumFrames else { continue }
                for _ in 0..<options.iterations {
                    let c: Double
                    if let m = Statistics.medianInBracket(xp, n, lo: centreGuess - centreWidth, hi: centreGuess + centreWidth,
                                                          scratch: inBracket) {
                        c = m
                    } else {
                        for k in 0..<n { sc[k] = x[k] }
                        c = median(UnsafeMutableBufferPointer(rebasing: sc[0..<n]))
                    }
                    centreGuess = c
                    var zMin = 0.0, zMax = 0.0
                    for k in 0..<n {
                        let r = (x[k] - c) * inv[fr[k]]
                        z[k] = r
                        zMin = min(zMin, r)
                        zMax = max(zMax, r)
                    }
                    if zMin >= -kappaLow && zMax <= kappaHigh { break }  // s >= 1: none beyond kappa s, kept == n
                    for k in 0..<n { sc[k] = abs(z[k]) }
                    let mad: Double
                    if let m = Statistics.medianInBracket(UnsafePointer(scp), n, lo: 0.7 * madGuess, hi: 1.4 * madGuess,
                                                          scratch: inBracket) {
                        mad = m
                    } else {
                        mad = median(UnsafeMutableBufferPointer(rebasing: sc[0..<n]))
                    }
                    madGuess = mad
                    var s = 1.4826 * mad
                    if options.method == .winsorized { s = winsorized(z, n, start: max(s, 1)) }
                    s = max(s, 1)
                    let lo = -kappaLow * s, hi = kappaHigh * s
                    var kept = 0
                    for k in 0..<n {
                        if z[k] < lo || z[k] > hi {
                            out[fr[k]].append(i)
                        } else {
                            x[kept] = x[k]
                            fr[kept] = fr[k]
                            kept += 1
                        }
                    }
                    if kept == n || kept < options.minimumFrames { break }
                    n = kept
                }
            }
        }
        }
        }
        }
        }
        return out
    }

    /// Pixels per tile of the gather in `clipRange`.
    static let tileWidth = 32

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
