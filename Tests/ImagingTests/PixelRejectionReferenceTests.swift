import Foundation
import Testing
import TestSupport
@testable import Imaging

/// The fast clipping kernel (bracketed medians, early end of a pixel) against the plain definition:
/// the previous kernel, kept here verbatim as the reference. The decisions must be identical.
@Suite("pixel rejection against the reference kernel")
struct PixelRejectionReferenceTests {
    /// The definition, straight: full selections, every round computes the spread.
    static func reference(_ cube: PixelRejection.Cube, noise: [Double], options: PixelRejection.Options) -> [[Int]] {
        let frames = cube.frames, count = cube.count
        let inv = noise.map { $0 > 0 && $0.isFinite ? 1 / $0 : 0 }
        var out = [[Int]](repeating: [], count: frames)
        for i in 0..<count {
            var x: [Double] = [], fr: [Int] = []
            for f in 0..<frames {
                let value = cube.values[f * count + i]
                guard value.isFinite, inv[f] > 0 else { continue }
                x.append(Double(value))
                fr.append(f)
            }
            guard x.count >= options.minimumFrames else { continue }
            for _ in 0..<options.iterations {
                let n = x.count
                var sc = x
                let c = sc.withUnsafeMutableBufferPointer { PixelRejection.median($0) }
                var z = (0..<n).map { (x[$0] - c) * inv[fr[$0]] }
                sc = z.map { abs($0) }
                var s = 1.4826 * sc.withUnsafeMutableBufferPointer { PixelRejection.median($0) }
                if options.method == .winsorized {
                    s = z.withUnsafeMutableBufferPointer { PixelRejection.winsorized($0, n, start: max(s, 1)) }
                }
                s = max(s, 1)
                let lo = -options.kappaLow * s, hi = options.kappaHigh * s
                var kx: [Double] = [], kf: [Int] = []
                for k in 0..<n {
                    if z[k] < lo || z[k] > hi { out[fr[k]].append(i) } else { kx.append(x[k]); kf.append(fr[k]) }
                }
                if kx.count == n || kx.count < options.minimumFrames { break }
                x = kx
                fr = kf
            }
        }
        return out
    }

    /// Noise with per-frame levels, a smooth sky, stars whose peak follows the seeing, trails, cosmic rays,
    /// NaN borders: every branch of the kernel (bracket hits and misses, early ends, several rounds).
    static func scene(frames: Int, count: Int, seed: UInt64) -> (PixelRejection.Cube, [Double]) {
        var rng = TestRNG(seed: seed)
        let noise = (0..<frames).map { _ in 0.005 + 0.02 * rng.uniform() }
        let seeing = (0..<frames).map { _ in 2.2 + 2.3 * rng.uniform() }
        var cube = PixelRejection.Cube(frames: frames, count: count)
        for f in 0..<frames {
            for i in 0..<count {
                var v = 0.3 * Double(i) / Double(count) + noise[f] * rng.normal()
                let d = Double(i % 97) - 48                      // a star every 97 pixels
                v += 2 / (seeing[f] * seeing[f]) * (-(d * d) / (2 * seeing[f] * seeing[f])).exp
                if f == 3 && i % 50 < 5 { v += 0.5 }               // a trail
                if rng.uniform() < 0.002 { v += 30 * noise[f] * rng.uniform() }  // cosmic rays and hot pixels
                if f % 7 == 1 && i < 40 { v = .nan }               // registration borders
                cube.values[f * count + i] = Float(v)
            }
        }
        return (cube, noise)
    }

