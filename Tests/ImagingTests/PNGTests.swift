import CZlib
import Foundation
import Testing
import TestSupport
@testable import Imaging

/// A PNG reader for the tests: chunk walk with CRCs checked by zlib's `crc32`, the IDAT inflated
/// by zlib's `uncompress2` (which checks the Adler-32 trailer), and the five scanline filters.
enum PNGReader {
    struct Chunk { let type: String; let data: [UInt8]; let crcValid: Bool }
    struct Decoded { let width: Int; let height: Int; let bitDepth: UInt8; let colorType: UInt8; let pixels: [UInt8]; let chunks: [String] }
    enum Failure: Error { case bad(String) }

    static func u32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }

    /// zlib's CRC-32 of `bytes` (non-empty).
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(CZlib.crc32(0, $0.baseAddress, uInt($0.count))) }
    }

    static func chunks(_ png: [UInt8]) throws -> [Chunk] {
        guard png.count >= 8, Array(png[0..<8]) == PNG.signature else { throw Failure.bad("signature") }
        var o = 8, out: [Chunk] = []
        while o < png.count {
            guard o + 12 <= png.count else { throw Failure.bad("truncated chunk header") }
            let n = Int(u32(png, o))
            guard o + 12 + n <= png.count else { throw Failure.bad("truncated chunk") }
            let type = String(decoding: png[(o + 4)..<(o + 8)], as: UTF8.self)
            let data = Array(png[(o + 8)..<(o + 8 + n)])
            let crc = u32(png, o + 8 + n)
            out.append(Chunk(type: type, data: data, crcValid: crc == crc32(png[(o + 4)..<(o + 8 + n)])))
            o += 12 + n
        }
        return out
    }

    /// Inflates the zlib stream `z` whose decoded size is exactly `size`; throws unless zlib
    /// accepts it (header, deflate data, Adler-32) and it has no trailing bytes.
    static func inflate(zlib z: [UInt8], size: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size + 1)  // one spare byte: a longer stream is caught
        var outLen = uLongf(out.count), inLen = uLong(z.count)
        let status = z.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in uncompress2(dst.baseAddress, &outLen, src.baseAddress, &inLen) }
        }
        guard status == Z_OK else { throw Failure.bad("zlib uncompress2 status \(status)") }
        guard Int(outLen) == size else { throw Failure.bad("inflated \(outLen) bytes, expected \(size)") }
        guard Int(inLen) == z.count else { throw Failure.bad("trailing bytes after the zlib stream") }
        return Array(out[0..<size])
    }

    static func decode(_ png: [UInt8]) throws -> Decoded {
        let cs = try chunks(png)
        guard cs.allSatisfy(\.crcValid) else { throw Failure.bad("chunk CRC") }
        guard let ihdr = cs.first, ihdr.type == "IHDR", ihdr.data.count == 13 else { throw Failure.bad("IHDR") }
        let w = Int(u32(ihdr.data, 0)), h = Int(u32(ihdr.data, 4))
        let idat = cs.filter { $0.type == "IDAT" }.flatMap(\.data)
        let bpp = ihdr.data[9] == 2 ? 3 : 1, stride = w * bpp
        let raw = try inflate(zlib: idat, size: h * (stride + 1))
        var px = [UInt8](repeating: 0, count: w * h * bpp)
        for y in 0..<h {
            let type = raw[y * (stride + 1)]
            for i in 0..<stride {
                let r = Int(raw[y * (stride + 1) + 1 + i])
                let a = i >= bpp ? Int(px[y * stride + i - bpp]) : 0
                let b = y > 0 ? Int(px[(y - 1) * stride + i]) : 0
                let c = (i >= bpp && y > 0) ? Int(px[(y - 1) * stride + i - bpp]) : 0
                let p: Int
                switch type {
                case 0: p = 0
                case 1: p = a
                case 2: p = b
                case 3: p = (a + b) / 2
                case 4: p = PNG.paeth(a, b, c)
                default: throw Failure.bad("filter \(type)")
                }
                px[y * stride + i] = UInt8((r + p) & 0xff)
            }
        }
        return Decoded(width: w, height: h, bitDepth: ihdr.data[8], colorType: ihdr.data[9], pixels: px, chunks: cs.map(\.type))
    }
}

