import Foundation
import Testing
@testable import Imaging
import TestSupport

/// Files built byte by byte, read by the direct reader (`FITSDirectReader`) and by cfitsio's own
/// conversion (`viaCFITSIO`): the float bits must be the same for every stored value.
private enum DirectFITS {
    static func card(_ key: String, _ value: String) -> String {
        let k = key.padding(toLength: 8, withPad: " ", startingAt: 0)
        let v = String(repeating: " ", count: max(0, 20 - value.count)) + value
        return (k + "= " + v).padding(toLength: 80, withPad: " ", startingAt: 0)
    }
    static func image(bitpix: Int, axes: [Int], bscale: String? = nil, bzero: String? = nil,
                      extra: [String] = [], data: Data, pad: Bool = true) -> Data {
        var cards = [card("SIMPLE", "T"), card("BITPIX", "\(bitpix)"), card("NAXIS", "\(axes.count)")]
        for (i, a) in axes.enumerated() { cards.append(card("NAXIS\(i + 1)", "\(a)")) }
        if let bscale { cards.append(card("BSCALE", bscale)) }
        if let bzero { cards.append(card("BZERO", bzero)) }
        var text = (cards + extra).joined() + "END".padding(toLength: 80, withPad: " ", startingAt: 0)
        while text.count % 2880 != 0 { text += " " }
        var d = Data(text.utf8) + data
        if pad, d.count % 2880 != 0 { d.append(Data(count: 2880 - d.count % 2880)) }
        return d
    }
    static func bigEndian<T: FixedWidthInteger>(_ values: [T]) -> Data {
        var d = Data(capacity: values.count * MemoryLayout<T>.size)
        for v in values { withUnsafeBytes(of: v.bigEndian) { d.append(contentsOf: $0) } }
        return d
    }
    static func directReadable(_ path: String) throws -> Bool {
        let file = try FITSFile.open(path)
        return FITSDirectReader(file, geometry: try FITS.imageGeometry(file)) != nil
    }
    static func bits(_ image: Image) -> [UInt32] { image.pixels.map(\.bitPattern) }

    /// The direct read equals cfitsio's, for the whole image, row ranges and bands; returns the image.
    @discardableResult
    static func checkSame(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Image {
        let direct = try FITS.read(path)
        let reference = try FITS.read(path, viaCFITSIO: true)
        #expect(direct.width == reference.width && direct.height == reference.height
                && direct.channels == reference.channels, sourceLocation: sourceLocation)
        let a = bits(direct), b = bits(reference)
        let firstDiff = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(a == b, "first difference at \(firstDiff.map { "\($0.offset): \(String($0.element.0, radix: 16)) vs \(String($0.element.1, radix: 16))" } ?? "-")",
                sourceLocation: sourceLocation)
        let h = reference.height
        if h > 2 {
            let rows = try FITS.readRows(path, from: 1, count: h - 2)
            let file = try FITSFile.open(path)
            let g = try FITS.imageGeometry(file)
            let ref = try FITS.readPlanes(file, geometry: g, y0: 1, count: h - 2, viaCFITSIO: true)
            #expect(bits(rows) == bits(ref), sourceLocation: sourceLocation)
        }
        let bands = try FITSBands(path, rows: max(1, h / 3))
        var joined: [[Float]] = Array(repeating: [], count: reference.channels)
        while let band = try bands.next() {
            for c in 0..<band.channels {
                joined[c] += band.pixels[(c * band.planeSize)..<((c + 1) * band.planeSize)]
            }
        }
        #expect(joined.flatMap { $0 }.map(\.bitPattern) == b, sourceLocation: sourceLocation)
        return direct
    }
}

@Suite struct FITSDirectTests {
    /// Every int16 value, unscaled, camera-style unsigned (BZERO 32768), and with other scalings.
    @Test(arguments: [(nil, nil), (nil, "32768"), ("1", "32768.0"), ("1.0", "0.0"), ("1", "-100"),
                      ("2", "100"), ("0.1", "-3.3"), ("1", "0.5"), ("1E0", "8388608"), ("1", "1.5D4")] as [(String?, String?)])
    func everyInt16Value(scale: String?, zero: String?) throws {
        let dir = TemporaryDirectory("fitsdirect")
        let values = (0..<65536).map { Int16(truncatingIfNeeded: $0 - 32768) }
        let p = try dir.write("i16.fits", DirectFITS.image(bitpix: 16, axes: [256, 256], bscale: scale, bzero: zero,
                                                          data: DirectFITS.bigEndian(values)))
        #expect(try DirectFITS.directReadable(p))
        let image = try DirectFITS.checkSame(p)
        if scale == nil && zero == "32768" {
            #expect(image.pixels == (0..<65536).map { Float($0) })
        }
    }

