import Foundation
import Imaging

/// One image entering a streaming mean: a FITS file and one divisor per plane.
public struct MeanInput: Sendable, Equatable {
    /// The FITS file (float32 in the reference geometry, 1 or 3 planes).
    public var path: String
    /// Each plane's pixels are divided by its divisor before they are summed (e.g. B_f per channel
    /// for the phase-2 normalization `I' = I / B_f`; 1 for no scaling). One entry per plane.
    public var divisors: [Double]
    /// A name for messages (the frame file or the producing node).
    public var name: String
    /// Rejected pixels (`RejectionMasks`, ascending indices), skipped like NaN.
    public var rejected: [UInt32]
    /// Weight of this input in the mean (1 = the plain mean; > 0).
    public var weight: Double

    /// An input.
    public init(path: String, divisors: [Double], name: String, rejected: [UInt32] = [], weight: Double = 1) {
        self.weight = weight
        self.path = path
        self.divisors = divisors
        self.name = name
        self.rejected = rejected
    }
}

/// The result of `StreamingMean.average`.
public struct MeanResult: Sendable {
    /// Per pixel and plane: the mean of the finite (scaled) input values, NaN where no input is finite.
    public var image: Image
    /// When requested: per pixel and plane (same layout as `image.pixels`), whether every input was
    /// finite there (so an external tool that cannot skip NaN computed the same mean).
    public var complete: [Bool]?
}

/// NaN-aware unweighted mean of many images, streamed in row bands: for each band, every input's rows
/// are read (`FITS.readRows`) in input order and summed in Double; no more than one band of one input
/// is in memory besides the accumulators and the output. The summation order is fixed (inputs in the
/// order given), so the output bits do not depend on threads or scheduling.
public enum StreamingMean {
    /// Bytes of Double accumulators per band (sum + count for `width * channels` values per row).
    public static let defaultBandBytes = 64 << 20

    /// Averages `inputs` (all `width x height x channels`): `mean = sum_i (v_i / d_i,c) / n` over the
    /// inputs whose value is finite, computed in Double and rounded once to Float. A pixel with no
    /// finite value is NaN. Throws `StepError.badArtifact` (naming the input) for an unreadable file or
    /// a size / plane-count mismatch, and when `inputs` is empty.
    public static func average(_ inputs: [MeanInput], width: Int, height: Int, channels: Int,
                               trackComplete: Bool = false, bandBytes: Int = defaultBandBytes,
                               node: String) throws -> MeanResult {
        guard !inputs.isEmpty else { throw StepError.badArtifact(node: node, message: "nothing to average") }
        guard width > 0, height > 0, channels > 0 else {
            throw StepError.badArtifact(node: node, message: "empty image size \(width)x\(height)x\(channels)")
        }
        for input in inputs where input.divisors.count != channels {
            throw StepError.badArtifact(node: node, message: "\(input.name): \(input.divisors.count) divisors for \(channels) planes")
        }
        let plane = width * height
        let rowValues = width * channels
        let bandRows = max(1, min(height, bandBytes / max(1, rowValues * 16)))
        var out = [Float](repeating: .nan, count: plane * channels)
        var complete = trackComplete ? [Bool](repeating: false, count: plane * channels) : []
        var sum = [Double](repeating: 0, count: bandRows * rowValues)
        var count = [Double](repeating: 0, count: bandRows * rowValues)
        var seen = [UInt32](repeating: 0, count: trackComplete ? bandRows * rowValues : 0)
        let total = UInt32(inputs.count)
        var y0 = 0
        while y0 < height {
            let rows = min(bandRows, height - y0)
            let n = rows * width
            for i in 0..<(rows * rowValues) { sum[i] = 0; count[i] = 0 }
            if trackComplete { for i in 0..<(rows * rowValues) { seen[i] = 0 } }
            for input in inputs {
                var band: Image
                do { band = try FITS.readRows(input.path, from: y0, count: rows) } catch {
                    throw StepError.badArtifact(node: node, message: "\(input.name) unreadable: \(error)")
                }
                RejectionMasks.apply(input.rejected, to: &band, y0: y0, imageHeight: height)
                guard band.width == width, band.channels == channels else {
                    throw StepError.badArtifact(node: node, message: "\(input.name) is \(band.width) px wide with \(band.channels) planes, "
                        + "expected \(width) px and \(channels) planes")
                }
                let weight = input.weight
                band.pixels.withUnsafeBufferPointer { src in
                    sum.withUnsafeMutableBufferPointer { s in
                        count.withUnsafeMutableBufferPointer { k in
                            seen.withUnsafeMutableBufferPointer { m in
                                for c in 0..<channels {
                                    let base = c * n
                                    accumulate(src.baseAddress! + base, count: n, divisor: input.divisors[c], weight: weight,
                                               sum: s.baseAddress! + base, weights: k.baseAddress! + base,
                                               seen: trackComplete ? m.baseAddress! + base : nil)
                                }
                            }
                        }
                    }
                }
            }
            sum.withUnsafeBufferPointer { s in
                count.withUnsafeBufferPointer { k in
                    out.withUnsafeMutableBufferPointer { o in
                        for c in 0..<channels {
                            let src = c * n, dst = c * plane + y0 * width
                            divide(s.baseAddress! + src, by: k.baseAddress! + src, count: n, into: o.baseAddress! + dst)
                        }
                    }
                    if trackComplete {
                        complete.withUnsafeMutableBufferPointer { m in
                            for c in 0..<channels {
                                let src = c * n, dst = c * plane + y0 * width
                                for i in 0..<n { m[dst + i] = seen[src + i] == total }
                            }
                        }
                    }
                }
            }
            y0 += rows
        }
        return MeanResult(image: Image(width: width, height: height, channels: channels, pixels: out),
                          complete: trackComplete ? complete : nil)
    }

