import Foundation
import Testing
@testable import Imaging
import TestSupport

/// Expected content of one exported file, as `bench/fits_check.py` reads it from `manifest.json`.
private struct ExportEntry: Codable {
    var file: String
    /// numpy/astropy dtype name after BSCALE/BZERO: uint8, int16, uint16, int32, float32, float64.
    var dtype: String
    /// astropy shape: [height, width] or [planes, height, width].
    var shape: [Int]
    var min: Double
    var max: Double
    var mean: Double
    /// (plane, y, x, value) samples.
    var pixels: [[Double]]
    /// Header keywords that must be present with these values (numbers or strings).
    var keywords: [String: String]
    var compressed: Bool
}

/// Writes the interoperability sample set, checks every file reads back exactly, and (when
/// `TCBUILD_FITS_EXPORT_DIR` is set) leaves the files plus `manifest.json` in that directory for
/// `bench/fits_check.py` (astropy + siril). Without the variable it uses and removes a temp dir.
@Suite struct FITSInteropTests {
    private struct Sample {
        var name: String, type: FITSPixelType, dtype: String, lo: Double, hi: Double
        var channels: Int = 1, compressed: Bool = false, keywords: [FITSKeyword] = []
    }

    @Test func exportSampleSetAndVerifyRoundTrip() throws {
        let exportDir = ProcessInfo.processInfo.environment["TCBUILD_FITS_EXPORT_DIR"]
        let temporary = exportDir == nil ? TemporaryDirectory("fitsexport") : nil
        defer { withExtendedLifetime(temporary) {} }
        let dir = exportDir ?? temporary!.path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)

        let camera = [FITSKeyword("EXPTIME", .double(30), comment: "seconds"),
                      FITSKeyword("DATE-OBS", .string("2026-03-01T21:04:05")),
                      FITSKeyword("BAYERPAT", .string("RGGB")),
                      FITSKeyword("XBAYROFF", .int(0)), FITSKeyword("YBAYROFF", .int(1))]
        let provenance = [FITSKeyword("TCBVER", .string("0.1.0")),
                          FITSKeyword("TCBNODE", .string("stack")),
                          FITSKeyword("TCBFP", .string("3f2a9c0d11e4b7a85d6c0e2f9b1a7c44"))]
        let samples = [
            Sample(name: "mono_u8.fits", type: .uint8, dtype: "uint8", lo: -10, hi: 265),
            Sample(name: "mono_i16.fits", type: .int16, dtype: "int16", lo: -32768, hi: 32767),
            Sample(name: "mono_u16.fits", type: .uint16, dtype: "uint16", lo: -100, hi: 65635, keywords: camera),
            Sample(name: "mono_i32.fits", type: .int32, dtype: "int32", lo: -5e6, hi: 5e6),
            Sample(name: "mono_f32.fits", type: .float32, dtype: "float32", lo: -1, hi: 4, keywords: provenance),
            Sample(name: "mono_f64.fits", type: .float64, dtype: "float64", lo: 0, hi: 1e6),
            Sample(name: "rgb_f32.fits", type: .float32, dtype: "float32", lo: 0, hi: 1, channels: 3, keywords: provenance),
            Sample(name: "mono_u16.fits.fz", type: .uint16, dtype: "uint16", lo: 0, hi: 65535,
                   compressed: true, keywords: camera),
        ]
        let w = 96, h = 64
        var rng = TestRNG(seed: 20260301)
        var manifest: [ExportEntry] = []
        for s in samples {
            var img = Image(width: w, height: h, channels: s.channels)
            for i in img.pixels.indices { img.pixels[i] = rng.uniform(Float(s.lo), Float(s.hi)) }
            let path = dir + "/" + s.name
            try FITS.write(img, to: path, as: s.type, keywords: s.keywords,
                           compression: s.compressed ? .rice : nil)
            // what must be stored: integer types clamp and round, floats are exact
            let expected: [Float] = img.pixels.map { v in
                switch s.type {
                case .float32, .float64: return v
                case .uint8: return Float(FITS.clampRound(v, 0, 255))
                case .int16: return Float(FITS.clampRound(v, -32768, 32767))
                case .uint16: return Float(FITS.clampRound(v, 0, 65535))
                case .int32: return Float(FITS.clampRound(v, -2147483648, 2147483647))
                }
            }
            let back = try FITS.read(path)
            #expect(back.width == w && back.height == h && back.channels == s.channels, "\(s.name)")
            #expect(back.pixels == expected, "\(s.name) pixels differ after round trip")
            let header = try FITS.readHeader(path)
            for k in s.keywords { #expect(header.keywords[k.name] == k.value, "\(s.name) \(k.name)") }

            var sum = 0.0
            for v in expected { sum += Double(v) }
            let spots = [(0, 0, 0), (0, h - 1, w - 1), (s.channels - 1, h / 2, w / 3), (0, 7, 11)]
            let n = w * h
            manifest.append(ExportEntry(
                file: s.name, dtype: s.dtype,
                shape: s.channels == 1 ? [h, w] : [s.channels, h, w],
                min: Double(expected.min()!), max: Double(expected.max()!), mean: sum / Double(expected.count),
                pixels: spots.map { c, y, x in [Double(c), Double(y), Double(x), Double(expected[c * n + y * w + x])] },
                keywords: Dictionary(uniqueKeysWithValues: s.keywords.map { k in
                    switch k.value {
                    case .string(let v): return (k.name, v)
                    case .int(let v): return (k.name, String(v))
                    case .double(let v): return (k.name, String(v))
                    case .bool(let v): return (k.name, v ? "T" : "F")
                    }
                }),
                compressed: s.compressed))
        }
        // the clamped extremes really are in the integer samples
        #expect(manifest[2].min == 0 && manifest[2].max == 65535)
        #expect(manifest[0].min == 0 && manifest[0].max == 255)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: dir + "/manifest.json"))
        #expect(FileManager.default.fileExists(atPath: dir + "/manifest.json"))
    }
}
