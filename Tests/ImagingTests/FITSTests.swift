import Foundation
import Testing
@testable import Imaging
import TestSupport

/// A seeded image of uniform values in [lo, hi] (`TestRNG`), identical on every run.
private func randomImage(width: Int, height: Int, channels: Int = 1, lo: Float, hi: Float, seed: UInt64) -> Image {
    var rng = TestRNG(seed: seed)
    return Image(width: width, height: height, channels: channels,
                 pixels: (0..<(width * height * channels)).map { _ in rng.uniform(lo, hi) })
}

@Suite struct FITSTests {
    @Test func float32RoundTripIsBitExactIncludingNaN() throws {
        let dir = TemporaryDirectory("fits")
        var img = randomImage(width: 37, height: 23, lo: -1e5, hi: 1e5, seed: 1)
        img[3, 4] = .nan
        img[0, 0] = .infinity
        let path = dir.file("f32.fits")
        try FITS.write(img, to: path)
        let back = try FITS.read(path)
        #expect(back.width == 37 && back.height == 23 && back.channels == 1)
        #expect(back.pixels.map(\.bitPattern) == img.pixels.map(\.bitPattern))
        #expect(try FITS.readHeader(path).bitpix == -32)
    }

    @Test(arguments: [
        (FITSPixelType.uint8, Float(0), Float(255), 8),
        (FITSPixelType.int16, Float(-32768), Float(32767), 16),
        (FITSPixelType.uint16, Float(0), Float(65535), 16),
        (FITSPixelType.int32, Float(-1_000_000), Float(1_000_000), 32),
        (FITSPixelType.float64, Float(-3e38), Float(3e38), -64),
    ])
    func integerAndDoubleRoundTrip(type: FITSPixelType, lo: Float, hi: Float, bitpix: Int) throws {
        let dir = TemporaryDirectory("fits")
        var img = randomImage(width: 16, height: 9, lo: lo, hi: hi, seed: 7)
        img[0, 0] = lo
        img[1, 0] = hi
        let path = dir.file("t.fits")
        try FITS.write(img, to: path, as: type)
        let back = try FITS.read(path)
        let expected: [Float] = type == .float64 ? img.pixels : img.pixels.map { $0.rounded(.toNearestOrAwayFromZero) }
        #expect(back.pixels == expected)
        #expect(back[0, 0] == lo && back[1, 0] == hi)
        #expect(try FITS.readHeader(path).bitpix == bitpix)
    }

    @Test func uint16ClampsRoundsAndUsesBZERO() throws {
        let dir = TemporaryDirectory("fits")
        let img = Image(width: 6, height: 1, pixels: [-5, 0, 1.5, 2.49, 65535, 70000])
        let path = dir.file("u16.fits")
        try FITS.write(img, to: path, as: .uint16)
        let back = try FITS.read(path)
        #expect(back.pixels == [0, 0, 2, 2, 65535, 65535])
        let h = try FITS.readHeader(path)
        #expect(h.bitpix == 16)
        #expect(h.keywords["BZERO"]?.doubleValue == 32768)
    }

    @Test func rgbCubeRoundTrip() throws {
        let dir = TemporaryDirectory("fits")
        let img = randomImage(width: 20, height: 11, channels: 3, lo: 0, hi: 1, seed: 3)
        let path = dir.file("rgb.fits")
        try FITS.write(img, to: path)
        let back = try FITS.read(path)
        #expect(back.channels == 3)
        #expect(back == img)
        #expect(back.plane(2) == img.plane(2))
        let h = try FITS.readHeader(path)
        #expect(h.keywords["NAXIS"] == .int(3) && h.keywords["NAXIS3"] == .int(3))
    }

    @Test func rowRangeEqualsSliceOfFullRead() throws {
        let dir = TemporaryDirectory("fits")
        let img = randomImage(width: 13, height: 17, channels: 3, lo: -10, hi: 10, seed: 5)
        let path = dir.file("rows.fits")
        try FITS.write(img, to: path)
        let full = try FITS.read(path)
        let part = try FITS.readRows(path, from: 5, count: 4)
        #expect(part.width == 13 && part.height == 4 && part.channels == 3)
        for c in 0..<3 { for y in 0..<4 { for x in 0..<13 {
            #expect(part[x, y, c] == full[x, y + 5, c])
        } } }
        #expect(throws: FITSError.self) { try FITS.readRows(path, from: 15, count: 3) }
    }

