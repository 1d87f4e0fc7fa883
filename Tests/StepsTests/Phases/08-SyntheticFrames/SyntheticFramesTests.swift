import Cache
import Foundation
import Graph
import Imaging
import Testing
import TestSupport
@testable import Steps

/// Phases 6-8 end to end on a synthetic series in a real workspace: registration is a stand-in that
/// copies each raw frame (no rotation, no jitter in the series), then the real phases 2-8.
@Suite("reconstruction, clustering and synthetic frames end to end", .serialized)
struct SyntheticFramesTests {
    static let frameCount = 36

    static func series(_ dir: TemporaryDirectory) throws -> FrameList {
        var sc = SynthConfig(width: 256, height: 192, frames: frameCount, seed: 33)
        sc.totalRotationDegrees = 0
        sc.jitterPixels = 0
        sc.starCount = 900
        sc.seeingRange = 2.0...5.0
        let series = try SynthSeries(sc)
        try series.write(to: dir.path + "/series", concurrency: 2)
        let frameList = try PipelineFixture.frameList(PipelineFixture.seriesPaths(dir.path + "/series", count: frameCount))
        try FileManager.default.createDirectory(atPath: dir.path + "/ws", withIntermediateDirectories: true)
        return frameList
    }

    static func config(_ clustering: TCConfig.Clustering) -> TCConfig {
        var c = TCConfig()
        c.data.framesMin = 10
        c.tile.sizeFactor = 10
        c.tile.minSize = 16
        c.tile.maxDivisor = 4
        c.registration.starThresholdSigma = 8
        c.synthetic.framesMin = 3
        c.synthetic.framesMax = 8
        c.synthetic.clustering = clustering
        return c
    }

    static func graph(_ frames: FrameList, _ config: TCConfig, workspace: String) throws -> (BuildGraph, [Materialization]) {
        var b = PipelineBuilder(config: config, frames: frames, workspace: workspace)
        b.addCopyRegistration()
        try b.addMetrics()
        try b.add(RejectionStep(), ReconstructionStep(), ClusteringStep(), SyntheticFramesStep())
        return (try b.graph(), b.materializations)
    }

    /// Median FWHM of the unsaturated, round stars of `image`.
    static func fwhm(_ image: Image) throws -> Double {
        let m = try Measure.measure(image, mode: .background, thresholdSigma: 8, saturation: nil, file: "test")
        let good = m.stars.filter { $0.ellipticity <= 0.4 }.map(\.fwhm)
        return try #require(Statistics.median(good))
    }

