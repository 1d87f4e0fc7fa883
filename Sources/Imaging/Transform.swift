import Foundation

/// Why a geometric transform could not be estimated.
public enum TransformError: Error, CustomStringConvertible, Equatable {
    /// `estimate` got a different number of source and target points.
    case mismatchedPointCounts(source: Int, target: Int)
    /// Fewer than two point pairs were given.
    case tooFewPoints(Int)
    /// All source points coincide (or are non-finite), so rotation and scale are undefined.
    case degeneratePoints

    /// What is wrong and what to do.
    public var description: String {
        switch self {
        case .mismatchedPointCounts(let s, let t):
            return "transform estimate: \(s) source points but \(t) target points; pass matched pairs (same count, same order)"
        case .tooFewPoints(let n):
            return "transform estimate: \(n) point pair(s) given, a similarity needs at least 2 distinct pairs; match more stars"
        case .degeneratePoints:
            return "transform estimate: the source points coincide or are not finite, rotation and scale are undefined; check the star list"
        }
    }
}

/// A 2-D similarity (rotation, uniform scale, translation) mapping a *source* point to a
/// *destination* point, in 0-based pixel-centre coordinates:
///
///     x' = scale * (cos(rotation) * x - sin(rotation) * y) + tx
///     y' = scale * (sin(rotation) * x + cos(rotation) * y) + ty
///
/// Convention in tcbuild: a frame's registration transform maps **reference pixel coordinates to
/// frame pixel coordinates** (reference -> frame). That is the direction `warp` needs (for each
/// output pixel in the reference geometry it looks up where to sample the frame), and `estimate`
/// gives it when called with `source` = reference star positions and `target` = frame star positions.
/// Rotation is in radians, in (-pi, pi]; a positive rotation turns the +x axis towards +y (counter-clockwise
/// when row 0 is displayed at the bottom, as FITS viewers do).
public struct SimilarityTransform: Sendable, Codable, Equatable, Hashable {
    /// Rotation angle in radians, in (-pi, pi].
    public var rotation: Double
    /// Uniform scale factor (> 0).
    public var scale: Double
    /// Translation added after rotation and scaling, x component.
    public var tx: Double
    /// Translation added after rotation and scaling, y component.
    public var ty: Double

    /// A transform from its four parameters; `rotation` is folded into (-pi, pi].
    public init(rotation: Double = 0, scale: Double = 1, tx: Double = 0, ty: Double = 0) {
        precondition(scale > 0 && scale.isFinite, "similarity scale must be positive and finite")
        var r = rotation.truncatingRemainder(dividingBy: 2 * .pi)
        if r <= -.pi { r += 2 * .pi }
        if r > .pi { r -= 2 * .pi }
        self.rotation = r
        self.scale = scale
        self.tx = tx
        self.ty = ty
    }

    /// The identity map.
    public static let identity = SimilarityTransform()

    /// A pure translation by (dx, dy).
    public static func translation(_ dx: Double, _ dy: Double) -> SimilarityTransform {
        SimilarityTransform(tx: dx, ty: dy)
    }

    /// The 2x2 linear part as (a, b): `x' = a x - b y + tx`, `y' = b x + a y + ty`.
    @inlinable public var linear: (a: Double, b: Double) { (scale * cos(rotation), scale * sin(rotation)) }

    /// The image of the point (x, y).
    @inlinable public func apply(x: Double, y: Double) -> SIMD2<Double> {
        let (a, b) = linear
        return SIMD2(a * x - b * y + tx, b * x + a * y + ty)
    }

    /// The image of the point `p`.
    @inlinable public func apply(_ p: SIMD2<Double>) -> SIMD2<Double> { apply(x: p.x, y: p.y) }

