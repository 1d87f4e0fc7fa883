import Foundation
import Testing
@testable import Imaging
import TestSupport

/// The scan's band census (issue 12): `FITSBands` gives `readRows`' bands through one handle, and
/// `PixelCensus` the sequential loop's maximum, pile-up, non-finite count and per-band strided sample.
@Suite("Pixel census and FITS bands")
struct PixelCensusTests {
    /// The sequential reference: what `Scan.inspect` computed pixel by pixel before.
    static func reference(_ bands: [Image], stride: Int) -> (max: Float, atMax: Int, nonfinite: Int, total: Int, sample: [Float]) {
        var maxValue = -Float.infinity, atMax = 0, nonfinite = 0, total = 0
        var sample: [Float] = []
        for band in bands {
            for (k, v) in band.pixels.enumerated() {
                if !v.isFinite { nonfinite += 1; continue }
                if v > maxValue { maxValue = v; atMax = 1 } else if v == maxValue { atMax += 1 }
                if k % stride == 0 { sample.append(v) }
            }
            total += band.pixels.count
        }
        return (maxValue, atMax, nonfinite, total, sample)
    }

    static func randomImage(width: Int, height: Int, channels: Int, lo: Float, hi: Float, seed: UInt64) -> Image {
        var rng = TestRNG(seed: seed)
        var img = Image(width: width, height: height, channels: channels)
        for i in img.pixels.indices { img.pixels[i] = rng.uniform(lo, hi).rounded() }
        return img
    }

    static func census(_ bands: [Image], stride: Int) -> PixelCensus {
        var c = PixelCensus(stride: stride)
        for b in bands { c.add(b) }
        return c
    }

    static func check(_ bands: [Image], stride: Int) {
        let ref = reference(bands, stride: stride), c = census(bands, stride: stride)
        #expect(c.maxValue.bitPattern == ref.max.bitPattern)
        #expect(c.atMax == ref.atMax && c.nonfinite == ref.nonfinite && c.total == ref.total)
        #expect(c.sample.map(\.bitPattern) == ref.sample.map(\.bitPattern))
    }

    @Test("maximum, pile-up, non-finite count and sample equal the sequential loop (12-bit ceiling, NaN, Inf)")
    func sequentialEquivalence() {
        var rng = TestRNG(seed: 4)
        let bands = (0..<5).map { b -> Image in
            var img = Image(width: 37, height: b == 4 ? 3 : 7, channels: 1)
            for i in img.pixels.indices { img.pixels[i] = Float(Int(rng.uniform(0, 3000))) }
            if b == 1 { img.pixels[5] = 4095; img.pixels[6] = 4095; img.pixels[30] = .nan }
            if b == 3 { img.pixels[0] = 4095; img.pixels[11] = .infinity; img.pixels[12] = -.infinity }
            return img
        }
        for stride in [1, 3, 16] { Self.check(bands, stride: stride) }
        let c = Self.census(bands, stride: 3)
        #expect(c.maxValue == 4095 && c.atMax == 3 && c.nonfinite == 3)
    }

    @Test("a zero maximum keeps the sign of the first zero; all-NaN bands leave -infinity")
    func zeroAndEmpty() {
        var a = Image(width: 9, height: 2, fill: -5)
        a.pixels[3] = -0.0; a.pixels[8] = 0
        var b = Image(width: 9, height: 2, fill: -1)
        b.pixels[0] = 0
        Self.check([a, b], stride: 2)
        #expect(Self.census([a, b], stride: 2).maxValue.sign == .minus && Self.census([a, b], stride: 2).atMax == 3)
        let nan = Image(width: 6, height: 3, fill: .nan)
        Self.check([nan, nan], stride: 1)
        #expect(Self.census([nan], stride: 1).maxValue == -.infinity && Self.census([nan], stride: 1).nonfinite == 18)
    }

    @Test("FITSBands gives the header of readHeader and the bands of readRows, uint16 and float RGB")
    func bandsEqualRows() throws {
        let dir = TemporaryDirectory("bands")
        let mono = Self.randomImage(width: 23, height: 150, channels: 1, lo: 0, hi: 60000, seed: 8)
        let rgb = Self.randomImage(width: 11, height: 70, channels: 3, lo: -2, hi: 2, seed: 9)
        for (img, type, name) in [(mono, FITSPixelType.uint16, "m.fits"), (rgb, .float32, "c.fits")] {
            let path = dir.file(name)
            try FITS.write(img, to: path, as: type)
            let bands = try FITSBands(path, rows: 64)
            let header = try FITS.readHeader(path)
            #expect(bands.header.width == header.width && bands.header.height == header.height)
            #expect(bands.header.channels == header.channels && bands.header.bitpix == header.bitpix)
            #expect(bands.header.keywords == header.keywords)
            var y = 0
            while let band = try bands.next() {
                #expect(band == (try FITS.readRows(path, from: y, count: min(64, img.height - y))))
                y += band.height
            }
            #expect(y == img.height)
            #expect(try bands.next() == nil)
        }
        #expect(throws: FITSError.self) { try FITSBands(dir.file("missing.fits"), rows: 8) }
    }
}