    @Test func headerKeywordsAndProvenance() throws {
        let dir = TemporaryDirectory("fits")
        let path = dir.file("kw.fits")
        try FITS.write(Image(width: 4, height: 4, fill: 1), to: path, as: .uint16, keywords: [
            FITSKeyword("EXPTIME", .double(12.5), comment: "seconds"),
            FITSKeyword("DATE-OBS", .string("2026-03-01T21:04:05.250")),
            FITSKeyword("BAYERPAT", .string("GRBG")),
            FITSKeyword("XBAYROFF", .int(1)),
            FITSKeyword("YBAYROFF", .int(0)),
            FITSKeyword("TCBFP", .string("0123456789abcdef0123456789abcdef")),
            FITSKeyword("TCBTHIRD", .double(1.0 / 3.0)),
            FITSKeyword("TCBOK", .bool(true)),
            FITSKeyword("OBJECT", .string("it's M51")),
        ])
        let h = try FITS.readHeader(path)
        #expect(h.exposure == 12.5)
        #expect(h.dateObs == "2026-03-01T21:04:05.250")
        #expect(h.bayerPattern == "GRBG")
        #expect(h.bayerOffset.x == 1 && h.bayerOffset.y == 0)
        #expect(h.keywords["TCBFP"] == .string("0123456789abcdef0123456789abcdef"))
        #expect(h.keywords["TCBTHIRD"] == .double(1.0 / 3.0))
        #expect(h.keywords["TCBOK"] == .bool(true))
        #expect(h.keywords["OBJECT"] == .string("it's M51"))
        #expect(h.wcs == nil)
        let plain = dir.file("plain.fits")
        try FITS.write(Image(width: 2, height: 2), to: plain, keywords: [FITSKeyword("EXPOSURE", .int(30))])
        let h2 = try FITS.readHeader(plain)
        #expect(h2.exposure == 30 && h2.bayerPattern == nil && h2.bayerOffset.x == 0)
    }

    @Test func writeOverwritesAndRejectsStructuralKeywords() throws {
        let dir = TemporaryDirectory("fits")
        let path = dir.file("over.fits")
        try FITS.write(Image(width: 8, height: 8, fill: 1), to: path)
        try FITS.write(Image(width: 3, height: 2, fill: 7), to: path)
        let back = try FITS.read(path)
        #expect(back.width == 3 && back.height == 2 && back.pixels.allSatisfy { $0 == 7 })
        #expect(throws: FITSError.self) {
            try FITS.write(Image(width: 2, height: 2), to: path, keywords: [FITSKeyword("BITPIX", .int(8))])
        }
        #expect(try FITS.read(path) == back)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(leftovers == ["over.fits"])
    }

    @Test(arguments: [FITSCompression.rice, .gzip])
    func tileCompressedReadsTransparently(compression: FITSCompression) throws {
        let dir = TemporaryDirectory("fits")
        let img = randomImage(width: 64, height: 40, lo: 0, hi: 65535, seed: 11)
        let path = dir.file("c.fits.fz")
        try FITS.write(img, to: path, as: .uint16, keywords: [FITSKeyword("EXPTIME", .double(60))],
                       compression: compression)
        let back = try FITS.read(path)
        #expect(back.pixels == img.pixels.map { $0.rounded(.toNearestOrAwayFromZero) })
        let h = try FITS.readHeader(path)
        #expect(h.width == 64 && h.height == 40 && h.exposure == 60)
        // the header is the image's (converted from the compressed table): NAXIS1 is the width
        #expect(h.keywords["NAXIS1"] == .int(64) && h.keywords["ZIMAGE"] == nil)
        let raw = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(raw.range(of: Data("ZIMAGE  =                    T".utf8)) != nil)  // really tile-compressed on disk
        #expect(h.bitpix == 16)
        let rows = try FITS.readRows(path, from: 10, count: 3)
        #expect(Array(rows.pixels) == Array(back.pixels[(10 * 64)..<(13 * 64)]))
        // the float path is stored losslessly too
        let f = randomImage(width: 30, height: 20, lo: -1, hi: 1, seed: 12)
        try FITS.write(f, to: path, compression: compression)
        #expect(try FITS.read(path) == f)
    }

    /// The scheduler runs nodes concurrently: parallel writes and reads of different files must not
    /// interfere (cfitsio is built reentrant; each call owns its handle).
    @Test func concurrentWritesAndReadsOfDifferentFiles() async throws {
        let dir = TemporaryDirectory("fits")
        let images = (0..<8).map { randomImage(width: 50, height: 40, lo: 0, hi: 60000, seed: UInt64(100 + $0)) }
        let base = dir.path
        let results = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<8 {
                let img = images[i]
                group.addTask {
                    let path = base + "/c\(i).fits"
                    var ok = true
                    for round in 0..<5 {
                        try FITS.write(img, to: path, as: round % 2 == 0 ? .float32 : .uint16)
                        let back = try FITS.read(path)
                        let want = round % 2 == 0 ? img.pixels : img.pixels.map { $0.rounded(.toNearestOrAwayFromZero) }
                        ok = ok && back.pixels == want
                    }
                    return (i, ok)
                }
            }
            var all: [Int: Bool] = [:]
            for try await (i, ok) in group { all[i] = ok }
            return all
        }
        #expect(results.count == 8 && results.values.allSatisfy { $0 })
    }
}
