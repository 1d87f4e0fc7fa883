import Foundation
import Imaging
import Testing
import TestSupport
@testable import Steps

/// The phase-6 kernel on tiny hand-made frames.
@Suite("reconstruction kernel")
struct ReconstructionTests {
    /// A grid of one tile covering the whole image.
    static func singleTile(_ w: Int, _ h: Int) -> TileGrid {
        TileGrid(fwhm: nil, starsUsed: 0, width: w, height: h, size: w, overlap: 0, step: w,
                 tiles: [Tile(id: 0, x: 0, y: 0, w: w, h: h)])
    }

    static func frames(_ images: [Image]) -> [ReconstructionFrame] {
        images.enumerated().map { ReconstructionFrame(index: $0.offset, name: "f\($0.offset)", source: .memory($0.element),
                                                      backgrounds: [1]) }
    }

    static func weights(frames: Int, tiles: Int, _ value: (Int, Int) -> Float) -> TileWeights {
        var w = TileWeights(frameCount: frames, tileCount: tiles)
        for t in 0..<tiles { for f in 0..<frames { w.set(frame: f, tile: t, q: 0, l: 1, w: value(f, t)) } }
        return w
    }

    /// Sky 1.0 with one "star" pixel at (8, 8) of value `star`.
    static func starFrame(_ star: Float) -> Image {
        var im = Image(width: 16, height: 16, fill: 1)
        im[8, 8] = star
        return im
    }

    @Test("weighted mean is exact: sky 1, star 1 + sum W (I-1) / sum W")
    func weightedMean() throws {
        let ims = [Self.starFrame(5), Self.starFrame(3), Self.starFrame(2)]
        let w: [Float] = [2, 1, 0.5]
        let r = try Reconstruction.reconstruct(frames: Self.frames(ims), weights: Self.weights(frames: 3, tiles: 1) { f, _ in w[f] },
                                               grid: Self.singleTile(16, 16), window: .hanning, eps: 1e-6, threads: 1)
        #expect(r.fallbackTiles.isEmpty)
        #expect(abs(r.image[8, 8] - 4.0) < 1e-6)   // 1 + (2*4 + 1*2 + 0.5*1) / 3.5
        #expect(abs(r.image[0, 0] - 1.0) < 1e-6 && abs(r.image[15, 3] - 1.0) < 1e-6)
    }

    @Test("weight sum below eps: unweighted mean, tile logged")
    func epsFallback() throws {
        let ims = [Self.starFrame(5), Self.starFrame(3), Self.starFrame(2)]
        let lines = LogLines()
        let r = try Reconstruction.reconstruct(frames: Self.frames(ims), weights: Self.weights(frames: 3, tiles: 1) { f, _ in f == 0 ? 1e-7 : 1e-9 },
                                               grid: Self.singleTile(16, 16), window: .cosine, eps: 1e-6, threads: 1) { lines.append($0) }
        #expect(r.fallbackTiles == [0])
        #expect(abs(r.image[8, 8] - Float(1 + 7.0 / 3)) < 1e-5)
        #expect(lines.all.count == 1 && lines.all[0].hasPrefix("tile 0:"))
    }

    @Test("NaN (no coverage) never counts, whatever its weight; a pixel nobody covers stays NaN")
    func nanCoverage() throws {
        var third = Self.starFrame(.nan)
        for x in 0..<16 { third[x, 2] = .nan }
        var ims = [Self.starFrame(5), Self.starFrame(3), third]
        for i in 0..<3 { ims[i][0, 15] = .nan }
        let w: [Float] = [2, 1, 100]
        let r = try Reconstruction.reconstruct(frames: Self.frames(ims), weights: Self.weights(frames: 3, tiles: 1) { f, _ in w[f] },
                                               grid: Self.singleTile(16, 16), window: .hanning, eps: 1e-6, threads: 1)
        #expect(abs(r.image[8, 8] - Float(1 + 10.0 / 3)) < 1e-5)  // (2*4 + 1*2) / 3
        #expect(abs(r.image[5, 2] - 1) < 1e-6)
        #expect(r.image[0, 15].isNaN)
    }

    @Test("a constant image comes back unchanged through many overlapping tiles, any weights, any thread count")
    func constantNoSeams() throws {
        let grid = TileGeometry.grid(width: 70, height: 50, size: 16, overlapFraction: 0.25, fwhm: nil, starsUsed: 0)
        var rng = TestRNG(seed: 5)
        let weights = Self.weights(frames: 4, tiles: grid.tiles.count) { _, _ in Float(rng.uniform(0.01, 20)) }
        let ims = (0..<4).map { _ in Image(width: 70, height: 50, channels: 3, fill: 250) }
        let frames = ims.enumerated().map { ReconstructionFrame(index: $0.offset, name: "c", source: .memory($0.element), backgrounds: [250, 125, 500]) }
        for window in WindowFunction.allCases {
            let r1 = try Reconstruction.reconstruct(frames: frames, weights: weights, grid: grid, window: window, eps: 1e-6, threads: 1)
            let r2 = try Reconstruction.reconstruct(frames: frames, weights: weights, grid: grid, window: window, eps: 1e-6, threads: 2)
            #expect(r1.image.pixels == r2.image.pixels)
            #expect(r1.readsPerFrame == Reconstruction.tileRows(grid).count)
            let expected: [Float] = [1, 2, 0.5]
            for c in 0..<3 {
                let plane = r1.image.plane(c).pixels
                #expect(plane.allSatisfy { abs($0 - expected[c]) < 1e-6 }, "window \(window) channel \(c)")
            }
        }
    }

