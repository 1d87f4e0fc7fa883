import Cache
import Foundation
import Graph
import Imaging
import Testing
import TestSupport
@testable import Steps

/// Phase 9: `stack` averages the non-empty `synthetic/NN#frame` artifacts (native or siril engine).
@Suite("final stack (phase 9)", .serialized)
struct StackingTests {
    /// Synthetic frames with values above 1 (siril clips floats to [0, 1]) and a few NaN.
    static func synthetic(_ k: Int, width: Int, height: Int, channels: Int, nan: Bool) -> Image {
        var rng = TestRNG(seed: UInt64(100 + k))
        var img = Image(width: width, height: height, channels: channels)
        for i in 0..<img.pixels.count { img.pixels[i] = Float(0.8 + 0.4 * rng.uniform()) }
        img.pixels[width + 2] += 6 + Float(k)  // a "star" well above 1
        if nan { img.pixels[(k % height) * width + (k % width)] = .nan }
        return img
    }

    /// Per-pixel mean of the finite values, frames in order, Double, rounded once.
    static func mean(_ frames: [Image]) -> [Float] {
        (0..<frames[0].pixels.count).map { i in
            var s = 0.0, k = 0
            for f in frames where f.pixels[i].isFinite { s += Double(f.pixels[i]); k += 1 }
            return k == 0 ? .nan : Float(s / Double(k))
        }
    }

    /// A graph of stand-in `synthetic/NN` nodes (frames for `present`, zero-byte files for the rest of
    /// 0 ..< framesMax) and the `stack` node.
    static func graph(_ frames: [Int: Image], framesMax: Int, engine: TCConfig.StackingEngine,
                      workspace: String) throws -> (BuildGraph, PipelineBuilder) {
        var config = TCConfig()
        config.synthetic.framesMax = framesMax
        config.synthetic.framesMin = 1
        config.stacking.engine = engine
        var b = PipelineBuilder(config: config, frames: FrameList(frames: []), workspace: workspace)
        for k in 0..<framesMax {
            let img = frames[k]
            b.add(Node(name: NodeName.synthetic(k), kind: "test.synthetic", version: 1, params: ["k": k, "present": img == nil ? 0 : 1],
                       outputs: ["frame"]) { ctx in
                if let img { try Artifacts.writeImage(img, ctx, "frame") } else { try ctx.writeOutput("frame", Data()) }
            })
        }
        try b.add(StackingStep())
        return (try b.graph(), b)
    }

