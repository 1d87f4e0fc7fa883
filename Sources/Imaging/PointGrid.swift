/// A uniform grid over a fixed set of points for nearest-neighbour queries within a radius: built
/// once (flat arrays, no hashing), queried many times (asterism matching scores hundreds of
/// transform hypotheses against the same frame stars).
///
/// Cells are at least `radius` wide, so every point within `radius` of a query lies in the query's
/// cell or one of its 8 neighbours; cells grow with the points' spread so the grid holds about one
/// cell per point however large the frame is.
struct PointGrid {
    /// The points, in their original order (indices returned by queries refer to it).
    let points: [SIMD2<Double>]
    /// The radius the grid was built for.
    let radius: Double
    private let cell: Double
    private let minX: Double, minY: Double
    private let nx: Int, ny: Int
    /// Cell c holds `items[start[c]..<start[c + 1]]`, point indices in ascending order.
    private let start: [Int32]
    private let items: [Int32]

    /// A grid over `points` for queries within `radius`.
    init(_ points: [SIMD2<Double>], radius: Double) {
        self.points = points
        self.radius = radius
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        let lo = finite.reduce(SIMD2<Double>(repeating: .infinity)) { pointwiseMin($0, $1) }
        let hi = finite.reduce(SIMD2<Double>(repeating: -.infinity)) { pointwiseMax($0, $1) }
        let span = finite.isEmpty ? SIMD2<Double>(1, 1) : pointwiseMax(hi - lo, SIMD2(1, 1))
        cell = max(radius, 1, (span.x * span.y / Double(max(finite.count, 1))).squareRoot())
        minX = finite.isEmpty ? 0 : lo.x
        minY = finite.isEmpty ? 0 : lo.y
        nx = Int((span.x / cell).rounded(.down)) + 1
        ny = Int((span.y / cell).rounded(.down)) + 1
        var counts = [Int32](repeating: 0, count: nx * ny + 1)
        var cellOf = [Int](repeating: -1, count: points.count)
        for (j, p) in points.enumerated() where p.x.isFinite && p.y.isFinite {
            let c = Int(((p.y - minY) / cell).rounded(.down)) * nx + Int(((p.x - minX) / cell).rounded(.down))
            cellOf[j] = c
            counts[c + 1] += 1
        }
        for c in 0..<(nx * ny) { counts[c + 1] += counts[c] }
        var fill = counts
        var items = [Int32](repeating: 0, count: Int(counts[nx * ny]))
        for (j, c) in cellOf.enumerated() where c >= 0 {
            items[Int(fill[c])] = Int32(j)
            fill[c] += 1
        }
        start = counts
        self.items = items
    }

    /// The index of the point nearest to `q` with distance < `radius` (ties: the lower index) and its
    /// distance, or nil.
    func nearest(to q: SIMD2<Double>) -> (index: Int, distance: Double)? {
        guard q.x.isFinite, q.y.isFinite else { return nil }
        let fx = ((q.x - minX) / cell).rounded(.down), fy = ((q.y - minY) / cell).rounded(.down)
        guard fx >= -1, fx <= Double(nx), fy >= -1, fy <= Double(ny) else { return nil }
        let gx = Int(fx), gy = Int(fy)
        var bestJ = -1, bestD = radius
        for cy in max(gy - 1, 0)...min(gy + 1, ny - 1) {
            for cx in max(gx - 1, 0)...min(gx + 1, nx - 1) {
                let c = cy * nx + cx
                for k in Int(start[c])..<Int(start[c + 1]) {
                    let j = Int(items[k])
                    let d = AsterismTriangles.distance(q, points[j])
                    if d < bestD || (d == bestD && j < bestJ) { bestD = d; bestJ = j }
                }
            }
        }
        return bestJ >= 0 ? (bestJ, bestD) : nil
    }
}