    @Test("identical decisions on a rich scene: both estimators, 1-5 rounds, 3 to 150 frames, 1 and 2 threads",
          arguments: [(3, 1), (5, 2), (12, 3), (40, 3), (121, 3), (150, 5), (60, 1)])
    func identical(_ setup: (Int, Int)) {
        let (frames, iterations) = setup
        let (cube, noise) = Self.scene(frames: frames, count: 3000, seed: UInt64(frames))
        for method in PixelRejection.Method.allCases {
            let options = PixelRejection.Options(method: method, kappaLow: 3, kappaHigh: 2.5, iterations: iterations)
            let expected = Self.reference(cube, noise: noise, options: options)
            for threads in [1, 2] {
                let got = PixelRejection.clip(cube, noise: noise, options: options, threads: threads)
                #expect(got == expected, "\(method) \(frames) frames, \(iterations) rounds, \(threads) threads")
            }
            if frames >= 40 { #expect(expected.reduce(0) { $0 + $1.count } > 100) }
        }
    }

    /// Adversarial pixels: ties (quantized values, all equal), NaN and infinities, frames without a noise,
    /// few frames (3-6, even and odd counts), star pixels whose centre jumps by hundreds of sigma from one
    /// pixel to the next (every bracket misses), huge outliers, residuals far beyond any bracket.
    static func adversarial(frames: Int, count: Int, seed: UInt64) -> (PixelRejection.Cube, [Double]) {
        var rng = TestRNG(seed: seed)
        var noise = (0..<frames).map { _ in 0.002 + 0.05 * rng.uniform() }
        if frames > 4 { noise[1] = 0; noise[frames - 1] = .nan }    // frames that never take part
        var cube = PixelRejection.Cube(frames: frames, count: count)
        for i in 0..<count {
            let kind = i % 11
            let level = kind == 3 ? 500 * rng.uniform() : (kind == 4 ? -300 * rng.uniform() : 0.1)
            for f in 0..<frames {
                var v: Double
                switch kind {
                case 0: v = 1                                                  // all equal
                case 1: v = (rng.uniform() * 4).rounded(.down) * 0.01          // few distinct values
                case 2: v = rng.uniform() < 0.5 ? 0 : 1                        // two values
                case 5: v = rng.uniform() < 0.3 ? .nan : 0.1 + noise[f % frames].magnitude * rng.normal()
                case 6: v = f % 3 == 0 ? .infinity : 0.1 + 0.01 * rng.normal()
                case 7: v = f == 0 ? 1e30 : (f == 2 ? -1e30 : 0.1 + 0.01 * rng.normal())
                case 8: v = 0.1 + (f % 2 == 0 ? 1 : -1) * 0.0301 * Double(f)  // symmetric, spread out
                case 9: v = 0.1 + 0.01 * rng.normal() + (rng.uniform() < 0.4 ? 5 * rng.uniform() : 0)
                default: v = level + (1 + 20 * rng.uniform()) * 0.01 * rng.normal()   // star-like jumps
                }
                cube.values[f * count + i] = Float(v)
            }
        }
        return (cube, noise)
    }

    @Test("identical decisions on adversarial pixels: ties, NaN, infinities, few frames, brackets that miss",
          arguments: [3, 4, 5, 6, 7, 9, 16, 33, 64, 120])
    func adversarial(_ frames: Int) {
        let (cube, noise) = Self.adversarial(frames: frames, count: 2200, seed: UInt64(100 + frames))
        for method in PixelRejection.Method.allCases {
            for (kl, kh, it) in [(3.0, 3.0, 3), (1.2, 0.8, 5), (2.5, 2.0, 1)] {
                let options = PixelRejection.Options(method: method, kappaLow: kl, kappaHigh: kh, iterations: it)
                let expected = Self.reference(cube, noise: noise, options: options)
                let got = PixelRejection.clip(cube, noise: noise, options: options, threads: 2)
                #expect(got == expected, "\(method) \(frames) frames, kappa \(kl)/\(kh), \(it) rounds")
            }
        }
    }

    @Test("a residual exactly on the threshold takes the sequential winsorized spread and is kept")
    func onThreshold() {
        // Centre 0, MAD 0: the spread ends below 1, so the thresholds are exactly +-kappa; z = 3 lies on one.
        var cube = PixelRejection.Cube(frames: 10, count: 2)
        for f in 0..<10 {
            cube.values[f * 2] = f == 8 ? 3 : (f == 9 ? 10 : 0)
            cube.values[f * 2 + 1] = f == 8 ? -3 : (f == 9 ? -10 : 0)
        }
        let noise = [Double](repeating: 1, count: 10)
        for method in PixelRejection.Method.allCases {
            let options = PixelRejection.Options(method: method, kappaLow: 3, kappaHigh: 3, iterations: 3)
            let got = PixelRejection.clip(cube, noise: noise, options: options, threads: 1)
            #expect(got == Self.reference(cube, noise: noise, options: options))
            #expect(got[9] == [0, 1] && got[8].isEmpty, "\(method): \(got)")
        }
    }

    @Test("selections: exact order statistics of ties and random values; winsorizedFast near winsorized or nil")
    func selections() {
        var rng = TestRNG(seed: 7)
        for n in 1...70 {
            for distinct in [1, 2, 5, 1000] {
                let values = (0..<n).map { _ in Float(Int(rng.uniform() * Double(distinct))) * 0.25 }
                let sorted = values.sorted()
                let expected = n % 2 == 1 ? Double(sorted[n / 2]) : (Double(sorted[n / 2 - 1]) + Double(sorted[n / 2])) / 2
                var scratch = [Float](repeating: 0, count: n)
                for guess in [Float(-3), 0, 0.5, Float(sorted[n / 2]), 100] {
                    let got = values.withUnsafeBufferPointer { x in
                        scratch.withUnsafeMutableBufferPointer {
                            PixelRejection.bracketMedian(x.baseAddress!, n, guess: guess, width: 0.1, scratch: $0.baseAddress!)
                        }
                    }
                    #expect(got == expected, "n \(n), \(distinct) distinct, guess \(guess)")
                }
                var z = values.map { Double($0) - 3 }
                let start = 1.0 + 3 * rng.uniform()
                let exact = z.withUnsafeMutableBufferPointer { PixelRejection.winsorized($0, n, start: start) }
                var squares = [Double](repeating: 0, count: n)
                let fastResult = z.withUnsafeBufferPointer { zb in
                    squares.withUnsafeMutableBufferPointer { PixelRejection.winsorizedFast(zb.baseAddress!, n, start: start, squares: $0.baseAddress!) }
                }
                if let fast = fastResult {
                    #expect(Swift.abs(fast - exact) <= 1e-12 * Swift.max(exact, 1e-300), "n \(n): \(fast) vs \(exact)")
                }
            }
        }
    }
}

private extension Double {
    var exp: Double { Foundation.exp(self) }
}

/// `PixelRejection.inside` (four values per vector step) against the scalar branch-free compaction.
@Suite("pixel rejection: bracket compaction")
struct PixelRejectionInsideTests {
    static func scalar<T: BinaryFloatingPoint>(_ x: [T], _ lo: T, _ hi: T) -> [T] { x.filter { !($0 < lo) && !($0 > hi) } }