@Suite("PNG encoder")
struct PNGTests {
    /// A deterministic test pattern: gradients plus noise, so every filter type gets used.
    static func pattern(width: Int, height: Int, color: PNGImage.Color, seed: UInt64) throws -> PNGImage {
        var rng = TestRNG(seed: seed)
        var px: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<color.samples {
                    let smooth = (x * 3 + y * 2 + c * 40) & 0xff
                    px.append(UInt8((smooth + Int(rng.next() % 7)) & 0xff))
                }
            }
        }
        return try PNGImage(width: width, height: height, color: color, pixels: px)
    }

    @Test("chunk CRCs: zlib's crc32 as called here gives the published check values")
    func checksums() throws {
        #expect(PNGReader.crc32(ArraySlice("123456789".utf8)) == 0xCBF4_3926)
        // Every PNG ends with IEND and its constant CRC AE 42 60 82.
        let png = PNG.encode(try Self.pattern(width: 5, height: 3, color: .rgb, seed: 2))
        #expect(Array(png.suffix(12)) == [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
        #expect(try PNGReader.chunks(png).allSatisfy(\.crcValid))
    }

    @Test("zlib stream: compress2 at level 6 round-trips through uncompress2")
    func zlibRoundTrip() throws {
        var rng = TestRNG(seed: 5)
        let repetitive = (0..<70_000).map { UInt8(($0 / 3) % 50) }
        let random = (0..<5000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let mixed: [UInt8] = Array(repetitive[0..<300]) + Array(random[0..<300]) + Array(repetitive[0..<300])
        for input in [[], [42], repetitive, random, mixed] {
            let z = PNG.zlibStream(input)
            // CMF 0x78 (deflate, 32 KiB window), FLEVEL 0 (fastest: level 1), header check mod 31.
            #expect(z[0] == 0x78 && z[1] >> 6 == 0 && (Int(z[0]) * 256 + Int(z[1])) % 31 == 0)
            #expect(try PNGReader.inflate(zlib: z, size: input.count) == input, Comment(rawValue: "\(input.count) bytes"))
        }
        #expect(PNG.zlibStream(repetitive).count < repetitive.count / 100)
        #expect(PNG.zlibLevel == 1)
    }

    @Test("PNG structure: signature, IHDR fields, chunk CRCs, exact pixels for gray and RGB", arguments: [PNGImage.Color.gray, .rgb])
    func structure(color: PNGImage.Color) throws {
        for (w, h) in [(37, 23), (1, 1), (300, 7)] {
            let image = try Self.pattern(width: w, height: h, color: color, seed: 9)
            let png = PNG.encode(image)
            #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            let decoded = try PNGReader.decode(png)
            #expect(decoded.chunks == ["IHDR", "IDAT", "IEND"])
            #expect(decoded.width == w && decoded.height == h && decoded.bitDepth == 8)
            #expect(decoded.colorType == (color == .gray ? 0 : 2))
            #expect(decoded.pixels == image.pixels)
            // The encoding is deterministic.
            #expect(PNG.encode(image) == png)
        }
    }

    @Test("the adaptive filters are all used and the pixels survive them")
    func filtersRoundTrip() throws {
        let image = try Self.pattern(width: 64, height: 40, color: .rgb, seed: 4)
        let raw = PNG.filtered(image)
        let types = Set(stride(from: 0, to: raw.count, by: 64 * 3 + 1).map { raw[$0] })
        #expect(types.count >= 2 && types.isSubset(of: [0, 1, 2, 3, 4]), "filter types \(types.sorted())")
        #expect(try PNGReader.decode(PNG.encode(image)).pixels == image.pixels)
    }

    @Test("each filter type's residuals and cost equal the per-byte definition, with and without a row above")
    func filterRowMatchesDefinition() throws {
        // The PNG definition byte by byte (a: left, b: up, c: up-left; 0 outside the image).
        func reference(_ type: Int, _ row: [UInt8], _ up: [UInt8]?, _ bpp: Int) -> ([UInt8], Int) {
            var out = [UInt8](repeating: 0, count: row.count), cost = 0
            for i in 0..<row.count {
                let a = i >= bpp ? Int(row[i - bpp]) : 0
                let b = up.map { Int($0[i]) } ?? 0
                let c = (i >= bpp ? up.map { Int($0[i - bpp]) } : nil) ?? 0
                let predictor = [0, a, b, (a + b) / 2, PNG.paeth(a, b, c)][type]
                out[i] = UInt8(truncatingIfNeeded: Int(row[i]) - predictor)
                cost += abs(Int(Int8(bitPattern: out[i])))
            }
            return (out, cost)
        }
        var rng = TestRNG(seed: 12)
        for bpp in [1, 3] {
            for n in [1, 2, 3, 4, 31] {
                let row = (0..<n).map { _ in UInt8(rng.uniform() * 256) }, above = (0..<n).map { _ in UInt8(rng.uniform() * 256) }
                for up in [nil, above] as [[UInt8]?] {
                    for type in 0...4 {
                        var out = [UInt8](repeating: 0, count: n)
                        let cost = row.withUnsafeBufferPointer { r in
                            out.withUnsafeMutableBufferPointer { o in
                                if let up { return up.withUnsafeBufferPointer { PNG.filterRow(type, r, $0, bpp, o) } }
                                return PNG.filterRow(type, r, nil, bpp, o)
                            }
                        }
                        let (expected, expectedCost) = reference(type, row, up, bpp)
                        #expect(out == expected && cost == expectedCost, "type \(type) bpp \(bpp) n \(n) up \(up != nil)")
                    }
                }
            }
        }
    }

    @Test("a corrupted byte is caught by the chunk CRC")
    func crcDetectsCorruption() throws {
        var png = PNG.encode(try Self.pattern(width: 8, height: 8, color: .gray, seed: 1))
        let chunks = try PNGReader.chunks(png)
        #expect(chunks.allSatisfy { $0.crcValid })
        png[8 + 8 + 5] ^= 0x01  // a byte inside IHDR's data
        #expect(try PNGReader.chunks(png).first?.crcValid == false)
    }

    @Test("bad sizes are rejected with a message naming the size")
    func badSizes() {
        #expect(throws: PNGError.pixelCount(width: 2, height: 2, samples: 3, got: 4)) {
            try PNGImage(width: 2, height: 2, color: .rgb, pixels: [1, 2, 3, 4])
        }
        #expect(throws: PNGError.badSize(width: 0, height: 5)) { try PNGImage(width: 0, height: 5, color: .gray, pixels: []) }
        #expect(PNGError.pixelCount(width: 2, height: 2, samples: 3, got: 4).description.contains("needs 12 bytes, got 4"))
    }

    @Test("asinh stretch: sky near the target grey, stars bright, NaN black, monotone")
    func stretch() throws {
        var rng = TestRNG(seed: 3)
        var image = Image(width: 64, height: 48, fill: 0)
        for i in 0..<image.pixels.count { image.pixels[i] = 1000 + Float(rng.uniform() * 20 - 10) }
        image[10, 10] = 60_000
        image[11, 10] = 30_000
        image[0, 0] = .nan
        let stretch = AsinhStretch()
        let png = stretch.png(image)
        #expect(png.color == .gray && png.width == 64 && png.height == 48)
        let sky = Statistics.median(png.pixels.map(Float.init))!
        #expect(abs(Double(sky) - 0.15 * 255) < 6, "sky \(sky)")
        #expect(png.pixels[10 * 64 + 10] == 255)
        #expect(png.pixels[0] == 0)
        // Monotone: a brighter linear value never gets a darker display value.
        let (b, w, beta) = try #require(stretch.parameters(image.pixels))
        #expect(b < 1000 && w > 1000 && beta > 1)
        #expect(asinh(beta * 0.5) / asinh(beta) > asinh(beta * 0.25) / asinh(beta))
        // The beta solve hits its target.
        let solved = AsinhStretch.beta(midtone: 0.01, target: 0.15)
        #expect(abs(asinh(solved * 0.01) / asinh(solved) - 0.15) < 1e-9)
    }

    @Test("RGB previews keep three planes; downscale box-averages ignoring NaN")
    func rgbAndDownscale() throws {
        var image = Image(width: 10, height: 4, channels: 3, fill: 1)
        for c in 0..<3 { for y in 0..<4 { for x in 0..<10 { image[x, y, c] = Float(x + 10 * y + 100 * c) } } }
        image[0, 0, 0] = .nan
        let small = image.downscaled(maxWidth: 4)  // k = 3: 4 x 2
        #expect(small.width == 4 && small.height == 2 && small.channels == 3)
        // Block (0,0) of plane 0: x 0...2, y 0...2 without the NaN: mean of 8 values.
        let expected = ([1, 2, 10, 11, 12, 20, 21, 22] as [Float]).reduce(0, +) / 8
        #expect(small[0, 0, 0] == expected)
        #expect(small[3, 1, 2] == Float(9 + 10 * 3 + 200))  // partial edge block: x 9, y 3 only
        let png = AsinhStretch().png(image, maxWidth: 4)
        #expect(png.color == .rgb && png.width == 4 && png.pixels.count == 4 * 2 * 3)
        #expect(image.downscaled(maxWidth: nil) == image && image.downscaled(maxWidth: 10) == image)
    }

    @Test("diverging preview: zero is mid-grey, sign sets the side")
    func diverging() {
        var image = Image(width: 8, height: 1, fill: 0)
        image.pixels = [0, 1, -1, 0.5, -0.5, 100, -100, .nan]
        let png = AsinhStretch.diverging(image)
        #expect(png.pixels[0] == 128)
        #expect(png.pixels[1] > 128 && png.pixels[2] < 128)
        #expect(png.pixels[5] > png.pixels[1] && png.pixels[6] < png.pixels[2])
        #expect(Int(png.pixels[1]) - 128 == 128 - Int(png.pixels[2]))
        #expect(png.pixels[7] == 0)
    }
}
