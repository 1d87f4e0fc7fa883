import Cache
import Foundation
import Graph
import Imaging
import Testing
import TestSupport
@testable import Steps

/// Phase 10 on constructed images: star fields whose FWHM, noise, scale and seams are known.
@Suite("validation (phase 10)")
struct ValidationTests {
    static let width = 192, height = 160

    /// The same star positions and fluxes for every image (seed 5): a jittered 24 px lattice, fluxes
    /// 3 ... 30 in units of the sky (1.0); Gaussian PSF of `fwhm`; Gaussian noise `noise` (seed `noiseSeed`).
    static func starField(fwhm: Double, noise: Double, noiseSeed: UInt64, scale: Float = 1,
                          offset: ((Int, Int) -> Float)? = nil) -> Image {
        var img = Image(width: width, height: height, fill: 1)
        var layout = TestRNG(seed: 5)
        let sigma = fwhm / 2.3548
        for gy in stride(from: 16, to: height - 12, by: 24) {
            for gx in stride(from: 16, to: width - 12, by: 24) {
                let cx = Double(gx) + 6 * (layout.uniform() - 0.5), cy = Double(gy) + 6 * (layout.uniform() - 0.5)
                let flux = 3 + 27 * layout.uniform()
                let peak = flux / (2 * .pi * sigma * sigma)
                let r = Int((4 * sigma).rounded(.up))
                for y in max(0, Int(cy) - r)...min(height - 1, Int(cy) + r) {
                    for x in max(0, Int(cx) - r)...min(width - 1, Int(cx) + r) {
                        let d2 = (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)
                        img.pixels[y * width + x] += Float(peak * exp(-d2 / (2 * sigma * sigma)))
                    }
                }
            }
        }
        var rng = TestRNG(seed: noiseSeed)
        for i in 0..<img.pixels.count {
            let g = (-2 * log(rng.uniform())).squareRoot() * cos(2 * .pi * rng.uniform())  // Box-Muller
            img.pixels[i] += Float(noise * g)
            if let offset { img.pixels[i] += offset(i % width, i / width) }
            img.pixels[i] *= scale
        }
        return img
    }

    static let grid = TileGeometry.grid(width: width, height: height, size: 48, overlapFraction: 0.25, fwhm: 3, starsUsed: 0)

    /// Weights for `frames` frames: frame f has W = 0.5 (f + 1) in every tile (3 frames: relative 0.5, 1, 1.5, variance 1/6).
    static func weights(frames: Int) -> TileWeights {
        var w = TileWeights(frameCount: frames, tileCount: grid.tiles.count)
        for t in 0..<grid.tiles.count {
            for f in 0..<frames { w.set(frame: f, tile: t, q: 0, l: 1, w: 0.5 * Float(f + 1)) }
        }
        return w
    }

    @Test("a sharper stack passes the FWHM check; a blurrier one fails; flux ratio ~1 for equal fluxes")
    func fwhm() throws {
        let classical = Self.starField(fwhm: 3.6, noise: 0.01, noiseSeed: 1)
        let sharp = Self.starField(fwhm: 2.9, noise: 0.01, noiseSeed: 2)
        let median = try #require(Validation.medianStarFWHM(classical))
        #expect(abs(median - 3.6) < 0.2, "median FWHM \(median)")
        let c = Validation.compareFWHM(stack: sharp, classical: classical)
        print("validation: matched \(c.matched) stars, FWHM \(c.stackMedian ?? .nan) vs \(c.classicalMedian ?? .nan), "
              + "improvement \(c.improvementPercent ?? .nan) %, flux ratio \(c.fluxRatio ?? .nan)")
        #expect(c.matched >= 30)
        let improvement = try #require(c.improvementPercent)
        #expect(abs(improvement - 100 * (3.6 - 2.9) / 3.6) < 4)
        #expect(abs(try #require(c.fluxRatio) - 1) < 0.05)

        let pass = Validation.evaluate(stack: sharp, classical: classical, grid: Self.grid, weights: Self.weights(frames: 3),
                                       validation: .init(), limits: .init(), abortOnFail: true)
        #expect(pass.check(Validation.fwhmImprovement)?.passed == true)
        let fail = Validation.evaluate(stack: classical, classical: sharp, grid: Self.grid, weights: Self.weights(frames: 3),
                                       validation: .init(), limits: .init(), abortOnFail: true)
        #expect(fail.check(Validation.fwhmImprovement)?.passed == false)
        #expect(fail.passed == false)
    }

