import Foundation

/// The Lloyd loop shared by `KMeans.run` and `KMeans.runBalanced`, on flat buffers, with the cycle of
/// label vectors detected instead of iterated.
///
/// The loop: `L_1 = assign(initial centres)`, then `L_(t+1) = assign(update(L_t))` until a label
/// vector repeats the previous one (converged) or `maxIterations` assignments ran; the result is the
/// last labels `L_T` and the inertia about `update(L_T)`. `update` depends on the labels only (an empty
/// cluster's previous centre is always replaced by the farthest point, which is measured from non-empty
/// clusters' means), so `L_(t+1)` is a function of `L_t`: once some `L_t` equals an earlier `L_s`
/// (s < t - 1, a cycle of period p = t - s >= 2 that the loop would follow to the end), `L_T` is
/// `L_(s + (T - s) mod p)` with T = `maxIterations`. Balanced assignments cycle often (the greedy
/// capacity rule can trade two points back and forth): without this, most runs took all 200 rounds.
///
/// Balanced runs often do not settle at all within the 200 rounds (40-70 of 120 frames change cluster each
/// round on the demo series), so the cost is mostly per round: each round computes the whole point x
/// centre matrix of squared distances first, two centres per vector step (`distances`), and the
/// assignment only scans it. Same arithmetic as the nested-array code it replaces, in the same order
/// (each squared distance summed over the dimensions in order, sums of the members in point order, then
/// divided by the count), so the labels and the inertia are identical bit for bit.
struct LloydSpace {
    /// Points.
    let n: Int
    /// Dimensions.
    let dim: Int
    /// `n * dim` coordinates, point-major.
    let points: [Double]

    init(_ points: [[Double]]) {
        n = points.count
        dim = points.first?.count ?? 0
        self.points = points.flatMap { $0 }
    }

    /// Squared distance of point `i` to the `dim` values at `c`.
    @inline(__always)
    func dist2(_ p: UnsafePointer<Double>, _ i: Int, _ c: UnsafePointer<Double>) -> Double {
        let a = p + i &* dim
        var s = 0.0
        for d in 0..<dim { let x = a[d] - c[d]; s += x * x }
        return s
    }

