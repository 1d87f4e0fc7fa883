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
    /// The strided sample of finite values (the bands' pieces joined with one copy each: appending an
    /// array copies element by element).
    public var sample: [Float] {
        let total = pieces.reduce(0) { $0 + $1.count }
        return [Float](unsafeUninitializedCapacity: total) { dst, filled in
            var o = 0
            for piece in pieces {
                piece.withUnsafeBufferPointer { (dst.baseAddress! + o).initialize(from: $0.baseAddress!, count: $0.count) }
                o += piece.count
            }
            filled = total
        }
    }
    /// Each band's part of `sample`, in order.
    private var pieces: [[Float]] = []

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
        // Finite maximum and non-finite count, 8 px per round in two independent vectors. A value is
        // finite when v - v is 0 (NaN and +-infinity give NaN); a non-finite one enters the maximum as
        // -infinity. Only the maximum's value matters here (its sign of zero and its count come below).
        let none = SIMD4<Float>(repeating: -.infinity), zero = SIMD4<Float>()
        let noneBits = unsafeBitCast(none, to: SIMD4<UInt32>.self)
        var top0 = none, top1 = none
        var good0 = SIMD4<Int32>(), good1 = SIMD4<Int32>()
        var c = 0
        while c &+ 8 <= n {
            let v = UnsafeRawPointer(p + c).loadUnaligned(as: SIMD4<Float>.self)
            let u = UnsafeRawPointer(p + (c &+ 4)).loadUnaligned(as: SIMD4<Float>.self)
            let fv = unsafeBitCast((v - v) .== zero, to: SIMD4<UInt32>.self)
            let fu = unsafeBitCast((u - u) .== zero, to: SIMD4<UInt32>.self)
            good0 &-= unsafeBitCast(fv, to: SIMD4<Int32>.self)   // true is -1
            good1 &-= unsafeBitCast(fu, to: SIMD4<Int32>.self)
            let mv = unsafeBitCast((unsafeBitCast(v, to: SIMD4<UInt32>.self) & fv) | (noneBits & ~fv), to: SIMD4<Float>.self)
            let mu = unsafeBitCast((unsafeBitCast(u, to: SIMD4<UInt32>.self) & fu) | (noneBits & ~fu), to: SIMD4<Float>.self)
            top0.replace(with: mv, where: mv .> top0)
            top1.replace(with: mu, where: mu .> top1)
            c &+= 8
        }
        top0.replace(with: top1, where: top1 .> top0)
        var bandMax = top0.max()
        var bandBad = c - Int((good0 &+ good1).wrappedSum())
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
        let allFinite = bandBad == 0
        let picked = [Float](unsafeUninitializedCapacity: n / stride + 1) { dst, filled in
            var k = 0, m = 0
            if allFinite {
                while k < n { dst[m] = p[k]; m &+= 1; k &+= stride }
            } else {
                while k < n {
                    let v = p[k]
                    dst[m] = v
                    m &+= v.isFinite ? 1 : 0
                    k += stride
                }
            }
            filled = m
        }
        if !picked.isEmpty { pieces.append(picked) }
    }
}
