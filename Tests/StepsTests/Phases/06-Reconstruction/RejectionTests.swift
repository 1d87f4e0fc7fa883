import Foundation
import Imaging
import Testing
import TestSupport
@testable import Steps

/// Phase 6 outlier rejection: the two-pass kernel, its masks, and their use by the combines.
@Suite("outlier rejection")
struct RejectionTests {
    static let w = 96, h = 64, sky: Float = 1000, sigma: Float = 10

    /// `count` frames of sky `sky` times a per-frame level, a per-frame gradient, a few stars and
    /// Gaussian noise; frame 4 carries a bright trail along y = x / 2 + 10, frame 9 a hot pixel at
    /// (40, 30), frame 12 a cosmic ray at (70, 20).
    static func series(count: Int = 30, seed: UInt64 = 1) -> [Image] {
        var rng = TestRNG(seed: seed)
        var out: [Image] = []
        for f in 0..<count {
            var im = Image(width: w, height: h)
            let level = sky * (1 + 0.02 * Float(f % 5))
            let gx = Float(f % 3) * 0.002 * sky          // per-frame gradient, up to 0.4 sky across
            for y in 0..<h {
                for x in 0..<w {
                    var v = level + gx * Float(x)
                    for (sx, sy) in [(20.0, 15.0), (60.0, 40.0), (80.0, 50.0)] {
                        let r2 = (Double(x) - sx) * (Double(x) - sx) + (Double(y) - sy) * (Double(y) - sy)
                        let s = 1.4 + 0.3 * Double(f % 4)
                        v += Float(3000 * exp(-r2 / (2 * s * s)) / (s * s))
                    }
                    v += sigma * Float(rng.normal())
                    if f == 4, abs(Double(y) - (Double(x) / 2 + 10)) < 1 { v += 800 }
                    im[x, y] = v
                }
            }
            if f == 9 { im[40, 30] += 5000 }
            if f == 12 { im[70, 20] += 20000; im[71, 20] += 8000 }
            out.append(im)
        }
        return out
    }

    static func frames(_ images: [Image]) -> [RejectionFrame] {
        images.enumerated().map { i, im in
            let b = Double(Statistics.median(im.pixels)!)
            return RejectionFrame(name: "f\(i)", index: i, source: .memory(im), backgrounds: [b], noise: [Double(sigma) / b])
        }
    }

    static let options = PixelRejection.Options(method: .winsorized, kappaLow: 3, kappaHigh: 3, iterations: 3)

    @Test("trail, hot pixel and cosmic ray are rejected in their frames; gradients and seeing are not outliers")
    func finds() throws {
        let images = Self.series()
        let r = try Rejection.run(frames: Self.frames(images), width: Self.w, height: Self.h, channels: 1,
                                  options: Self.options, threads: 2)
        let trail = Set((0..<Self.w).flatMap { x -> [UInt32] in
            (0..<Self.h).filter { abs(Double($0) - (Double(x) / 2 + 10)) < 1 }.map { UInt32($0 * Self.w + x) }
        })
        #expect(trail.isSubset(of: Set(r.masks.frames[4])), "\(trail.subtracting(r.masks.frames[4]).count) trail pixels kept")
        #expect(r.masks.frames[9].contains(UInt32(30 * Self.w + 40)))
        #expect(r.masks.frames[12].contains(UInt32(20 * Self.w + 70)))
        #expect(r.masks.frames[12].contains(UInt32(20 * Self.w + 71)))
        // Every other frame: only the Gaussian tails (0.27 % expected at 3 sigma), whatever its gradient.
        let n = Double(Self.w * Self.h)
        for (f, list) in r.masks.frames.enumerated() where ![4, 9, 12].contains(f) {
            #expect(Double(list.count) / n < 0.012, "frame \(f): \(list.count) rejected")
        }
        // The map counts rejections per pixel.
        #expect(r.map[40, 30] >= 1)
        #expect(Int(r.map.pixels.reduce(0, +)) == r.masks.frames.reduce(0) { $0 + $1.count })
    }

    @Test("chunks sized to a tiny memory budget give the same masks as one chunk")
    func budget() throws {
        let frames = Self.frames(Self.series(count: 12, seed: 4))
        let one = try Rejection.run(frames: frames, width: Self.w, height: Self.h, channels: 1, options: Self.options, threads: 1)
        let tiny = try Rejection.run(frames: frames, width: Self.w, height: Self.h, channels: 1, options: Self.options,
                                     budgetBytes: 12 * Self.w * 4 * 3, threads: 2)
        #expect(one.chunkRows == Self.h)
        #expect(tiny.chunkRows == 3)
        #expect(one.masks == tiny.masks)
        #expect(one.map.pixels == tiny.map.pixels)
    }