    /// The point that `apply` takes to (x, y), computed directly as `R(-rotation) (p - t) / scale`
    /// without building `inverse`. Rounds differently from `inverse.apply(x:y:)`; the synthetic
    /// series generator maps frame pixels back to the reference with this exact formula, so its
    /// output bytes depend on it.
    @inlinable public func preimage(x: Double, y: Double) -> SIMD2<Double> {
        let c = cos(rotation) / scale, s = sin(rotation) / scale
        let dx = x - tx, dy = y - ty
        return SIMD2(c * dx + s * dy, -s * dx + c * dy)
    }

    /// The inverse map: `inverse.apply(apply(p)) == p` up to rounding.
    public var inverse: SimilarityTransform {
        let s = 1 / scale
        let c = cos(-rotation) * s, sn = sin(-rotation) * s
        return SimilarityTransform(rotation: -rotation, scale: s,
                                   tx: -(c * tx - sn * ty), ty: -(sn * tx + c * ty))
    }

    /// The map "first `self`, then `next`": `then(next).apply(p) == next.apply(apply(p))`.
    public func then(_ next: SimilarityTransform) -> SimilarityTransform {
        let (a, b) = next.linear
        return SimilarityTransform(rotation: rotation + next.rotation, scale: scale * next.scale,
                                   tx: a * tx - b * ty + next.tx, ty: b * tx + a * ty + next.ty)
    }

    /// Least-squares similarity taking `source[i]` to `target[i]` (Umeyama / Procrustes, closed form):
    /// minimizes `sum_i w_i |T(source_i) - target_i|^2`.
    ///
    /// - Parameter weights: optional non-negative weights (same count); nil weighs all pairs equally.
    /// - Throws: `TransformError` for mismatched counts, fewer than 2 pairs, or coincident source points.
    public static func estimate(source: [SIMD2<Double>], target: [SIMD2<Double>],
                                weights: [Double]? = nil) throws -> SimilarityTransform {
        guard source.count == target.count else {
            throw TransformError.mismatchedPointCounts(source: source.count, target: target.count)
        }
        guard source.count >= 2 else { throw TransformError.tooFewPoints(source.count) }
        if let w = weights { precondition(w.count == source.count && w.allSatisfy { $0 >= 0 }, "weights must match pairs and be >= 0") }
        var wsum = 0.0
        var cs = SIMD2<Double>(0, 0), ct = SIMD2<Double>(0, 0)
        for i in source.indices {
            let w = weights?[i] ?? 1
            wsum += w
            cs += w * source[i]
            ct += w * target[i]
        }
        guard wsum > 0 else { throw TransformError.degeneratePoints }
        cs /= wsum
        ct /= wsum
        var sxx = 0.0, sa = 0.0, sb = 0.0
        for i in source.indices {
            let w = weights?[i] ?? 1
            let p = source[i] - cs, q = target[i] - ct
            sxx += w * (p.x * p.x + p.y * p.y)
            sa += w * (p.x * q.x + p.y * q.y)
            sb += w * (p.x * q.y - p.y * q.x)
        }
        guard sxx > 0, sxx.isFinite, sa.isFinite, sb.isFinite else { throw TransformError.degeneratePoints }
        let a = sa / sxx, b = sb / sxx
        let scale = (a * a + b * b).squareRoot()
        guard scale > 0 else { throw TransformError.degeneratePoints }
        return SimilarityTransform(rotation: atan2(b, a), scale: scale,
                                   tx: ct.x - (a * cs.x - b * cs.y), ty: ct.y - (b * cs.x + a * cs.y))
    }

    /// Root-mean-square distance between `apply(source[i])` and `target[i]` (0 for empty input).
    public func residualRMS(source: [SIMD2<Double>], target: [SIMD2<Double>]) -> Double {
        precondition(source.count == target.count, "residualRMS needs matched pairs")
        guard !source.isEmpty else { return 0 }
        var s = 0.0
        for i in source.indices {
            let d = apply(source[i]) - target[i]
            s += d.x * d.x + d.y * d.y
        }
        return (s / Double(source.count)).squareRoot()
    }
}