    @Test(arguments: [(nil, nil), (nil, "-128"), ("0.5", "-10"), ("3", "1E-7")] as [(String?, String?)])
    func everyUInt8Value(scale: String?, zero: String?) throws {
        let dir = TemporaryDirectory("fitsdirect")
        let values = (0..<(256 * 7)).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let p = try dir.write("u8.fits", DirectFITS.image(bitpix: 8, axes: [256, 7], bscale: scale, bzero: zero,
                                                         data: Data(values)))
        try DirectFITS.checkSame(p)
    }

    @Test(arguments: [(nil, nil), (nil, "2147483648"), ("1", "-7"), ("0.001", "12.5")] as [(String?, String?)])
    func int32Values(scale: String?, zero: String?) throws {
        let dir = TemporaryDirectory("fitsdirect")
        var rng = TestRNG(seed: 32)
        var values: [Int32] = [0, 1, -1, .max, .min, 1 << 24, (1 << 24) + 1, (1 << 24) + 3, -(1 << 24) - 1, 16_777_217, 2_147_483_583]
        while values.count < 301 * 57 {
            let r = rng.next()
            // Mix full-range values with small ones (exact in Float) and near 2^24 (rounding).
            switch r % 3 {
            case 0: values.append(Int32(truncatingIfNeeded: r >> 32))
            case 1: values.append(Int32(truncatingIfNeeded: Int64(r >> 40) - (1 << 23)))
            default: values.append(Int32(truncatingIfNeeded: (1 << 24) + Int64(r >> 50)) * (r & 8 == 0 ? 1 : -1))
            }
        }
        let p = try dir.write("i32.fits", DirectFITS.image(bitpix: 32, axes: [301, 57], bscale: scale, bzero: zero,
                                                          data: DirectFITS.bigEndian(values)))
        try DirectFITS.checkSame(p)
    }

