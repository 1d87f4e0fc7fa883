import CZlib

/// Errors of the PNG encoder.
public enum PNGError: Error, CustomStringConvertible, Equatable {
    /// The pixel buffer does not hold `width * height * samples` bytes.
    case pixelCount(width: Int, height: Int, samples: Int, got: Int)
    /// Width or height is zero, negative or above the PNG limit (2^31 - 1).
    case badSize(width: Int, height: Int)

    public var description: String {
        switch self {
        case .pixelCount(let w, let h, let s, let got):
            return "PNG image of \(w) x \(h) with \(s) sample(s) per pixel needs \(w * h * s) bytes, got \(got); "
                + "pass interleaved 8-bit samples, row 0 first"
        case .badSize(let w, let h):
            return "PNG image size \(w) x \(h) is not encodable; width and height must be 1 ... 2147483647"
        }
    }
}

/// An 8-bit image ready for PNG encoding: gray (1 sample per pixel) or RGB (3, interleaved),
/// rows top to bottom.
public struct PNGImage: Sendable, Equatable {
    /// Colour model of the samples.
    public enum Color: Sendable, Equatable {
        /// One sample per pixel (PNG colour type 0).
        case gray
        /// Three interleaved samples R, G, B per pixel (PNG colour type 2).
        case rgb

        /// Samples per pixel.
        public var samples: Int { self == .gray ? 1 : 3 }
        /// The PNG IHDR colour type.
        public var colorType: UInt8 { self == .gray ? 0 : 2 }
    }

    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Colour model.
    public let color: Color
    /// `width * height * color.samples` bytes, interleaved, row-major.
    public let pixels: [UInt8]

    /// An image over `pixels`; throws `PNGError` when the size or the byte count is wrong.
    public init(width: Int, height: Int, color: Color, pixels: [UInt8]) throws {
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw PNGError.badSize(width: width, height: height)
        }
        guard pixels.count == width * height * color.samples else {
            throw PNGError.pixelCount(width: width, height: height, samples: color.samples, got: pixels.count)
        }
        self.width = width
        self.height = height
        self.color = color
        self.pixels = pixels
    }
}

/// A minimal PNG writer (8-bit gray or RGB, non-interlaced) over the system zlib.
///
/// Guarantees: the output is a valid PNG (signature, IHDR, one IDAT, IEND, each chunk with its
/// CRC-32 from zlib's `crc32`); the IDAT is one zlib stream from `compress2` at `zlibLevel`; each
/// row uses the adaptive filter with the smallest sum of absolute signed residuals (libpng's
/// heuristic; ties pick the lower filter type); the encoding is deterministic for a given zlib build.
public enum PNG {
    /// The 8-byte PNG file signature.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The zlib compression level of the IDAT stream: 1, zlib's fastest.
    ///
    /// The report is rewritten after every run that changed an artifact, with five previews; at level 6
    /// (zlib's default) their deflate was ~30 ms each, a large part of a small rerun. Measured on the
    /// report previews of the 120-frame demo (asinh-stretched 800 px stacks, the difference image;
    /// python3 zlib 1.2.13 on the same filtered scanlines): level 1 takes 2-6 ms and is 17 % larger
    /// (66 vs 57 KB), level 3 4-13 ms and 10 % larger; level 9 gave the same size as 6 for 1.7x its time.
    static let zlibLevel: Int32 = 1

    /// The PNG file bytes of `image`.
    public static func encode(_ image: PNGImage) -> [UInt8] {
        var out = signature
        var ihdr: [UInt8] = []
        ihdr += bigEndian(UInt32(image.width))
        ihdr += bigEndian(UInt32(image.height))
        ihdr += [8, image.color.colorType, 0, 0, 0]  // bit depth, colour type, deflate, adaptive filters, no interlace
        appendChunk("IHDR", ihdr, to: &out)
        appendChunk("IDAT", zlibStream(filtered(image)), to: &out)
        appendChunk("IEND", [], to: &out)
        return out
    }

    /// `data` as one zlib (RFC 1950) stream, from zlib's `compress2` at `level`.
    static func zlibStream(_ data: [UInt8], level: Int32 = zlibLevel) -> [UInt8] {
        var size = compressBound(uLong(data.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                compress2(dst.baseAddress, &size, src.baseAddress, uLong(src.count), level)
            }
        }
        // compressBound sizes the buffer and the level is valid, so only Z_MEM_ERROR can remain.
        precondition(status == Z_OK, "zlib compress2 failed with status \(status) (out of memory?)")
        out.removeSubrange(Int(size)...)
        return out
    }