    @Test("a seam at the tile boundaries trips the tile-pattern metric; a seamless image does not")
    func tilePattern() {
        let (cols, rows) = Validation.boundaryLines(Self.grid)
        #expect(!cols.isEmpty && !rows.isEmpty)
        let smooth = Self.starField(fwhm: 3, noise: 0.01, noiseSeed: 3)
        let clean = Validation.tilePattern(smooth, grid: Self.grid)
        // Offsets that change only at boundary lines: a step of 0.01 (1 sigma) between blocks.
        let seam = Self.starField(fwhm: 3, noise: 0.01, noiseSeed: 3) { x, y in
            let bx = cols.filter { $0 <= x }.count, by = rows.filter { $0 <= y }.count
            return 0.01 * Float((bx + 2 * by) % 3)
        }
        let seamy = Validation.tilePattern(seam, grid: Self.grid)
        print("validation: tile-pattern ratio clean \(clean.ratio ?? .nan), seam \(seamy.ratio ?? .nan)")
        #expect(clean.boundarySamples > 1000 && clean.besideSamples > clean.boundarySamples)
        #expect(clean.threshold > 1.05 && clean.threshold == Validation.tilePatternThreshold(boundarySamples: clean.boundarySamples))
        #expect(!clean.pattern && abs((clean.ratio ?? 0) - 1) < clean.threshold - 1)
        #expect(seamy.pattern && (seamy.ratio ?? 0) > seamy.threshold)
        #expect(Validation.tilePatternThreshold(boundarySamples: 100_000) == 1.05)

        let r = Validation.evaluate(stack: seam, classical: smooth, grid: Self.grid, weights: Self.weights(frames: 3),
                                    validation: .init(), limits: .init(), abortOnFail: true)
        #expect(r.check(Validation.tilePatternRatio)?.passed == false)
        var lax = TCConfig.ValidationSection()
        lax.requireNoTilePattern = false
        let r2 = Validation.evaluate(stack: seam, classical: smooth, grid: Self.grid, weights: Self.weights(frames: 3),
                                     validation: lax, limits: .init(), abortOnFail: true)
        #expect(r2.check(Validation.tilePatternRatio)?.passed == true)
        #expect(r2.tilePattern.pattern)
    }

    @Test("a noisier stack fails the background-RMS check, a quieter one passes, a rescaled one is compared in the same units")
    func backgroundRMS() throws {
        let classical = Self.starField(fwhm: 3.2, noise: 0.01, noiseSeed: 4)
        let noisy = Self.starField(fwhm: 3.2, noise: 0.02, noiseSeed: 5)
        let quiet = Self.starField(fwhm: 3.2, noise: 0.007, noiseSeed: 6)
        let n = Validation.compareBackground(stack: noisy, classical: classical, fluxRatio: 1)
        #expect(abs(try #require(n.increasePercent) - 100) < 10, "increase \(n.increasePercent ?? .nan)")
        #expect(abs(try #require(n.classicalNoise) - 0.01) < 0.001)
        let failing = Validation.evaluate(stack: noisy, classical: classical, grid: Self.grid, weights: Self.weights(frames: 3),
                                          validation: .init(), limits: .init(), abortOnFail: true)
        #expect(failing.check(Validation.backgroundIncrease)?.passed == false)
        let passing = Validation.evaluate(stack: quiet, classical: classical, grid: Self.grid, weights: Self.weights(frames: 3),
                                          validation: .init(), limits: .init(), abortOnFail: true)
        #expect(passing.check(Validation.backgroundIncrease)?.passed == true)
        #expect((passing.background.increasePercent ?? 0) < -20)

        // The same data times 3 (another flux scale): the star-flux ratio brings it back, change ~0 %.
        let scaled = Self.starField(fwhm: 3.2, noise: 0.01, noiseSeed: 4, scale: 3)
        let r = Validation.evaluate(stack: scaled, classical: classical, grid: Self.grid, weights: Self.weights(frames: 3),
                                    validation: .init(), limits: .init(), abortOnFail: true)
        #expect(abs(r.background.fluxScale - 3) < 0.05, "flux scale \(r.background.fluxScale)")
        #expect(r.background.fluxScaleSource == "matched stars")
        #expect(abs(r.background.increasePercent ?? 99) < 2)
    }

    @Test("tile weight variance is the mean over tiles of the variance of W / mean W; usable tiles need weights and signal")
    func tiles() {
        var w = TileWeights(frameCount: 2, tileCount: 2)
        w.set(frame: 0, tile: 0, q: 0, l: 1, w: 1); w.set(frame: 1, tile: 0, q: 0, l: 1, w: 3)  // relative 0.5, 1.5: variance 0.25
        w.set(frame: 0, tile: 1, q: 0, l: 1, w: 2); w.set(frame: 1, tile: 1, q: 0, l: 1, w: 2)  // variance 0
        #expect(Validation.tileWeightVariance(w) == 0.125)
        // Scaling one tile's weights changes nothing (only relative weights matter).
        w.set(frame: 0, tile: 0, q: 0, l: 1, w: 10); w.set(frame: 1, tile: 0, q: 0, l: 1, w: 30)
        #expect(Validation.tileWeightVariance(w) == 0.125)
        #expect(abs(Validation.tileWeightVariance(Self.weights(frames: 3)) - 1.0 / 6) < 1e-9)

        let classical = Self.starField(fwhm: 3, noise: 0.01, noiseSeed: 7)
        let ok = Validation.tileUsability(stack: classical, classical: classical, grid: Self.grid, weights: Self.weights(frames: 3),
                                          classicalNoise: 0.01, fluxRatio: 1)
        #expect(ok.signalCarrying > ok.tiles / 2 && ok.usable == ok.signalCarrying && ok.fraction == 1)
        // Zero weights everywhere: nothing is usable. A flat stack: signal lost, nothing usable.
        var zero = TileWeights(frameCount: 3, tileCount: Self.grid.tiles.count)
        for t in 0..<Self.grid.tiles.count { for f in 0..<3 { zero.set(frame: f, tile: t, q: -3, l: 0, w: 0) } }
        let none = Validation.tileUsability(stack: classical, classical: classical, grid: Self.grid, weights: zero,
                                            classicalNoise: 0.01, fluxRatio: 1)
        #expect(none.usable == 0 && none.fraction == 0)
        let flat = Validation.tileUsability(stack: Image(width: Self.width, height: Self.height, fill: 1), classical: classical,
                                            grid: Self.grid, weights: Self.weights(frames: 3), classicalNoise: 0.01, fluxRatio: 1)
        #expect(flat.usable == 0 && flat.signalCarrying == ok.signalCarrying)
    }