    /// Random bit patterns (every NaN payload, signalling NaNs, infinities, -0, denormals), across
    /// several pread chunks and with a tail that is not a multiple of the vector width.
    @Test(arguments: [(nil, nil), ("1", "0"), ("2", "1"), ("0.5", "-0.25")] as [(String?, String?)])
    func float32BitPatterns(scale: String?, zero: String?) throws {
        let dir = TemporaryDirectory("fitsdirect")
        var rng = TestRNG(seed: 3232)
        var words: [UInt32] = [0x7fc0_0000, 0xffc0_0001, 0x7f80_0001, 0xff80_0000, 0x7f80_0000, 0x8000_0000, 0,
                               0x0000_0001, 0x807f_ffff, 0x7f7f_ffff, 0x0080_0000, 0x3f80_0000, 0x7fbf_ffff]
        while words.count < 2 * 211 * 97 {
            let r = rng.next()
            switch r % 4 {
            case 0: words.append(UInt32(truncatingIfNeeded: r >> 32))
            case 1: words.append(UInt32(truncatingIfNeeded: r >> 41) | ((r & 16) == 0 ? 0x7f80_0000 : 0xff80_0000))  // NaN / inf
            case 2: words.append(UInt32(truncatingIfNeeded: r >> 41) | ((r & 16) == 0 ? 0 : 0x8000_0000))  // denormal / 0
            default: words.append(Float(rng.uniform(-1e4, 1e4)).bitPattern)
            }
        }
        let p = try dir.write("f32.fits", DirectFITS.image(bitpix: -32, axes: [211, 97, 2], bscale: scale, bzero: zero,
                                                          data: DirectFITS.bigEndian(words)))
        let image = try DirectFITS.checkSame(p)
        if scale == nil { #expect(image.pixels.map(\.bitPattern) == words) }
    }

    /// A 16-bit frame larger than one pread chunk with an odd width, three planes, NAXIS4 = 1 and a
    /// BLANK card (no null checking: BLANK values convert like any other).
    @Test func int16CubeAcrossChunks() throws {
        let dir = TemporaryDirectory("fitsdirect")
        var rng = TestRNG(seed: 16)
        let count = 333 * 101 * 3
        let values = (0..<count).map { _ in Int16(truncatingIfNeeded: rng.next() >> 48) }
        let p = try dir.write("cube.fits", DirectFITS.image(bitpix: 16, axes: [333, 101, 3, 1], bzero: "32768",
                                                           extra: [DirectFITS.card("BLANK", "-32768")],
                                                           data: DirectFITS.bigEndian(values)))
        let image = try DirectFITS.checkSame(p)
        #expect(image.channels == 3 && image.width == 333 && image.height == 101)
    }

    /// Files written by our own writer (the pipeline's frames) read the same both ways.
    @Test func writtenFramesReadTheSame() throws {
        let dir = TemporaryDirectory("fitsdirect")
        var rng = TestRNG(seed: 7)
        let img = Image(width: 97, height: 45, channels: 3, pixels: (0..<(97 * 45 * 3)).map { _ in rng.uniform(-10, 70000) })
        for type in [FITSPixelType.uint16, .int16, .uint8, .int32, .float32] {
            let p = dir.file("w.fits")
            try FITS.write(img, to: p, as: type)
            try DirectFITS.checkSame(p)
        }
    }

    /// Compressed and 64-bit files stay with cfitsio (and still read).
    @Test func unusualFilesFallBackToCFITSIO() throws {
        let dir = TemporaryDirectory("fitsdirect")
        let img = Image(width: 40, height: 30, channels: 1, pixels: (0..<1200).map { Float($0) })
        let c = dir.file("c.fits")
        try FITS.write(img, to: c, as: .uint16, compression: .rice)
        #expect(try !DirectFITS.directReadable(c))
        #expect(try FITS.read(c).pixels == img.pixels)
        let d = dir.file("d.fits")
        try FITS.write(img, to: d, as: .float64)
        #expect(try !DirectFITS.directReadable(d))
        #expect(try FITS.read(d).pixels == img.pixels)
    }

    /// A data unit cut short (inside the padding tolerance of the size check, or a bad header) fails
    /// as before, naming the file.
    @Test func truncatedAndForeignFilesNameTheFile() throws {
        let dir = TemporaryDirectory("fitsdirect")
        let values = (0..<(100 * 20)).map { Int16(truncatingIfNeeded: $0) }
        var data = DirectFITS.image(bitpix: 16, axes: [100, 20], bzero: "32768", data: DirectFITS.bigEndian(values), pad: false)
        data.removeLast(100)
        let p = try dir.write("short.fits", data)
        #expect { try FITS.read(p) } throws: { "\($0)".contains(p) }
        #expect { try FITS.readRows(p, from: 15, count: 5) } throws: { "\($0)".contains(p) }
        #expect { _ = try FITSBands(p, rows: 7).next() ; _ = try FITSBands(p, rows: 20).next() } throws: { "\($0)".contains(p) }
        let q = try dir.write("not.fits", Data(repeating: 65, count: 5000))
        #expect { try FITS.read(q) } throws: { "\($0)".contains(q) }
        let r = try dir.write("cut.fits", DirectFITS.image(bitpix: -32, axes: [1000, 1000], data: Data(count: 400_000)))
        #expect { try FITS.read(r) } throws: { "\($0)".contains(r) }
    }

    /// The direct float32 writer produces the same bytes (and file mode) as cfitsio's writer: random bit
    /// patterns (NaN payloads, infinities, -0, denormals), 1 and 3 planes, data ending on and off a
    /// 2880-byte block, and headers of every keyword kind, short and spanning several blocks.
    @Test func float32WritesAreByteIdenticalToCFITSIO() throws {
        let dir = TemporaryDirectory("fitsdirect")
        var rng = TestRNG(seed: 2880)
        let many = (0..<80).map { FITSKeyword("KEY\($0)", .double(Double($0) * 0.1 + 1e-9), comment: "keyword \($0)") }
        let kinds: [FITSKeyword] = [
            FITSKeyword("TCBVER", .string("1.2.3"), comment: "version"),
            FITSKeyword("TCBNODE", .string("register/00017 with a long string value that goes beyond sixty-eight characters easily"), comment: ""),
            FITSKeyword("EXPTIME", .double(300.123456789012345), comment: "s"),
            FITSKeyword("NFRAMES", .int(-42), comment: "frames"),
            FITSKeyword("FLAG", .bool(true), comment: "a flag"),
            FITSKeyword("DATE-OBS", .string("2024-01-02T03:04:05.678"), comment: "start"),
        ]
        for (w, h, c) in [(37, 23, 1), (720, 4, 1), (64, 45, 3), (1, 1, 1), (1024, 9, 3)] {
            for keys in [[], kinds, kinds + many] {
                let pixels = (0..<(w * h * c)).map { _ -> Float in
                    let r = rng.next()
                    return r % 5 == 0 ? Float(bitPattern: UInt32(truncatingIfNeeded: r >> 32)) : rng.uniform(-1000, 70000)
                }
                let img = Image(width: w, height: h, channels: c, pixels: pixels)
                let a = dir.file("direct.fits"), b = dir.file("cfitsio.fits")
                try FITS.write(img, to: a, as: .float32, keywords: keys)
                try FITS.write(img, to: b, as: .float32, keywords: keys, compression: nil, viaCFITSIO: true)
                let da = try Data(contentsOf: URL(fileURLWithPath: a)), db = try Data(contentsOf: URL(fileURLWithPath: b))
                #expect(da.count == db.count && da == db, "\(w)x\(h)x\(c), \(keys.count) keywords: \(da.count) vs \(db.count) bytes")
                var sa = stat(), sb = stat()
                #expect(stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_mode == sb.st_mode)
                #expect(try FITS.read(a).pixels.map(\.bitPattern) == pixels.map(\.bitPattern))
            }
        }
    }

    @Test func failedDirectWriteNamesTheFile() throws {
        let path = "/nonexistent-dir-\(UInt64.random(in: 0...UInt64.max))/out.fits"
        let img = Image(width: 4, height: 4, channels: 1, pixels: [Float](repeating: 1, count: 16))
        #expect { try FITS.write(img, to: path) } throws: { "\($0)".contains(path) }
    }
}