    /// The scanlines with their filter byte (PNG filter method 0), chosen per row.
    static func filtered(_ image: PNGImage) -> [UInt8] {
        let bpp = image.color.samples, stride = image.width * bpp
        var out = [UInt8](repeating: 0, count: image.height * (stride + 1))
        var candidate = [UInt8](repeating: 0, count: stride)
        image.pixels.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { dst in
                candidate.withUnsafeMutableBufferPointer { cand in
                    for y in 0..<image.height {
                        let row = UnsafeBufferPointer(rebasing: px[(y * stride)..<((y + 1) * stride)])
                        let up: UnsafeBufferPointer<UInt8>? = y > 0 ? UnsafeBufferPointer(rebasing: px[((y - 1) * stride)..<(y * stride)]) : nil
                        var bestType = 0, bestCost = Int.max
                        for type in 0...4 {
                            let cost = filterRow(type, row, up, bpp, cand)
                            if cost < bestCost {
                                bestCost = cost
                                bestType = type
                            }
                        }
                        _ = filterRow(bestType, row, up, bpp, cand)
                        let base = y * (stride + 1)
                        dst[base] = UInt8(bestType)
                        for i in 0..<stride { dst[base + 1 + i] = cand[i] }
                    }
                }
            }
        }
        return out
    }

    /// Applies filter `type` to `row` into `out`; returns the sum of |residual as Int8|. One loop per
    /// filter type, the first `bpp` bytes (no left neighbour) apart, on raw pointers: the filter choice
    /// tries all five types on every row of a preview.
    static func filterRow(_ type: Int, _ row: UnsafeBufferPointer<UInt8>, _ up: UnsafeBufferPointer<UInt8>?,
                          _ bpp: Int, _ out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let n = row.count
        guard n > 0, let x = row.baseAddress, let o = out.baseAddress else { return 0 }
        let head = min(bpp, n)
        var cost = 0
        @inline(__always) func put(_ i: Int, _ predictor: Int) {
            let r = UInt8(truncatingIfNeeded: Int(x[i]) &- predictor)
            o[i] = r
            cost &+= abs(Int(Int8(bitPattern: r)))
        }
        switch type {
        case 1:
            for i in 0..<head { put(i, 0) }
            for i in head..<n { put(i, Int(x[i &- bpp])) }
        case 2:
            if let u = up?.baseAddress { for i in 0..<n { put(i, Int(u[i])) } } else { for i in 0..<n { put(i, 0) } }
        case 3:
            if let u = up?.baseAddress {
                for i in 0..<head { put(i, Int(u[i]) / 2) }
                for i in head..<n { put(i, (Int(x[i &- bpp]) &+ Int(u[i])) / 2) }
            } else {
                for i in 0..<head { put(i, 0) }
                for i in head..<n { put(i, Int(x[i &- bpp]) / 2) }
            }
        case 4:
            if let u = up?.baseAddress {
                for i in 0..<head { put(i, paeth(0, Int(u[i]), 0)) }
                for i in head..<n { put(i, paeth(Int(x[i &- bpp]), Int(u[i]), Int(u[i &- bpp]))) }
            } else {
                for i in 0..<head { put(i, 0) }
                for i in head..<n { put(i, paeth(Int(x[i &- bpp]), 0, 0)) }
            }
        default:
            for i in 0..<n { put(i, 0) }
        }
        return cost
    }

    /// The Paeth predictor (PNG spec 9.4).
    static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
        let p = a + b - c
        let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    /// Appends length, type, data and the CRC-32 of type and data (zlib's `crc32`, one pass over
    /// the bytes just appended: the type is never empty, so the buffer pointer is never null).
    static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
        out += bigEndian(UInt32(data.count))
        let start = out.count
        out += Array(type.utf8)
        out += data
        let crc = out.withUnsafeBufferPointer { all in
            let body = UnsafeBufferPointer(rebasing: all[start...])
            return UInt32(CZlib.crc32(0, body.baseAddress, uInt(body.count)))
        }
        out += bigEndian(crc)
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
    }
}
