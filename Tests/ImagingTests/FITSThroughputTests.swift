import Foundation
import Testing
@testable import Imaging
import TestSupport

/// Throughput numbers for docs/benchmarks.md ("Imaging throughput"). Runs only with
/// `TCBUILD_BENCH=1` (see bench/imaging_throughput.sh, release build); prints one line per kernel:
/// median of 5 timed runs after one warm-up, in megapixels per second. Asserts only that every
/// run produced the right result, never a speed.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TCBUILD_BENCH"] == "1"))
struct FITSThroughputTests {
    private static func medianSeconds(_ runs: Int = 5, _ body: () throws -> Void) rethrows -> Double {
        try body()  // warm-up (page cache, allocations)
        var times: [Double] = []
        for _ in 0..<runs {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return times.sorted()[runs / 2]
    }

    private static func report(_ name: String, pixels: Int, seconds: Double) {
        let label = name.padding(toLength: 28, withPad: " ", startingAt: 0)
        let line = "BENCH \(label)" + String(format: " %8.1f Mpx/s  (%.1f ms for %.1f Mpx, median of 5)",
                                                   Double(pixels) / seconds / 1e6, seconds * 1e3, Double(pixels) / 1e6)
        print(line)
    }

    @Test func fitsReadAndStatisticsThroughput() throws {
        let w = 4096, h = 3072, n = w * h
        let dir = TemporaryDirectory("bench")
        var rng = TestRNG(seed: 42)
        var img = Image(width: w, height: h)
        img.pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { p[i] = 1000 + Float(rng.next() >> 56) }  // sky 1000..1255
        }
        for (name, type) in [("u16", FITSPixelType.uint16), ("f32", .float32)] {
            let path = dir.file("frame_\(name).fits")
            let tw = try Self.medianSeconds { try FITS.write(img, to: path, as: type) }
            Self.report("FITS write \(name)", pixels: n, seconds: tw)
            var back = Image(width: 1, height: 1)
            let tr = try Self.medianSeconds { back = try FITS.read(path) }
            #expect(back.pixels == img.pixels)
            Self.report("FITS read \(name)", pixels: n, seconds: tr)
            let rows = 256
            let ts = try Self.medianSeconds {
                var y = 0
                while y < h { _ = try FITS.readRows(path, from: y, count: min(rows, h - y)); y += rows }
            }
            Self.report("FITS readRows \(name) (256)", pixels: n, seconds: ts)
        }
        var med: Float? = nil
        Self.report("median", pixels: n, seconds: Self.medianSeconds { med = Statistics.median(img.pixels) })
        #expect(med != nil && med! >= 1000 && med! <= 1255)
        var bg: BackgroundEstimate? = nil
        Self.report("background (masked)", pixels: n, seconds: Self.medianSeconds { bg = Statistics.background(img) })
        #expect(bg != nil)
        var map: BackgroundMap? = nil
        Self.report("background map 64px", pixels: n, seconds: Self.medianSeconds { map = BackgroundMap.estimate(img) })
        #expect(map != nil)
        var e: GradientEnergy? = nil
        Self.report("Sobel gradient energy", pixels: n, seconds: Self.medianSeconds { e = Kernels.gradientEnergy(img) })
        #expect(e != nil && e!.count == (w - 2) * (h - 2))
    }
}