    @Test("a background step between frames and a shared gradient: no step at tile boundaries, gradient kept")
    func backgroundStep() throws {
        let w = 64, h = 40
        let grid = TileGeometry.grid(width: w, height: h, size: 16, overlapFraction: 0.25, fwhm: nil, starsUsed: 0)
        // Frame 0 sits at 1.0, frame 1 at 1.5; both carry the same ramp (large-scale nebulosity).
        func ramp(_ x: Int, _ y: Int) -> Float { 0.004 * Float(x) + 0.002 * Float(y) }
        var a = Image(width: w, height: h), b = Image(width: w, height: h)
        for y in 0..<h { for x in 0..<w { a[x, y] = 1.0 + ramp(x, y); b[x, y] = 1.5 + ramp(x, y) } }
        // Alternate tiles strongly favour one frame or the other.
        let weights = Self.weights(frames: 2, tiles: grid.tiles.count) { f, t in (t + f) % 2 == 0 ? 10 : 0.1 }
        let r = try Reconstruction.reconstruct(frames: Self.frames([a, b]), weights: weights, grid: grid,
                                               window: .hanning, eps: 1e-6, threads: 2)
        var worst: Float = 0
        for y in 0..<h { for x in 0..<w { worst = max(worst, abs(r.image[x, y] - (1.25 + ramp(x, y)))) } }
        #expect(worst < 1e-4, "largest deviation from the unweighted mean \(worst)")
        // (Without the background handling the weighted mean jumps by ~0.49 between neighbouring tiles:
        // checked by mutation: with b = 0 in TileAccumulator only the median rescale acts and `worst` is 0.0105.)
    }

    @Test("frames are read from FITS in row bands and give the same bytes as from memory")
    func fromFiles() throws {
        let dir = TemporaryDirectory("recon")
        let grid = TileGeometry.grid(width: 48, height: 40, size: 16, overlapFraction: 0.25, fwhm: nil, starsUsed: 0)
        var rng = TestRNG(seed: 9)
        var frames: [ReconstructionFrame] = [], mem: [ReconstructionFrame] = []
        for i in 0..<3 {
            var im = Image(width: 48, height: 40)
            for k in 0..<im.pixels.count { im.pixels[k] = 100 + Float(rng.normal()) * 3 }
            let path = dir.file("f\(i).fits")
            try FITS.write(im, to: path, as: .float32)
            frames.append(ReconstructionFrame(index: i, name: "f\(i)", source: .file(path), backgrounds: [100]))
            mem.append(ReconstructionFrame(index: i, name: "f\(i)", source: .memory(im), backgrounds: [100]))
        }
        let weights = Self.weights(frames: 3, tiles: grid.tiles.count) { f, t in Float(1 + (f * 7 + t) % 5) }
        let a = try Reconstruction.reconstruct(frames: frames, weights: weights, grid: grid, window: .hanning, eps: 1e-6, threads: 2)
        let b = try Reconstruction.reconstruct(frames: mem, weights: weights, grid: grid, window: .hanning, eps: 1e-6, threads: 1)
        #expect(a.image.pixels == b.image.pixels)
        #expect(a.image.pixels.allSatisfy { $0.isFinite && abs($0 - 1) < 0.2 })
    }

    @Test("a frame of another width or plane count is an error naming the frame")
    func badFrame() {
        let good = ReconstructionFrame(index: 0, name: "good.fits", source: .memory(Image(width: 16, height: 16, fill: 1)), backgrounds: [1])
        let wide = ReconstructionFrame(index: 1, name: "wide.fits", source: .memory(Image(width: 17, height: 16, fill: 1)), backgrounds: [1])
        let rgb = ReconstructionFrame(index: 1, name: "rgb.fits", source: .memory(Image(width: 16, height: 16, channels: 3, fill: 1)), backgrounds: [1])
        let w = Self.weights(frames: 2, tiles: 1) { _, _ in 1 }
        for (bad, word) in [(wide, "wide.fits"), (rgb, "rgb.fits")] {
            do {
                _ = try Reconstruction.reconstruct(frames: [good, bad], weights: w, grid: Self.singleTile(16, 16),
                                                   window: .hanning, eps: 1e-6, threads: 1)
                Issue.record("no error for \(word)")
            } catch {
                #expect("\(error)".contains(word))
            }
        }
    }
}

/// Collects log lines from a non-escaping logger.
final class LogLines: @unchecked Sendable {
    private(set) var all: [String] = []
    func append(_ s: String) { all.append(s) }
}