    @Test("validation node: validation.json with passed, one entry per check, runtime checks for the runner")
    func node() throws {
        let dir = TemporaryDirectory("validation-node")
        let stack = Self.starField(fwhm: 2.9, noise: 0.008, noiseSeed: 8)
        let classical = Self.starField(fwhm: 3.6, noise: 0.01, noiseSeed: 9)
        let weights = Self.weights(frames: 3)
        let table = FrameMetricsTable(frames: (0..<3).map {
            FrameMetrics(index: $0, file: "f\($0).fit", background: 100, noise: 0.01, gradient: 1, q: 0, g: 1,
                         residual: nil, matches: nil, starCount: 40, fwhm: 3.6)
        })
        var b = PipelineBuilder(config: TCConfig(), frames: FrameList(frames: []), workspace: dir.path)
        func imageNode(_ name: String, _ img: Image) -> Node {
            Node(name: name, kind: "test.image", version: 1, params: ["name": name], outputs: ["image"]) { ctx in
                try Artifacts.writeImage(img, ctx, "image")
            }
        }
        b.add(imageNode("stack", stack))
        b.add(imageNode("stack/classical", classical))
        b.add(Node(name: "tiles/geometry", kind: "test.grid", version: 1, params: EmptyParams(), outputs: ["grid"]) { ctx in
            try Artifacts.writeJSON(Self.grid, ctx, "grid")
        })
        b.add(Node(name: "tiles/metrics", kind: "test.weights", version: 1, params: EmptyParams(), outputs: ["weights"]) { ctx in
            try ctx.writeOutput("weights", weights.encoded())
        })
        b.add(Node(name: "metrics", kind: "test.metrics", version: 1, params: EmptyParams(), outputs: ["metrics"]) { ctx in
            try Artifacts.writeJSON(table, ctx, "metrics")
        })
        try b.add(ValidationStep())
        #expect(b.materializations == [Materialization(node: "validation", output: "validation", path: "validation.json")])
        let ws = try Workspace(root: dir.path, durable: false)
        let r = try ws.run(try b.graph(), options: RunOptions(jobs: 2), command: "test")
        #expect(r.succeeded, "failed: \(r.failed)")
        let path = ws.path(of: try #require(r.outputs["validation"]?["validation"]))
        var report = try ValidationReport.read(path: path)
        #expect(report.passed, "checks: \(report.checks.filter { !$0.passed })")
        #expect(report.checks.map(\.name) == [Validation.fwhmImprovement, Validation.backgroundIncrease, Validation.weightVariance,
                                              Validation.tilePatternRatio, Validation.usableTiles, Validation.runtimeHours,
                                              Validation.tileAnalysisFactor])
        #expect(report.abortOnFail)
        #expect(report.check(Validation.weightVariance)?.value.map { abs($0 - 1.0 / 6) < 1e-6 } == true)
        #expect(report.check(Validation.fwhmImprovement)?.limit == 5)
        let runtime = try #require(report.check(Validation.runtimeHours))
        #expect(!runtime.measured && runtime.value == nil && runtime.passed && runtime.limit == 24)

        // The raw JSON has the fields the runner and the report read.
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        #expect(json["passed"] as? Bool == true)
        let checks = try #require(json["checks"] as? [[String: Any]])
        #expect(checks.count == 7 && checks.allSatisfy { $0["limit"] != nil && $0["passed"] is Bool && $0["name"] is String })

        // The runner fills the runtime: 30 h against the 24 h limit fails the run.
        report.recordRuntime(elapsedHours: 30, tileAnalysisFactor: 2)
        #expect(!report.passed)
        #expect(report.check(Validation.runtimeHours)?.passed == false && report.check(Validation.tileAnalysisFactor)?.passed == true)

        // Same inputs: a rerun is cached (the node is deterministic and keyed by content).
        #expect(try ws.run(try b.graph(), options: RunOptions(jobs: 2), command: "test").executed.isEmpty)
        try ws.close()
    }
}
