import Cache
import Foundation
import Graph
import Imaging
import Testing
import TestSupport
@testable import Steps

/// `stack/classical`: the NaN-aware mean of registered frames, each divided by its B_f per channel.
@Suite("classical reference stack")
struct ClassicalStackTests {
    /// A frame of random values around `level` (per plane), with NaN in a frame-specific pattern.
    static func frame(width: Int, height: Int, channels: Int, index: Int, levels: [Float], rng: inout TestRNG) -> Image {
        var img = Image(width: width, height: height, channels: channels)
        let n = width * height
        for c in 0..<channels {
            for i in 0..<n {
                img.pixels[c * n + i] = levels[c] * Float(0.5 + rng.uniform())
            }
        }
        // Coverage holes: frame k misses column k and, in plane 0, pixel (1, 1) for k odd.
        for y in 0..<height { for c in 0..<channels { img.pixels[c * n + y * width + index] = .nan } }
        if index % 2 == 1 { img.pixels[1 * width + 1] = .nan }
        return img
    }

    static func measurement(_ backgrounds: [Double], width: Int, height: Int) -> FrameMeasurement {
        FrameMeasurement(width: width, height: height,
                         channels: backgrounds.map { ChannelMeasurement(background: $0, noise: 0.01, gradient: 0) },
                         coverage: 1, starCount: 0, fwhm: nil, stars: [])
    }

    /// The expected classical mean, computed independently (per pixel, frames in order, Double).
    static func expected(_ frames: [Image], _ backgrounds: [[Double]]) -> [Float] {
        let n = frames[0].pixels.count, plane = frames[0].planeSize
        return (0..<n).map { i in
            var s = 0.0, k = 0
            for (f, img) in frames.enumerated() where img.pixels[i].isFinite {
                s += Double(img.pixels[i]) / backgrounds[f][i / plane]
                k += 1
            }
            return k == 0 ? .nan : Float(s / Double(k))
        }
    }

    static func bitsEqual(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
    }

    @Test("mono and RGB: exact NaN-aware mean of I/B_f, NaN where no frame covers, same bits for any band size",
          arguments: [1, 3])
    func exactMean(channels: Int) throws {
        let dir = TemporaryDirectory("classical")
        var rng = TestRNG(seed: 7)
        let w = 9, h = 7, count = 4
        var frames: [Image] = [], bgs: [[Double]] = []
        var list: [(path: String, measurement: FrameNormalization, name: String)] = []
        for k in 0..<count {
            let levels: [Float] = (0..<channels).map { Float(100 + 40 * k + 10 * $0) }
            let img = Self.frame(width: w, height: h, channels: channels, index: k, levels: levels, rng: &rng)
            let path = dir.file("reg_\(k).fit")
            try FITS.write(img, to: path)
            let b = levels.map { Double($0) * 0.97 }
            frames.append(img); bgs.append(b)
            list.append((path, Self.measurement(b, width: w, height: h).normalization, "frame_\(k).fits"))
        }
        let image = try ClassicalStack.mean(frames: list)
        let want = Self.expected(frames, bgs)
        #expect(image.width == w && image.height == h && image.channels == channels)
        #expect(Self.bitsEqual(image.pixels, want))
        // The mean is in normalized units: near 1 / 0.97 * E[0.5 + U] ~ 1.03.
        let finite = image.pixels.filter(\.isFinite)
        let mean = finite.reduce(0, +) / Float(finite.count)
        #expect(abs(mean - 1.031) < 0.08, "mean \(mean)")
        // Pixel (1, 1) of plane 0: frames 0 and 2 only (1 and 3 are NaN there).
        let expect11 = Float((Double(frames[0][1, 1]) / bgs[0][0] + Double(frames[2][1, 1]) / bgs[2][0]) / 2)
        #expect(image[1, 1] == expect11)

        // Banding does not change a bit: 1-row bands against one band.
        let inputs = list.map { MeanInput(path: $0.path, divisors: $0.measurement.channels.map(\.background), name: $0.name) }
        let banded = try StreamingMean.average(inputs, width: w, height: h, channels: channels, bandBytes: 1, node: "t")
        #expect(Self.bitsEqual(banded.image.pixels, image.pixels))
    }

