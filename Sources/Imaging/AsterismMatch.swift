import Foundation

/// Why two star lists could not be matched.
public enum AsterismMatchError: Error, CustomStringConvertible, Equatable {
    /// Fewer than 3 stars in a list: no triangle can be formed.
    case tooFewStars(reference: Int, frame: Int)
    /// The best transform found explains too few stars.
    case notEnoughMatches(found: Int, required: Int)

    /// What is wrong and what to do.
    public var description: String {
        switch self {
        case .tooFewStars(let r, let f):
            return "star matching needs at least 3 stars per list, got \(r) in the reference and \(f) in the frame; lower the detection threshold or check the frame (clouds, focus)"
        case .notEnoughMatches(let found, let required):
            return "star matching found only \(found) consistent star pairs (\(required) required); the frame may not overlap the reference, or lower registration.min_star_matches"
        }
    }
}

/// Parameters of `matchAsterisms`.
public struct AsterismMatchOptions: Sendable, Codable, Equatable {
    /// Brightest stars of each list used to build triangles (lists are taken in the order given,
    /// which for `detectStars` output is flux descending).
    public var triangleStars: Int
    /// Each star forms triangles with pairs of its this-many nearest neighbours.
    public var neighbours: Int
    /// Two triangles are similar when their shape invariants (b/c, a/c of sorted sides) differ by
    /// less than this.
    public var shapeTolerance: Double
    /// A transformed reference star and a frame star closer than this (px) count as a match.
    public var matchRadius: Double
    /// Accepted scale range of the transform (guards against nonsense hypotheses).
    public var minScale: Double
    /// See `minScale`.
    public var maxScale: Double
    /// Maximum number of triangle hypotheses scored (seeded sample if there are more).
    public var maxHypotheses: Int
    /// Fewer matched pairs than this throws `notEnoughMatches`.
    public var minMatches: Int
    /// Seed of the hypothesis sampler (results are deterministic for a given seed).
    public var seed: UInt64
    /// When set, the scoring stops at the first hypothesis that brings at least this fraction of the
    /// shorter triangle-star list (and at least `minMatches`) into coincidence, instead of scoring every
    /// hypothesis for the best: so many chance coincidences do not happen, and the refinement on all
    /// stars that follows re-matches the pairs from it. Nil: every hypothesis is scored.
    public var acceptFraction: Double? = nil

    /// Defaults: 40 triangle stars, 6 neighbours, shape tolerance 0.01, 2 px match radius,
    /// scale 0.8...1.25, 2000 hypotheses, 6 matches minimum, every hypothesis scored.
    public init(triangleStars: Int = 40, neighbours: Int = 6, shapeTolerance: Double = 0.01,
                matchRadius: Double = 2, minScale: Double = 0.8, maxScale: Double = 1.25,
                maxHypotheses: Int = 2000, minMatches: Int = 6, seed: UInt64 = 0x7C0B_17D5,
                acceptFraction: Double? = nil) {
        self.triangleStars = triangleStars
        self.neighbours = neighbours
        self.shapeTolerance = shapeTolerance
        self.matchRadius = matchRadius
        self.minScale = minScale
        self.maxScale = maxScale
        self.maxHypotheses = maxHypotheses
        self.minMatches = minMatches
        self.seed = seed
        self.acceptFraction = acceptFraction
    }
}

/// One matched star: indices into the reference and frame lists.
public struct StarPair: Sendable, Codable, Equatable, Hashable {
    /// Index in the reference list.
    public var reference: Int
    /// Index in the frame list.
    public var frame: Int

    /// A pair of indices.
    public init(reference: Int, frame: Int) {
        self.reference = reference
        self.frame = frame
    }
}

/// Result of `matchAsterisms`.
public struct AsterismMatch: Sendable, Equatable {
    /// Least-squares similarity over all matched pairs, mapping reference -> frame coordinates
    /// (the direction `warp` takes as `outputToSource`).
    public var transform: SimilarityTransform
    /// Matched pairs (one-to-one), sorted by reference index.
    public var pairs: [StarPair]
    /// RMS distance (px) between transformed reference stars and their frame partners.
    public var residualRMS: Double
}