    /// One input plane into the accumulators, pixel by pixel in the historic arithmetic: where `v` is
    /// finite, `sum += v / divisor` and `weights += 1` (weight 1), or `sum += weight * (v / divisor)` and
    /// `weights += weight`; `seen += 1`. Four pixels at a time: a non-finite pixel adds +0, which leaves
    /// every accumulator unchanged (they start at +0 and only grow by additions, so none is ever -0), and
    /// a divisor of 1 is skipped (`x / 1 == x` exactly). Each pixel keeps its own summation order.
    @inline(__always)
    static func accumulate(_ src: UnsafePointer<Float>, count n: Int, divisor d: Double, weight: Double,
                           sum s: UnsafeMutablePointer<Double>, weights k: UnsafeMutablePointer<Double>,
                           seen: UnsafeMutablePointer<UInt32>?) {
        if d == 1 {
            if weight == 1 { accumulate(src, n, s, k, seen) { $0 } } else { accumulate(src, n, s, k, seen, weight: weight) { weight * $0 } }
        } else {
            let dv = SIMD4<Double>(repeating: d)
            if weight == 1 { accumulate(src, n, s, k, seen, divisor: d) { $0 / dv } } else {
                accumulate(src, n, s, k, seen, weight: weight, divisor: d) { weight * ($0 / dv) }
            }
        }
    }

    @inline(__always)
    private static func accumulate(_ src: UnsafePointer<Float>, _ n: Int, _ s: UnsafeMutablePointer<Double>,
                                   _ k: UnsafeMutablePointer<Double>, _ seen: UnsafeMutablePointer<UInt32>?,
                                   weight: Double = 1, divisor: Double = 1,
                                   _ term: (SIMD4<Double>) -> SIMD4<Double>) {
        // A Float is finite exactly when its Double is: test the Double's exponent bits.
        let exponent = SIMD4<UInt64>(repeating: 0x7ff0_0000_0000_0000)
        let w = SIMD4<Double>(repeating: weight)
        let raw = UnsafeRawPointer(src), sp = UnsafeMutableRawPointer(s), kp = UnsafeMutableRawPointer(k)
        var i = 0
        while i &+ 4 <= n {
            let v = SIMD4<Double>(raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD4<Float>.self))
            let finite = (unsafeBitCast(v, to: SIMD4<UInt64>.self) & exponent) .!= exponent
            let t = term(v).replacing(with: 0, where: .!finite)
            sp.storeBytes(of: sp.loadUnaligned(fromByteOffset: i &* 8, as: SIMD4<Double>.self) + t, toByteOffset: i &* 8, as: SIMD4<Double>.self)
            let dk = w.replacing(with: 0, where: .!finite)
            kp.storeBytes(of: kp.loadUnaligned(fromByteOffset: i &* 8, as: SIMD4<Double>.self) + dk, toByteOffset: i &* 8, as: SIMD4<Double>.self)
            if let seen {
                let m = UnsafeMutableRawPointer(seen)
                let one = SIMD4<UInt32>(truncatingIfNeeded: SIMD4<UInt64>(repeating: 1).replacing(with: 0, where: .!finite))
                m.storeBytes(of: m.loadUnaligned(fromByteOffset: i &* 4, as: SIMD4<UInt32>.self) &+ one, toByteOffset: i &* 4, as: SIMD4<UInt32>.self)
            }
            i &+= 4
        }
        while i < n {  // the tail, as the historic scalar loop
            let v = src[i]
            if v.isFinite {
                s[i] += weight == 1 ? Double(v) / divisor : weight * (Double(v) / divisor)
                k[i] += weight == 1 ? 1 : weight
                if let seen { seen[i] += 1 }
            }
            i &+= 1
        }
    }

    /// `out[i] = Float(sum[i] / weights[i])` where `weights[i] > 0`, NaN (`Float.nan`, the bits `out`
    /// starts with) elsewhere.
    @inline(__always)
    static func divide(_ s: UnsafePointer<Double>, by k: UnsafePointer<Double>, count n: Int, into o: UnsafeMutablePointer<Float>) {
        let sp = UnsafeRawPointer(s), kp = UnsafeRawPointer(k), op = UnsafeMutableRawPointer(o)
        var i = 0
        while i &+ 4 <= n {
            let kv = kp.loadUnaligned(fromByteOffset: i &* 8, as: SIMD4<Double>.self)
            let q = (sp.loadUnaligned(fromByteOffset: i &* 8, as: SIMD4<Double>.self) / kv).replacing(with: .nan, where: .!(kv .> 0))
            op.storeBytes(of: SIMD4<Float>(q), toByteOffset: i &* 4, as: SIMD4<Float>.self)
            i &+= 4
        }
        while i < n {
            if k[i] > 0 { o[i] = Float(s[i] / k[i]) }
            i &+= 1
        }
    }
}