    @Test("a pixel no frame covers stays NaN; a measurement with the wrong channel count is refused")
    func uncoveredAndMismatch() throws {
        let dir = TemporaryDirectory("classical-nan")
        var a = Image(width: 4, height: 3, fill: 2), b = Image(width: 4, height: 3, fill: 6)
        a.pixels[5] = .nan; b.pixels[5] = .nan
        try FITS.write(a, to: dir.file("a.fit")); try FITS.write(b, to: dir.file("b.fit"))
        let m = Self.measurement([2], width: 4, height: 3).normalization
        let img = try ClassicalStack.mean(frames: [(dir.file("a.fit"), m, "a"), (dir.file("b.fit"), m, "b")])
        #expect(img.pixels[5].isNaN)
        #expect(img.pixels[0] == 2)  // (2/2 + 6/2) / 2
        let rgb = Self.measurement([2, 2, 2], width: 4, height: 3).normalization
        #expect(throws: StepError.self) { try ClassicalStack.mean(frames: [(dir.file("a.fit"), rgb, "a")]) }
    }

    @Test("stack/classical as a node: reads register and measure artifacts, materializes classical.fit")
    func node() throws {
        let dir = TemporaryDirectory("classical-node")
        var rng = TestRNG(seed: 3)
        var infos: [FrameInfo] = [], frames: [Image] = [], bgs: [[Double]] = []
        for k in 0..<3 {
            let img = Self.frame(width: 8, height: 6, channels: 1, index: k, levels: [Float(50 * (k + 1))], rng: &rng)
            let path = dir.file("raw/frame_\(k).fit")
            try FileManager.default.createDirectory(atPath: dir.file("raw"), withIntermediateDirectories: true)
            try FITS.write(img, to: path)
            frames.append(img); bgs.append([Double(50 * (k + 1))])
            infos.append(FrameInfo(index: k, path: path, properties: FrameProperties(width: 8, height: 6, bitpix: -32)))
        }
        try FileManager.default.createDirectory(atPath: dir.file("ws"), withIntermediateDirectories: true)
        // The mean itself is under test here (RejectionTests covers the masks): no rejection.
        var config = TCConfig()
        config.reconstruction.rejection = .none
        var b = PipelineBuilder(config: config, frames: FrameList(frames: infos), workspace: dir.file("ws"))
        for (k, f) in infos.enumerated() {
            let bg = bgs[k][0]
            b.add(Node(name: NodeName.frame("register", k), kind: "test.copy", version: 1, params: EmptyParams(),
                       inputs: ["raw": .file(f.path)], outputs: ["frame"]) { ctx in
                try Artifacts.writeImage(try FITS.read(try ctx.input("raw")), ctx, "frame")
            })
            b.add(Node(name: NodeName.frame("measure", k), kind: "test.measure", version: 1, params: ["b": bg],
                       outputs: ["measure"]) { ctx in
                try Artifacts.writeJSON(Self.measurement([bg], width: 8, height: 6), ctx, "measure")
            })
        }
        try b.add(RejectionStep(), ClassicalStackStep())
        #expect(b.materializations.contains(Materialization(node: "stack/classical", output: "image", path: "classical.fit")))
        let ws = try Workspace(root: dir.file("ws"), durable: false)
        let r = try ws.run(try b.graph(), options: RunOptions(jobs: 2), command: "test")
        #expect(r.succeeded, "failed: \(r.failed)")
        let out = try FITS.read(ws.path(of: try #require(r.outputs["stack/classical"]?["image"])))
        #expect(Self.bitsEqual(out.pixels, Self.expected(frames, bgs)))
        try ws.close()
    }
}