/// Matches two star lists by similar triangles, scores triangle hypotheses RANSAC-style by how many
/// stars they bring into coincidence, and refines the best by least squares (three rounds of
/// re-matching all stars within `matchRadius`). Any rotation (up to 180 degrees) is handled: the
/// triangle invariants do not depend on it. Mirror images are not matched (a similarity has no reflection).
///
/// - Throws: `AsterismMatchError` when a list has < 3 stars or fewer than `minMatches` pairs agree.
/// - Guarantees: deterministic for given inputs and `seed`.
public func matchAsterisms(reference: [SIMD2<Double>], frame: [SIMD2<Double>],
                           options: AsterismMatchOptions = AsterismMatchOptions()) throws -> AsterismMatch {
    guard reference.count >= 3, frame.count >= 3 else {
        throw AsterismMatchError.tooFewStars(reference: reference.count, frame: frame.count)
    }
    let refTop = Array(reference.prefix(options.triangleStars))
    let frameTop = Array(frame.prefix(options.triangleStars))
    let refTriangles = AsterismTriangles.build(refTop, neighbours: options.neighbours)
        .sorted { $0.shape.x != $1.shape.x ? $0.shape.x < $1.shape.x : $0.shape.y < $1.shape.y }
    let frameTriangles = AsterismTriangles.build(frameTop, neighbours: options.neighbours)
    let frameTopGrid = PointGrid(frameTop, radius: options.matchRadius)
    let frameGrid = PointGrid(frame, radius: options.matchRadius)

    // Candidate correspondences: frame triangles similar to reference triangles.
    var hypotheses: [(AsterismTriangles.Triangle, AsterismTriangles.Triangle)] = []
    let tol = options.shapeTolerance
    for ft in frameTriangles {
        var lo = 0, hi = refTriangles.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if refTriangles[mid].shape.x < ft.shape.x - tol { lo = mid + 1 } else { hi = mid }
        }
        var k = lo
        while k < refTriangles.count, refTriangles[k].shape.x <= ft.shape.x + tol {
            let rt = refTriangles[k]
            if abs(rt.shape.y - ft.shape.y) <= tol { hypotheses.append((rt, ft)) }
            k += 1
        }
    }
    if hypotheses.count > options.maxHypotheses {
        // Seeded partial Fisher-Yates shuffle: a deterministic sample.
        var rng = SplitMix64(seed: options.seed)
        for i in 0..<options.maxHypotheses {
            let j = i + Int(rng.next() % UInt64(hypotheses.count - i))
            hypotheses.swapAt(i, j)
        }
        hypotheses.removeLast(hypotheses.count - options.maxHypotheses)
    }

    // Score each hypothesis on the triangle stars. Only a count above the best so far matters, so
    // `PairCounter` stops a hypothesis as soon as it cannot exceed it (same choice as counting all).
    var best: (count: Int, transform: SimilarityTransform)? = nil
    var counter = AsterismTriangles.PairCounter(reference: refTop.count, frame: frameTop.count)
    let acceptAt = options.acceptFraction.map {
        max(options.minMatches, 3, Int(($0 * Double(min(refTop.count, frameTop.count))).rounded(.up)))
    }
    for (rt, ft) in hypotheses {
        let r = rt.vertices, f = ft.vertices
        let src = [refTop[r[0]], refTop[r[1]], refTop[r[2]]], dst = [frameTop[f[0]], frameTop[f[1]], frameTop[f[2]]]
        guard let t = try? SimilarityTransform.estimate(source: src, target: dst),
              t.scale >= options.minScale, t.scale <= options.maxScale,
              t.residualRMS(source: src, target: dst) <= options.matchRadius else { continue }
        let bound = best?.count ?? 2
        let n = counter.count(refTop, frameTopGrid, transform: t, exceeding: bound)
        if n > bound {
            best = (n, t)
            if let acceptAt, n >= acceptAt { break }
        }
    }
    guard var transform = best?.transform else {
        throw AsterismMatchError.notEnoughMatches(found: 0, required: options.minMatches)
    }

    // Refine on all stars.
    var pairs: [StarPair] = []
    for _ in 0..<3 {
        pairs = AsterismTriangles.pairs(reference, frameGrid, transform: transform)
        guard pairs.count >= 2,
              let t = try? SimilarityTransform.estimate(source: pairs.map { reference[$0.reference] },
                                                        target: pairs.map { frame[$0.frame] }) else { break }
        transform = t
    }
    pairs = AsterismTriangles.pairs(reference, frameGrid, transform: transform)
    guard pairs.count >= max(options.minMatches, 2) else {
        throw AsterismMatchError.notEnoughMatches(found: pairs.count, required: options.minMatches)
    }
    let rms = transform.residualRMS(source: pairs.map { reference[$0.reference] }, target: pairs.map { frame[$0.frame] })
    return AsterismMatch(transform: transform, pairs: pairs, residualRMS: rms)
}

