import Foundation
import Testing
import TestSupport
@testable import Steps

/// Phase 7: k-means, the k rule and the fallbacks.
@Suite("state clustering")
struct ClusteringTests {
    /// `groups` well separated blobs of `per` points in 5-D, seeded.
    static func blobs(groups: Int, per: Int, seed: UInt64, spread: Double = 0.05) -> [[Double]] {
        var rng = TestRNG(seed: seed)
        var pts: [[Double]] = []
        for g in 0..<groups {
            for _ in 0..<per {
                pts.append((0..<5).map { d in Double((g * 7 + d * 3) % 11) + spread * rng.normal() })
            }
        }
        return pts
    }

    static func section(min: Int, max: Int, _ method: TCConfig.Clustering = .kmeans, restarts: Int = 8) -> TCConfig.SyntheticSection {
        var s = TCConfig.SyntheticSection()
        s.framesMin = min
        s.framesMax = max
        s.clustering = method
        s.kmeansRestarts = restarts
        s.seed = 3
        return s
    }

    @Test("k-means is deterministic and recovers separated blobs")
    func deterministic() {
        let pts = Self.blobs(groups: 4, per: 10, seed: 1)
        let a = KMeans.best(pts, k: 4, restarts: 6, seed: 42)
        let b = KMeans.best(pts, k: 4, restarts: 6, seed: 42)
        #expect(a == b)
        #expect(Set(a.labels).count == 4)
        for g in 0..<4 { #expect(Set(a.labels[(g * 10)..<(g * 10 + 10)]).count == 1, "blob \(g) split") }
        #expect(a.labels[0] == 0)
    }

    @Test("best of restarts: the kept inertia is the minimum over the individual restarts")
    func bestOfRestarts() {
        let pts = Self.blobs(groups: 6, per: 5, seed: 2, spread: 0.8)
        let runs = (0..<10).map { KMeans.run(pts, k: 6, seed: KMeans.restartSeed(seed: 7, k: 6, restart: $0), restart: $0) }
        let best = KMeans.best(pts, k: 6, restarts: 10, seed: 7)
        let minimum = runs.map(\.inertia).min()!
        #expect(best.inertia == minimum)
        #expect(best.restart == runs.firstIndex { $0.inertia == minimum })
        #expect(Set(runs.map(\.inertia)).count > 1, "restarts should differ on overlapping blobs")
    }

    @Test("k rule: stops where one more cluster gains < 1 % of the total sum of squares; clipped to the frame count")
    func kRule() {
        let scan = [KInertia(k: 2, inertia: 100), KInertia(k: 3, inertia: 40), KInertia(k: 4, inertia: 10),
                    KInertia(k: 5, inertia: 9.8), KInertia(k: 6, inertia: 9.7)]
        #expect(Clustering.chooseK(scan, total: 100) == 4)
        #expect(Clustering.chooseK(scan, total: 4000) == 3)   // threshold 40: 100 -> 40 gains 60, 40 -> 10 gains 30 < 40
        #expect(Clustering.chooseK(Array(scan.prefix(3)), total: 100) == 4)
        #expect(Clustering.kRange(section: Self.section(min: 15, max: 30), frameCount: 10) == 10...10)
        #expect(Clustering.kRange(section: Self.section(min: 3, max: 30), frameCount: 12) == 3...12)
        // Four separated blobs of equal G (equal weight, so the weight balance does not split them)
        // with k allowed in 2...8: the rule finds 4.
        var pts = Self.blobs(groups: 4, per: 8, seed: 4)
        for i in pts.indices { pts[i][0] = 1 }
        let c = Clustering.cluster(state: pts, files: pts.indices.map { "f\($0)" }, section: Self.section(min: 2, max: 8))
        // The k scan on two threads gives the same clusters, scan and choice.
        #expect(Clustering.cluster(state: pts, files: pts.indices.map { "f\($0)" }, section: Self.section(min: 2, max: 8),
                                   threads: 2) == c)
        #expect(c.method == "kmeans" && c.k == 4)
        #expect(c.inertia.map(\.k) == Array(2...8))
        #expect(Set(c.frames.map(\.cluster)) == Set(0..<4))
    }

    @Test("weight-balanced k-means: a lone low-G outlier is not a cluster of its own; no cluster exceeds its share of G")
    func balanced() {
        // 30 clear frames (G ~ 1) and one cloud frame (G = 0.05, far away in B and sigma).
        var rng = TestRNG(seed: 11)
        var pts: [[Double]] = (0..<30).map { _ in [1 + 0.2 * rng.normal(), rng.normal(), rng.normal(), rng.normal(), rng.normal()] }
        pts.append([0.05, -4, 6, 12, 9])
        let g = pts.map { $0[0] }
        let z = Clustering.standardize(pts)
        // Plain k-means isolates the outlier: it alone would be 1/k of the final stack.
        let plain = KMeans.best(z, k: 4, restarts: 8, seed: 5)
        #expect(plain.labels.filter { $0 == plain.labels[30] }.count == 1)
        let a = KMeans.bestBalanced(z, mass: g, k: 4, restarts: 8, seed: 5)
        #expect(a == KMeans.bestBalanced(z, mass: g, k: 4, restarts: 8, seed: 5))
        #expect(Set(a.labels) == Set(0..<4))
        #expect(a.labels.filter { $0 == a.labels[30] }.count > 1)
        let capacity = (1 + KMeans.balanceSlack) * g.reduce(0, +) / 4
        let load = KMeans.clusterMass(labels: a.labels, mass: g, k: 4)
        for c in 0..<4 { #expect(load[c] <= capacity + 1e-9, "cluster \(c) carries \(load[c]) > \(capacity)") }
        // The node path uses it: the outlier is not alone there either.
        let c = Clustering.cluster(state: pts, files: pts.indices.map { "f\($0)" }, section: Self.section(min: 4, max: 4))
        #expect(c.k == 4 && c.frames.filter { $0.cluster == c.frames[30].cluster }.count > 1)
    }

    @Test("weight shares: mean over tiles of W / mean W; equal weights give 1; shares average to 1")
    func weightShares() {
        var w = TileWeights(frameCount: 3, tileCount: 2)
        #expect(Clustering.weightShares(w) == [1, 1, 1])
        // Tile 0: W = 1, 1, 4 (mean 2); tile 1: W = 2, 1, 0 (mean 1).
        for (f, v) in [Float(1), 1, 4].enumerated() { w.set(frame: f, tile: 0, q: 0, l: 1, w: v) }
        for (f, v) in [Float(2), 1, 0].enumerated() { w.set(frame: f, tile: 1, q: 0, l: 1, w: v) }
        let s = Clustering.weightShares(w)
        let expected: [Double] = [1.25, 0.75, 1.0]  // (1/2 + 2/1) / 2, (1/2 + 1/1) / 2, (4/2 + 0/1) / 2
        for f in 0..<3 { #expect(abs(s[f] - expected[f]) < 1e-12) }
        let meanShare = s.reduce(0.0, +) / 3
        #expect(abs(meanShare - 1) < 1e-12)
    }

    @Test("stable state falls back to quantiles of G, then to time buckets")
    func fallbacks() {
        // Stable: every component varies by < 0.1 %, G still takes distinct values.
        let stable = (0..<20).map { i in [1 + 1e-5 * Double(i), 0, 0, 500, 0.02] }
        #expect(Clustering.isStable(stable))
        let q = Clustering.cluster(state: stable, files: stable.indices.map { "f\($0)" }, section: Self.section(min: 4, max: 6))
        #expect(q.method == "quantile" && q.k == 4)   // round(sqrt(20)) = 4
        #expect(q.frames.map(\.cluster) == (0..<20).map { $0 / 5 })
        // Constant G: time buckets.
        let flat = (0..<9).map { _ in [1.0, 0, 0, 500, 0.02] }
        let t = Clustering.cluster(state: flat, files: flat.indices.map { "f\($0)" }, section: Self.section(min: 3, max: 5))
        #expect(t.method == "time_buckets" && t.k == 3)
        #expect(t.frames.map(\.cluster) == [0, 0, 0, 1, 1, 1, 2, 2, 2])
        // Not stable: k-means.
        #expect(!Clustering.isStable(Self.blobs(groups: 2, per: 4, seed: 3)))
    }

    @Test("forced quantile orders by G; forced time buckets by index; CSV has one row per frame")
    func forced() {
        let g = [3.0, 1.0, 2.0, 0.5, 4.0, 1.5]
        let state = g.map { [$0, 0.1, 0.2, 300, 0.01] }
        let files = g.indices.map { "f\($0).fits" }
        let q = Clustering.cluster(state: state, files: files, section: Self.section(min: 2, max: 2, .quantile))
        // Ascending G: 3 (0.5), 1 (1.0), 5 (1.5) | 2 (2.0), 0 (3.0), 4 (4.0); renumbered by first appearance.
        #expect(q.method == "quantile" && q.k == 2)
        #expect(q.frames.map(\.cluster) == [0, 1, 0, 1, 0, 1])
        let t = Clustering.cluster(state: state, files: files, section: Self.section(min: 3, max: 3, .timeBuckets))
        #expect(t.frames.map(\.cluster) == [0, 0, 1, 1, 2, 2])
        let lines = t.csv().split(separator: "\n")
        #expect(lines.count == 7 && lines[0].hasPrefix("frame,file,cluster,G,"))
        #expect(lines[5].hasPrefix("4,f4.fits,2,4.0,"))
        #expect(t.members(1) == [2, 3])
    }

    @Test("time buckets follow the observation times, not the file names; frames keep their indices")
    func timeBucketsFollowObservationTimes() {
        let state = (0..<6).map { _ in [1.0, 0, 0, 500, 0.02] }
        let files = state.indices.map { "f\($0).fits" }
        // Files named out of time order (e.g. a counter that wrapped): 4 and 5 were taken first.
        let times = [300.0, 400, 500, 600, 100, 200]
        #expect(Clustering.timeOrder(times, count: 6) == [4, 5, 0, 1, 2, 3])
        #expect(Clustering.timeOrder([1, 1, 0], count: 3) == [2, 0, 1])  // ties by index
        #expect(Clustering.timeOrder(nil, count: 3) == [0, 1, 2])
        let t = Clustering.cluster(state: state, files: files, section: Self.section(min: 3, max: 3, .timeBuckets), times: times)
        #expect(t.frames.map(\.index) == [0, 1, 2, 3, 4, 5])
        #expect(t.frames.map(\.cluster) == [1, 1, 2, 2, 0, 0])
        // Without times: file order.
        let byName = Clustering.cluster(state: state, files: files, section: Self.section(min: 3, max: 3, .timeBuckets))
        #expect(byName.frames.map(\.cluster) == [0, 0, 1, 1, 2, 2])
        // The node's params carry the times only when every frame has one.
        func info(_ i: Int, _ t: Double?) -> FrameInfo {
            FrameInfo(index: i, path: "/f\(i).fits", properties: FrameProperties(width: 8, height: 8, observationTime: t, observationTimeSource: t == nil ? nil : "MJD-OBS"))
        }
        #expect(ClusteringParams(config: TCConfig(), frames: FrameList(frames: [info(0, 20), info(1, 10)])).times == [20, 10])
        #expect(ClusteringParams(config: TCConfig(), frames: FrameList(frames: [info(0, 20), info(1, nil)])).times == nil)
    }
}