    @Test("k synthetic frames in range, each frame in one cluster, empty NN >= k, sharper than the classical mean")
    func endToEnd() throws {
        let dir = TemporaryDirectory("synthetic")
        let frames = try Self.series(dir)
        let ws = try Workspace(root: dir.path + "/ws", durable: false)
        let (g1, mats) = try Self.graph(frames, Self.config(.kmeans), workspace: dir.path + "/ws")
        let start = Date()
        let events = EventCollector()
        let r1 = try ws.run(g1, options: RunOptions(jobs: 2), command: "test", events: events)
        print("synthetic pipeline: \(Self.frameCount) frames 256x192, first run \(String(format: "%.2f", Date().timeIntervalSince(start))) s; "
              + "reconstruct \(String(format: "%.2f", events.seconds["reconstruct"] ?? -1)) s, synthetic/* "
              + "\(String(format: "%.2f", events.seconds.filter { $0.key.hasPrefix("synthetic/") }.values.reduce(0, +))) s, "
              + "clusters \(String(format: "%.3f", events.seconds["clusters"] ?? -1)) s")
        let reconLog = events.lines.filter { $0.node == "reconstruct" }.map(\.message)
        print("synthetic pipeline: reconstruct log: \(reconLog)")
        #expect(reconLog.contains { $0.hasPrefix("\(Self.frameCount) frames,") && $0.contains("tile tasks") })
        #expect(r1.succeeded, "failed: \(r1.failed)")
        #expect(mats.contains { $0.path == "reconstruction.fit" } && mats.contains { $0.path == "clusters.csv" })
        #expect(mats.contains { $0.path == "synthetic/syn_07.fits" })

        let clusters = try Artifacts.readJSON(FrameClusters.self, path: ws.path(of: try #require(r1.outputs["clusters"]?["clusters"])), node: "clusters")
        #expect((3...8).contains(clusters.k))
        #expect(clusters.frames.map(\.index) == Array(0..<Self.frameCount))
        #expect((0..<clusters.k).map { clusters.members($0).count }.reduce(0, +) == Self.frameCount)
        print("synthetic pipeline: \(clusters.method) k = \(clusters.k) (\(clusters.reason)); sizes \((0..<clusters.k).map { clusters.members($0).count })")
        var nonEmpty = 0
        for nn in 0..<8 {
            let path = ws.path(of: try #require(r1.outputs[NodeName.synthetic(nn)]?["frame"]))
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1
            if nn < clusters.k {
                #expect(size > 0)
                let syn = try FITS.read(path)
                #expect(syn.width == 256 && syn.height == 192)
                let finite = syn.pixels.filter(\.isFinite)
                // A pixel where `reject` flagged every frame of a small cluster has no value in that cluster's
                // frame (the final stack averages the other clusters there): rare, never more than 0.5 %.
                #expect(Double(finite.count) >= 0.995 * Double(syn.pixels.count))
                #expect(abs(Double(try #require(Statistics.median(finite))) - 1) < 0.1)  // normalized sky
                nonEmpty += 1
            } else {
                #expect(size == 0, "synthetic/\(nn) should be empty for k = \(clusters.k)")
            }
        }
        #expect(nonEmpty == clusters.k)

        // Reconstruction vs a classical (unweighted, NaN-aware) mean of the same frames.
        let recon = try FITS.read(ws.path(of: try #require(r1.outputs["reconstruct"]?["image"])))
        var sum = [Double](repeating: 0, count: 256 * 192), n = [Double](repeating: 0, count: 256 * 192)
        for f in frames.frames {
            let im = try FITS.read(f.path)
            for i in im.pixels.indices where im.pixels[i].isFinite { sum[i] += Double(im.pixels[i]); n[i] += 1 }
        }
        let classical = Image(width: 256, height: 192, pixels: sum.indices.map { n[$0] > 0 ? Float(sum[$0] / n[$0]) : .nan })
        let fr = try Self.fwhm(recon), fc = try Self.fwhm(classical)
        print("synthetic pipeline: FWHM reconstruction \(fr) px, classical mean \(fc) px (\(String(format: "%.1f", 100 * (fc - fr) / fc)) % better)")
        #expect(fr < fc)

        // Forcing time buckets reruns clusters and synthetic/*, not the reconstruction; k = round(sqrt(36)) = 6.
        let (g2, _) = try Self.graph(frames, Self.config(.timeBuckets), workspace: dir.path + "/ws")
        let r2 = try ws.run(g2, options: RunOptions(jobs: 2), command: "test")
        #expect(r2.succeeded)
        #expect(r2.executed.contains("clusters") && !r2.executed.contains("reconstruct"))
        let c2 = try Artifacts.readJSON(FrameClusters.self, path: ws.path(of: try #require(r2.outputs["clusters"]?["clusters"])), node: "clusters")
        #expect(c2.method == "time_buckets" && c2.k == 6 && c2.members(0) == Array(0..<6))
        for nn in 6..<8 {
            let path = ws.path(of: try #require(r2.outputs[NodeName.synthetic(nn)]?["frame"]))
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == 0)
        }
        try ws.close()
    }
}

/// Collects node timings and log lines of a run (thread-safe).
final class EventCollector: EventSink, @unchecked Sendable {
    private let lock = NSLock()
    private var _seconds: [String: Double] = [:]
    private var _lines: [(node: String, message: String)] = []
    var seconds: [String: Double] { lock.withLock { _seconds } }
    var lines: [(node: String, message: String)] { lock.withLock { _lines } }
    func emit(_ event: BuildEvent) {
        lock.withLock {
            switch event {
            case .nodeExecuted(let node, _, let s, _): _seconds[node] = s
            case .log(let node, let message): _lines.append((node, message))
            default: break
            }
        }
    }
}