/// Convenience: matches `detectStars` results by their (x, y) positions.
public func matchAsterisms(reference: [StarMeasurement], frame: [StarMeasurement],
                           options: AsterismMatchOptions = AsterismMatchOptions()) throws -> AsterismMatch {
    try matchAsterisms(reference: reference.map { SIMD2($0.x, $0.y) }, frame: frame.map { SIMD2($0.x, $0.y) },
                       options: options)
}

/// Triangle construction and pair matching for `matchAsterisms`.
enum AsterismTriangles {
    /// A triangle of star indices with vertices ordered by the length of the opposite side
    /// (shortest first), and its shape invariants (b/c, a/c) for sides a <= b <= c.
    struct Triangle {
        var vertices: SIMD3<Int>
        var shape: SIMD2<Double>
    }

    /// Triangles of each star with pairs of its `neighbours` nearest stars, deduplicated; very small
    /// (longest side < 5 px) triangles are skipped.
    static func build(_ pts: [SIMD2<Double>], neighbours: Int) -> [Triangle] {
        let n = pts.count
        var seen = Set<Int>()
        var out: [Triangle] = []
        var dist = [Double](repeating: 0, count: n)
        var list = [Int]()
        list.reserveCapacity(neighbours + 1)
        for i in pts.indices {
            // The `neighbours` nearest stars, ties to the lower index: a total order, so keeping the first
            // `neighbours` by insertion gives the sorted list's prefix; each distance computed once.
            for j in pts.indices { dist[j] = distance(pts[i], pts[j]) }
            list.removeAll(keepingCapacity: true)
            for j in pts.indices where j != i {
                let dj = dist[j]
                if list.count >= neighbours {
                    guard neighbours > 0 else { break }
                    let l = list[neighbours - 1]
                    guard dj < dist[l] || (dj == dist[l] && j < l) else { continue }
                    list.removeLast()
                }
                var at = list.count
                while at > 0, dj < dist[list[at - 1]] || (dj == dist[list[at - 1]] && j < list[at - 1]) { at -= 1 }
                list.insert(j, at: at)
            }
            for a in 0..<list.count {
                for b in (a + 1)..<max(a + 1, list.count) {
                    var p = i, q = list[a], r = list[b]
                    if p > q { swap(&p, &q) }
                    if q > r { swap(&q, &r) }
                    if p > q { swap(&p, &q) }
                    guard seen.insert((p &* n &+ q) &* n &+ r).inserted else { continue }
                    if let t = triangle(p, q, r, pts) { out.append(t) }
                }
            }
        }
        return out
    }

    static func distance(_ p: SIMD2<Double>, _ q: SIMD2<Double>) -> Double {
        let d = p - q
        return (d.x * d.x + d.y * d.y).squareRoot()
    }