    @Test("native: exact NaN-aware average of the non-empty synthetic frames; zero-byte ones are skipped",
          arguments: [1, 3])
    func native(channels: Int) throws {
        let dir = TemporaryDirectory("stack-native")
        let present = [0, 2, 3]
        var frames: [Int: Image] = [:]
        for k in present { frames[k] = Self.synthetic(k, width: 10, height: 6, channels: channels, nan: true) }
        // A pixel NaN in every frame stays NaN.
        for k in present { frames[k]!.pixels[59] = .nan }
        let (g, b) = try Self.graph(frames, framesMax: 5, engine: .native, workspace: dir.path)
        #expect(b.materializations == [Materialization(node: "stack", output: "image", path: "stacked.fit")])
        let ws = try Workspace(root: dir.path, durable: false)
        let r = try ws.run(g, options: RunOptions(jobs: 2), command: "test")
        #expect(r.succeeded, "failed: \(r.failed)")
        let out = try FITS.read(ws.path(of: try #require(r.outputs["stack"]?["image"])))
        let want = Self.mean(present.map { frames[$0]! })
        #expect(out.channels == channels && out.width == 10 && out.height == 6)
        #expect(ClassicalStackTests.bitsEqual(out.pixels, want))
        #expect(out.pixels[59].isNaN)
        let header = try FITS.readHeader(ws.path(of: try #require(r.outputs["stack"]?["image"])))
        #expect(header.keywords["NSYNTH"]?.intValue == 3)
        try ws.close()
    }

    @Test("stacking.weights inverse_variance: weights 1 / pixel noise^2, the result's noise is the inverse-variance mean's")
    func inverseVarianceWeights() throws {
        let dir = TemporaryDirectory("stack-ivar")
        // Three flat synthetic frames of noise 0.01, 0.02, 0.04 (same sky 1): weights 16 : 4 : 1.
        var rng = TestRNG(seed: 9)
        var paths: [String] = []
        for (k, sigma) in [0.01, 0.02, 0.04].enumerated() {
            var im = Image(width: 128, height: 96, fill: 1)
            for i in im.pixels.indices { im.pixels[i] += Float(sigma * rng.normal()) }
            let path = dir.file("syn_\(k).fits")
            try FITS.write(im, to: path)
            paths.append(path)
        }
        let (weighted, log) = try Stacking.stack(paths, engine: .native, weights: .inverseVariance)
        let (equal, _) = try Stacking.stack(paths, engine: .native, weights: .equal)
        func noise(_ im: Image) -> Double { Measure.pixelNoise(im, plane: 0)! }
        // Predicted: equal (0.01^2 + 0.02^2 + 0.04^2)^0.5 / 3 = 0.0153; inverse variance 1 / sqrt(1/0.01^2 + 1/0.02^2 + 1/0.04^2) = 0.00873.
        #expect(abs(noise(equal) / 0.01528 - 1) < 0.05, "\(noise(equal))")
        #expect(abs(noise(weighted) / 0.00873 - 1) < 0.05, "\(noise(weighted))")
        #expect(log.first == "native inverse-variance average of 3 synthetic frames")
        #expect(log.count == 4 && log[1].contains("weight 2.2") && log[3].contains("weight 0.14"), "\(log)")
    }

    @Test("no synthetic frame at all: the stack node fails with a message naming the clusters")
    func allEmpty() throws {
        let dir = TemporaryDirectory("stack-empty")
        let (g, _) = try Self.graph([:], framesMax: 2, engine: .native, workspace: dir.path)
        let ws = try Workspace(root: dir.path, durable: false)
        let r = try ws.run(g, options: RunOptions(jobs: 1), command: "test")
        let message = try #require(r.failed["stack"])
        #expect(message.contains("no synthetic frame"))
        try ws.close()
    }

    @Test("siril engine equals the native average within float tolerance (mono and RGB, values > 1, NaN)",
          arguments: [1, 3])
    func siril(channels: Int) throws {
        #expect(ExternalTool.find("siril-cli") != nil, "siril-cli must be installed (apt-get install siril)")
        let dir = TemporaryDirectory("stack-siril")
        var paths: [String] = [], frames: [Image] = []
        for k in 0..<4 {
            let img = Self.synthetic(k, width: 24, height: 16, channels: channels, nan: k == 1)
            let p = dir.file("syn_\(k).fits")
            try FITS.write(img, to: p)
            paths.append(p); frames.append(img)
        }
        let (image, log) = try Stacking.sirilAverage(paths)
        let native = try Stacking.nativeAverage(paths).image
        #expect(image.width == 24 && image.height == 16 && image.channels == channels)
        var maxDiff: Float = 0
        for i in 0..<image.pixels.count { maxDiff = max(maxDiff, abs(image.pixels[i] - native.pixels[i])) }
        print("siril stack (\(channels) planes): max |siril - native| = \(maxDiff); \(log.joined(separator: "; "))")
        #expect(maxDiff <= 2e-6 * 8, "siril differs from native by \(maxDiff)")
        // Values above 1 survived (siril clips at 1 without the power-of-two scaling).
        #expect(image[2, 1] > 6)
        // The NaN pixel of frame 1 is the mean of the 3 other frames, not a mean with a zero.
        let want = Self.mean(frames)
        let i = 1 * 24 + 1
        #expect(image.pixels[i] == want[i])
        #expect(log.contains { $0.contains("from siril") })
    }

    @Test("stacking.engine: siril through the stack node: same image as native within tolerance, engine in the header")
    func sirilNode() throws {
        let dir = TemporaryDirectory("stack-siril-node")
        var frames: [Int: Image] = [:]
        for k in [0, 1, 3] { frames[k] = Self.synthetic(k, width: 12, height: 8, channels: 1, nan: false) }
        let (g, _) = try Self.graph(frames, framesMax: 4, engine: .siril, workspace: dir.path)
        let ws = try Workspace(root: dir.path, durable: false)
        let r = try ws.run(g, options: RunOptions(jobs: 1), command: "test")
        #expect(r.succeeded, "failed: \(r.failed)")
        let path = ws.path(of: try #require(r.outputs["stack"]?["image"]))
        let out = try FITS.read(path)
        let want = Self.mean([0, 1, 3].map { frames[$0]! })
        #expect(zip(out.pixels, want).allSatisfy { abs($0 - $1) <= 1e-5 })
        #expect(try FITS.readHeader(path).keywords["STACKENG"]?.stringValue == "siril")
        try ws.close()
    }

    @Test("the siril scale is the smallest power of two bringing the maximum to <= 1")
    func sirilScale() {
        #expect(Stacking.sirilScale(maxAbs: 0.7) == 1)
        #expect(Stacking.sirilScale(maxAbs: 1) == 1)
        #expect(Stacking.sirilScale(maxAbs: 1.01) == 2)
        #expect(Stacking.sirilScale(maxAbs: 9) == 16)
        #expect(Stacking.sirilScale(maxAbs: .nan) == 1)
        #expect(Stacking.sirilScript(threads: 2).hasPrefix("requires 1.0.0\n"))
        #expect(Stacking.sirilScript(threads: 2).contains("stack syn rej n -nonorm -out=result"))
    }
}