    @Test("the values within [lo, hi], in order, for every length and bracket, Float and Double; bounds inclusive")
    func sameAsScalar() {
        var rng = TestRNG(seed: 21)
        for n in [0, 1, 2, 3, 4, 5, 7, 8, 9, 119, 120, 121] {
            let f = (0..<n).map { _ in rng.uniform(-1, 1) }
            let d = f.map { Double($0) + 1e-9 * rng.normal() }
            for (lo, hi) in [(-0.1, 0.1), (-2, 2), (0.5, 0.4), (Double(f.first ?? 0), Double(f.last ?? 0))] {
                var sf = [Float](repeating: .nan, count: n + 1), sd = [Double](repeating: .nan, count: n + 1)
                let mf = (f + [0]).withUnsafeBufferPointer { x in
                    sf.withUnsafeMutableBufferPointer { PixelRejection.inside(x.baseAddress!, n, Float(lo), Float(hi), $0.baseAddress!) }
                }
                let md = (d + [0]).withUnsafeBufferPointer { x in
                    sd.withUnsafeMutableBufferPointer { PixelRejection.inside(x.baseAddress!, n, lo, hi, $0.baseAddress!) }
                }
                #expect(Array(sf[0..<mf]) == Self.scalar(f, Float(lo), Float(hi)))
                #expect(Array(sd[0..<md]) == Self.scalar(d, lo, hi))
            }
        }
    }
}