    /// `KMeans.update` on flat centres (`k * dim`): the means of the members; an empty cluster takes the
    /// point farthest from its own cluster's centre.
    func update(labels: [Int], k: Int, centres: inout [Double]) {
        var sums = [Double](repeating: 0, count: k * dim)
        var counts = [Int](repeating: 0, count: k)
        points.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            for i in 0..<n {
                let l = labels[i]
                counts[l] += 1
                for d in 0..<dim { sums[l * dim + d] += p[i * dim + d] }
            }
            for j in 0..<k where counts[j] > 0 {
                for d in 0..<dim { centres[j * dim + d] = sums[j * dim + d] / Double(counts[j]) }
            }
            guard counts.contains(0) else { return }
            // Every empty cluster gets the same farthest point (distances to non-empty clusters only).
            let far = centres.withUnsafeBufferPointer { cb in
                let c = cb.baseAddress!
                var far = 0, fd = -1.0
                for i in 0..<n {
                    let d = dist2(p, i, c + labels[i] * dim)
                    if d > fd { fd = d; far = i }
                }
                return far
            }
            for j in 0..<k where counts[j] == 0 {
                for d in 0..<dim { centres[j * dim + d] = p[far * dim + d] }
            }
        }
    }

    /// Sum over the points of the squared distance to their centre, in point order.
    func inertia(labels: [Int], centres: [Double]) -> Double {
        points.withUnsafeBufferPointer { pb in
            centres.withUnsafeBufferPointer { cb in
                var s = 0.0
                for i in 0..<n { s += dist2(pb.baseAddress!, i, cb.baseAddress! + labels[i] * dim) }
                return s
            }
        }
    }

    /// The squared distances of every point to every centre, `d[i * stride + j]` (`stride` = k rounded up
    /// to even; the padding lanes are NaN), two centres per vector step over the centres transposed
    /// (`ct[d * stride + j]`): each lane sums its dimensions in order, the same arithmetic as `dist2`.
    func distances(_ p: UnsafePointer<Double>, _ ct: UnsafePointer<Double>, stride: Int, into out: UnsafeMutablePointer<Double>) {
        for i in 0..<n {
            let a = p + i &* dim, row = out + i &* stride
            // Dimension by dimension over the whole row: each lane still sums its dimensions in order.
            guard dim > 0 else { row.update(repeating: 0, count: stride); continue }
            for j in Swift.stride(from: 0, to: stride, by: 2) {
                let x = SIMD2<Double>(repeating: a[0]) - UnsafeRawPointer(ct + j).loadUnaligned(as: SIMD2<Double>.self)
                UnsafeMutableRawPointer(row + j).storeBytes(of: x * x, as: SIMD2<Double>.self)
            }
            for d in 1..<max(1, dim) {
                let ad = SIMD2<Double>(repeating: a[d]), c = ct + d &* stride
                for j in Swift.stride(from: 0, to: stride, by: 2) {
                    let x = ad - UnsafeRawPointer(c + j).loadUnaligned(as: SIMD2<Double>.self)
                    let acc = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD2<Double>.self)
                    UnsafeMutableRawPointer(row + j).storeBytes(of: acc + x * x, as: SIMD2<Double>.self)
                }
            }
        }
    }

    /// Runs the loop from `initial` centres (`k` rows); `assign(d, stride, labels)` writes the labels from
    /// the squared distances `d[i * stride + j]` of point i to centre j (`distances`). Returns the final
    /// labels (not renumbered) and inertia.
    func run(initial: [[Double]], k: Int, maxIterations: Int,
             assign: (UnsafePointer<Double>, Int, UnsafeMutablePointer<Int>) -> Void) -> (labels: [Int], inertia: Double) {
        var centres = initial.flatMap { $0 }
        let stride = (k + 1) / 2 * 2
        var transposed = [Double](repeating: .nan, count: dim * stride)
        var dist = [Double](repeating: .nan, count: n * stride)
        var labels = [Int](repeating: -1, count: n)
        var next = labels
        var history: [[Int]] = []            // history[t - 1] = L_t
        var seen: [UInt64: [Int]] = [:]       // hash of L_t -> every such t
        var t = 0
        while t < maxIterations {
            for j in 0..<k { for d in 0..<dim { transposed[d * stride + j] = centres[j * dim + d] } }
            points.withUnsafeBufferPointer { pb in
                transposed.withUnsafeBufferPointer { cb in
                    dist.withUnsafeMutableBufferPointer { distances(pb.baseAddress!, cb.baseAddress!, stride: stride, into: $0.baseAddress!) }
                }
            }
            dist.withUnsafeBufferPointer { d in next.withUnsafeMutableBufferPointer { assign(d.baseAddress!, stride, $0.baseAddress!) } }
            if next == labels { break }
            labels = next
            t += 1
            let key = Self.hash(labels)
            if let s = seen[key]?.first(where: { history[$0 - 1] == labels }) {
                // s < t - 1 (the previous one differed): L_(s + j) = L_(t + j) from here on.
                let p = t - s
                labels = history[s + (maxIterations - s) % p - 1]
                update(labels: labels, k: k, centres: &centres)
                break
            }
            seen[key, default: []].append(t)
            history.append(labels)
            update(labels: labels, k: k, centres: &centres)
        }
        return (labels, inertia(labels: labels, centres: centres))
    }

    /// A 64-bit hash of a label vector (multiply-xor per label), for the cycle lookup; equal hashes are
    /// confirmed by comparing the vectors.
    static func hash(_ labels: [Int]) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        for l in labels { h = (h ^ UInt64(bitPattern: Int64(l))) &* 0x100_0000_01B3 }
        return h
    }
}