    @Test("pass 1 reads only the sampled rows of a mapped file: the same meshes and masks as the whole frame in memory")
    func sampledRowsRead() throws {
        // 96 px wide: the last mesh box column is partial; two planes check the plane offsets.
        let images = Self.series(count: 9, seed: 6).map { im -> Image in
            var two = Image(width: Self.w, height: Self.h, channels: 2)
            for c in 0..<2 { for y in 0..<Self.h { for x in 0..<Self.w { two[x, y, c] = im[x, y] * (1 + 0.1 * Float(c)) } } }
            return two
        }
        let dir = try TemporaryDirectory()
        var memory: [RejectionFrame] = [], files: [RejectionFrame] = []
        for (i, im) in images.enumerated() {
            let path = dir.path + "/f\(i).fits"
            try FITS.write(im, to: path, as: .float32)
            let b = Double(Statistics.median(im.pixels)!)
            memory.append(RejectionFrame(name: "f\(i)", index: i, source: .memory(im), backgrounds: [b, b * 1.1],
                                         noise: [Double(Self.sigma) / b, Double(Self.sigma) / b]))
            files.append(RejectionFrame(name: "f\(i)", index: i, source: .file(path), backgrounds: [b, b * 1.1],
                                        noise: [Double(Self.sigma) / b, Double(Self.sigma) / b]))
            let sampled = try Rejection.sampledRows(files[i], Self.h, mapped: try #require(try FITSMappedImage.open(path)))
            for c in 0..<2 {
                let stride = Rejection.backgroundSampleStride
                #expect(BackgroundMap.estimate(sampled, plane: c, mesh: Rejection.backgroundMesh, sampleStride: stride)
                        == BackgroundMap.estimate(im, plane: c, mesh: Rejection.backgroundMesh, sampleStride: stride))
                #expect(sampled[5, 4, c] == im[5, 4, c] && sampled[5, 5, c].isNaN)
            }
        }
        let a = try Rejection.run(frames: memory, width: Self.w, height: Self.h, channels: 2, options: Self.options, threads: 2)
        let b = try Rejection.run(frames: files, width: Self.w, height: Self.h, channels: 2, options: Self.options, threads: 1)
        #expect(a.masks == b.masks)
        #expect(a.map.pixels == b.map.pixels)
        // Chunks of 3 rows: the mapped rows go into the reused cube chunk after chunk (pages released).
        let chunked = try Rejection.run(frames: files, width: Self.w, height: Self.h, channels: 2, options: Self.options,
                                        budgetBytes: files.count * Self.w * 2 * 4 * 3, threads: 2)
        #expect(chunked.chunkRows == 3)
        #expect(chunked.masks == a.masks)
        #expect(chunked.map.pixels == a.map.pixels)
        #expect(a.masks.frames[4].count > 50)
    }

    @Test("the classical mean without the rejected values shows no trail; with rejection none it does")
    func classicalWithoutTrail() throws {
        let images = Self.series()
        let dir = try TemporaryDirectory()
        var list: [(path: String, measurement: FrameNormalization, name: String)] = []
        let frames = Self.frames(images)
        for (i, im) in images.enumerated() {
            let path = dir.path + "/f\(i).fits"
            try FITS.write(im, to: path, as: .float32)
            let m = FrameNormalization(channels: [ChannelMeasurement(background: frames[i].backgrounds[0],
                                                                     noise: frames[i].noise[0], gradient: 0)])
            list.append((path, m, "f\(i)"))
        }
        let r = try Rejection.run(frames: frames, width: Self.w, height: Self.h, channels: 1, options: Self.options, threads: 2)
        let clipped = try ClassicalStack.mean(frames: list, masks: r.masks)
        let plain = try ClassicalStack.mean(frames: list)
        // Residual along the trail vs beside it, in units of the mean's own noise (sigma/B/sqrt(N)).
        let noise = Double(Self.sigma) / 1000 / Double(images.count).squareRoot()
        func excess(_ im: Image) -> Double {
            var on: [Double] = [], off: [Double] = []
            for x in 4..<(Self.w - 4) {
                let y = Int((Double(x) / 2 + 10).rounded())
                guard y + 6 < Self.h, abs(Double(x) - 20) > 6, abs(Double(x) - 60) > 6, abs(Double(x) - 80) > 6 else { continue }
                on.append(Double(im[x, y]))
                off.append(Double(im[x, y + 6]))
            }
            return (Statistics.median(on)! - Statistics.median(off)!) / noise
        }
        #expect(excess(plain) > 10, "trail in the plain mean: \(excess(plain)) sigma")
        #expect(abs(excess(clipped)) < 3, "trail after rejection: \(excess(clipped)) sigma")
        #expect(clipped[40, 30] < plain[40, 30])
    }

    @Test("masks survive encoding, are applied as NaN to exactly their rows, and corrupt bytes are refused")
    func masks() throws {
        let m = RejectionMasks(width: 4, height: 3, channels: 2, frames: [[0, 5, 13, 23], [], [11]])
        let data = m.encoded()
        #expect(RejectionMasks(data: data) == m)
        #expect(RejectionMasks(data: data.dropLast(4)) == nil)
        #expect(RejectionMasks(data: Data("TCBREJ02".utf8) + data.dropFirst(8)) == nil)
        // Rows 1..<3 of a 4x3 image with 2 planes: indices 5 (plane 0, y 1, x 1), 13 (plane 1, y 0: not in
        // the rows), 23 (plane 1, y 2, x 3); 0 (y 0) is outside too.
        var rows = Image(width: 4, height: 2, channels: 2, fill: 1)
        RejectionMasks.apply(m.frames[0], to: &rows, y0: 1, imageHeight: 3)
        let nan = rows.pixels.enumerated().filter { $0.element.isNaN }.map(\.offset)
        #expect(nan == [1, 15])
    }
}
