import Foundation

/// A running census of a frame's pixels fed band by band (`FITSBands`), for the scan's inspection:
/// how many pixels are not finite, the largest finite value and how many pixels sit exactly at it, and
/// a strided sample of the finite values.
///
/// Guarantees, for the bands of a frame fed in order: `maxValue` and `atMax` are those of the
/// sequential rule `v > max ? (max = v, atMax = 1) : v == max ? atMax += 1` over every finite pixel
/// (bit for bit, the sign of a zero maximum included); `sample` holds, band by band, the finite pixels
/// at offsets 0, stride, 2 stride, ... of each band's buffer (planes one after another), in order.
public struct PixelCensus: Sendable {
    /// Sampling stride within each band.
    public let stride: Int
    /// Pixels seen.
    public private(set) var total = 0
    /// NaN and infinite pixels seen.
    public private(set) var nonfinite = 0
    /// Largest finite value (`-infinity` before any).
    public private(set) var maxValue = -Float.infinity
    /// Pixels exactly at `maxValue`.
    public private(set) var atMax = 0
    /// The strided sample of finite values.
    public private(set) var sample: [Float] = []

    /// An empty census sampling every `stride`-th pixel of each band (stride >= 1).
    public init(stride: Int) {
        precondition(stride >= 1, "stride must be positive")
        self.stride = stride
    }

    /// Adds the pixels of one band (all its planes).
    public mutating func add(_ band: Image) {
        band.pixels.withUnsafeBufferPointer { add($0) }
    }

    mutating func add(_ px: UnsafeBufferPointer<Float>) {
        let n = px.count
        guard n > 0, let p = px.baseAddress else { return }
        total += n
        // Finite maximum and non-finite count, four lanes at a time.
        var top = SIMD4<Float>(repeating: -.infinity)
        var bad = SIMD4<Int32>()
        var c = 0
        while c + 4 <= n {
            let v = UnsafeRawPointer(p + c).loadUnaligned(as: SIMD4<Float>.self)
            let finite = (unsafeBitCast(v, to: SIMD4<Int32>.self) & 0x7fff_ffff) .< 0x7f80_0000
            bad &+= 1 &+ unsafeBitCast(finite, to: SIMD4<Int32>.self)   // 1 + (-1 or 0)
            top.replace(with: v, where: finite .& (v .> top))
            c += 4
        }
        var bandMax = top.max()
        var bandBad = Int(bad.wrappedSum())
        while c < n {
            let v = p[c]
            if v.isFinite { bandMax = max(bandMax, v) } else { bandBad += 1 }
            c += 1
        }
        nonfinite += bandBad
        if bandMax == 0 {
            // The sign of a zero maximum is that of the first zero the sequential rule meets.
            for v in px where v.isFinite {
                if v > maxValue { maxValue = v; atMax = 1 } else if v == maxValue { atMax += 1 }
            }
        } else if bandMax >= maxValue, bandMax > -.infinity {
            var equal = SIMD4<Int32>()
            let m = SIMD4<Float>(repeating: bandMax)
            c = 0
            while c + 4 <= n {
                let v = UnsafeRawPointer(p + c).loadUnaligned(as: SIMD4<Float>.self)
                equal &-= unsafeBitCast(v .== m, to: SIMD4<Int32>.self)
                c += 4
            }
            var count = Int(equal.wrappedSum())
            while c < n { count += p[c] == bandMax ? 1 : 0; c += 1 }
            if bandMax > maxValue { maxValue = bandMax; atMax = count } else { atMax += count }
        }
        let picked = [Float](unsafeUninitializedCapacity: n / stride + 1) { dst, filled in
            var k = 0, m = 0
            while k < n {
                let v = p[k]
                dst[m] = v
                m &+= v.isFinite ? 1 : 0
                k += stride
            }
            filled = m
        }
        sample.append(contentsOf: picked)
    }
}