    /// The triangle of stars p, q, r: vertices ordered by their opposite side, shortest first (ties
    /// to the earlier of p, q, r), or nil when it is very small or degenerate.
    static func triangle(_ p: Int, _ q: Int, _ r: Int, _ pts: [SIMD2<Double>]) -> Triangle? {
        // Side opposite vertex k joins the other two.
        let idx = SIMD3(p, q, r)
        let sides = SIMD3(distance(pts[q], pts[r]), distance(pts[r], pts[p]), distance(pts[p], pts[q]))
        func before(_ i: Int, _ j: Int) -> Bool { sides[i] != sides[j] ? sides[i] < sides[j] : i < j }
        var o0 = 0, o1 = 1, o2 = 2
        if before(o1, o0) { swap(&o0, &o1) }
        if before(o2, o1) { swap(&o1, &o2) }
        if before(o1, o0) { swap(&o0, &o1) }
        let a = sides[o0], b = sides[o1], c = sides[o2]
        guard c >= 5, a > 0 else { return nil }
        return Triangle(vertices: SIMD3(idx[o0], idx[o1], idx[o2]), shape: SIMD2(b / c, a / c))
    }

    /// One-to-one pairs: each transformed reference star with its nearest frame star within `radius`,
    /// keeping only mutual nearest neighbours. Sorted by reference index.
    static func pairs(_ ref: [SIMD2<Double>], _ frame: PointGrid, transform: SimilarityTransform) -> [StarPair] {
        var bestForFrame = [(ref: Int, d: Double)?](repeating: nil, count: frame.points.count)
        var bestForRef = [(frame: Int, d: Double)?](repeating: nil, count: ref.count)
        let (a, b) = transform.linear
        for (i, p) in ref.enumerated() {
            // `transform.apply(p)` with the linear part evaluated once.
            let q = SIMD2(a * p.x - b * p.y + transform.tx, b * p.x + a * p.y + transform.ty)
            guard let (bestJ, bestD) = frame.nearest(to: q) else { continue }
            bestForRef[i] = (bestJ, bestD)
            if let prev = bestForFrame[bestJ], prev.d < bestD || (prev.d == bestD && prev.ref < i) { continue }
            bestForFrame[bestJ] = (i, bestD)
        }
        var out: [StarPair] = []
        for (i, m) in bestForRef.enumerated() {
            if let m, bestForFrame[m.frame]?.ref == i { out.append(StarPair(reference: i, frame: m.frame)) }
        }
        return out
    }

    /// `pairs(...).count` for many transforms against the same lists, without allocating per call, that
    /// may stop early: once the reference stars left cannot lift the count above `bound` it returns a
    /// value <= `bound` (a hypothesis that cannot beat the best one so far needs no exact count).
    /// Whenever the exact count exceeds `bound` it returns that count.
    struct PairCounter {
        /// Per frame star: the reference star that claims it (-1: none) and its distance.
        private var claim: [Int]
        private var claimD: [Double]
        /// Per reference star: its nearest frame star (-1: none within the radius).
        private var nearest: [Int]

        init(reference: Int, frame: Int) {
            claim = [Int](repeating: -1, count: frame)
            claimD = [Double](repeating: 0, count: frame)
            nearest = [Int](repeating: -1, count: reference)
        }

        mutating func count(_ ref: [SIMD2<Double>], _ frame: PointGrid, transform: SimilarityTransform, exceeding bound: Int) -> Int {
            let (a, b) = transform.linear
            let tx = transform.tx, ty = transform.ty
            var hits = 0, used = 0
            var stopped = false
            for (i, p) in ref.enumerated() {
                used = i + 1
                nearest[i] = -1
                if let (j, d) = frame.nearest(to: SIMD2(a * p.x - b * p.y + tx, b * p.x + a * p.y + ty)) {
                    nearest[i] = j
                    hits += 1
                    // `pairs`' rule: an earlier reference star keeps the frame star unless strictly farther.
                    if claim[j] < 0 || claimD[j] > d { claim[j] = i; claimD[j] = d }
                }
                if hits + (ref.count - i - 1) <= bound { stopped = true; break }
            }
            var n = 0
            for i in 0..<used where nearest[i] >= 0 {
                let j = nearest[i]
                if claim[j] == i { n += 1 }
            }
            for i in 0..<used where nearest[i] >= 0 { claim[nearest[i]] = -1 }
            return stopped ? min(n, bound) : n
        }
    }
}
