import CFITSIO
import Foundation

/// Tile compression for `FITS.write(..., compression:)`, producing a `.fz`-style file whose image
/// lives in the first extension (cfitsio and astropy read it transparently).
public enum FITSCompression: Sendable {
    /// Rice, lossless for integer pixel types (float32/float64 are stored losslessly with GZIP instead).
    case rice
    /// GZIP of the tiles, lossless for every pixel type.
    case gzip
}

extension FITS {
    /// Structural keywords the writer owns; callers may not pass them.
    static let reservedKeywords: Set<String> = [
        "SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3", "EXTEND", "BZERO", "BSCALE", "END",
        "XTENSION", "PCOUNT", "GCOUNT",
    ]

    /// Writes `image` (1 plane -> NAXIS=2, n planes -> NAXIS=3) and overwrites `path`.
    ///
    /// The file is written to a temporary name in the same directory and renamed over `path`, so a
    /// reader never sees a half-written file and a failed write leaves the old file untouched.
    /// Integer types clamp and round (half away from zero); NaN becomes 0 for integer types.
    /// `.uint16` is stored as BITPIX 16 with BZERO 32768, as cameras do, so 0 and 65535 survive.
    /// `keywords` (e.g. `TCBVER`, `TCBNODE`, `TCBFP`, `EXPTIME`) are written in order after the
    /// structural cards; doubles are written with 17 significant digits and read back exactly.
    public static func write(_ image: Image, to path: String, as type: FITSPixelType = .float32,
                             keywords: [FITSKeyword] = []) throws {
        try write(image, to: path, as: type, keywords: keywords, compression: nil)
    }

    /// As `write(_:to:as:keywords:)`, optionally tile-compressed (image in HDU 2, empty primary).
    public static func write(_ image: Image, to path: String, as type: FITSPixelType = .float32,
                             keywords: [FITSKeyword] = [], compression: FITSCompression?) throws {
        try write(image, to: path, as: type, keywords: keywords, compression: compression, viaCFITSIO: false)
    }

    /// `write`; an uncompressed float32 image is written by `writeFreshDirect` (the same bytes) unless
    /// `viaCFITSIO` (tests compare both).
    static func write(_ image: Image, to path: String, as type: FITSPixelType, keywords: [FITSKeyword],
                      compression: FITSCompression?, viaCFITSIO: Bool) throws {
        for k in keywords {
            let name = k.name.uppercased()
            if reservedKeywords.contains(name) {
                throw FITSError.invalidKeyword(path: path, name: k.name,
                                               reason: "it is structural and written by the FITS writer itself; drop it")
            }
            if name.isEmpty || name.contains(where: { $0 == " " || $0 == "=" || !$0.isASCII }) {
                throw FITSError.invalidKeyword(path: path, name: k.name,
                                               reason: "names must be non-empty ASCII without spaces or '='")
            }
        }
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-" + UUID().uuidString
        do {
            if type == .float32 && compression == nil && !viaCFITSIO {
                try writeFreshDirect(image, to: tmp, finalPath: path, keywords: keywords)
            } else {
                try writeFresh(image, to: tmp, finalPath: path, type: type, keywords: keywords, compression: compression)
            }
            if rename(tmp, path) != 0 {
                let err = String(cString: strerror(errno))
                throw FITSError.writeFailed(path: path, status: 0, cfitsio: "rename from temporary file failed: \(err)")
            }
        } catch {
            unlink(tmp)
            throw error
        }
    }

    /// Creates `tmp` (must not exist) and writes the image; errors name `finalPath`.
    private static func writeFresh(_ image: Image, to tmp: String, finalPath: String, type: FITSPixelType,
                                   keywords: [FITSKeyword], compression: FITSCompression?) throws {
        let file = try FITSFile.create(tmp, reportAs: finalPath)
        let fail: (Int32, String) -> FITSError = { .writeFailed(path: finalPath, status: $0, cfitsio: $1) }
        var status: Int32 = 0
        if let compression {
            let isFloat = type == .float32 || type == .float64
            let ctype: Int32 = (compression == .gzip || isFloat) ? GZIP_1 : RICE_1
            fits_set_compression_type(file.pointer, ctype, &status)
            if isFloat { fits_set_quantize_level(file.pointer, 0, &status) }  // 0 = lossless for floats
            try file.check(status, fail)
        }
        let bitpix: Int32
        switch type {
        case .uint8: bitpix = BYTE_IMG
        case .int16: bitpix = SHORT_IMG
        case .uint16: bitpix = USHORT_IMG
        case .int32: bitpix = LONG_IMG
        case .float32: bitpix = FLOAT_IMG
        case .float64: bitpix = DOUBLE_IMG
        }
        var naxes: [Int] = image.channels == 1 ? [image.width, image.height]
                                               : [image.width, image.height, image.channels]
        ffcrim(file.pointer, bitpix, Int32(naxes.count), &naxes, &status)
        try file.check(status, fail)
        for k in keywords { try writeKeyword(k, file: file, fail: fail) }
        try writePixels(image, type: type, file: file, fail: fail)
        try file.close()
    }

    /// `writeFresh` for an uncompressed float32 image without cfitsio's pixel path (a copy into its
    /// buffer, a scalar byte swap, a copy into its I/O buffers): cfitsio formats the header in memory
    /// (the same calls as `writeFresh`, so the same cards), and the file is that header padded with
    /// blanks to 2880 bytes, the big-endian pixels (swapped in cache-sized chunks) and zeros to the
    /// next 2880 bytes, which is the byte layout cfitsio writes. Errors name `finalPath`.
    private static func writeFreshDirect(_ image: Image, to tmp: String, finalPath: String, keywords: [FITSKeyword]) throws {
        let fail: (Int32, String) -> FITSError = { .writeFailed(path: finalPath, status: $0, cfitsio: $1) }
        var header: [UInt8]
        do {
            let mem = try FITSFile.createInMemory(reportAs: finalPath)
            var status: Int32 = 0
            let naxes: [Int] = image.channels == 1 ? [image.width, image.height]
                                                   : [image.width, image.height, image.channels]
            // The memory file's image is 1 x 1 (x 1), so cfitsio never allocates or zero-fills a data
            // unit in memory; its NAXISn cards get the real lengths only while the header is taken.
            var ones = [Int](repeating: 1, count: naxes.count)
            ffcrim(mem.pointer, FLOAT_IMG, Int32(naxes.count), &ones, &status)
            try mem.check(status, fail)
            func setAxes(_ lengths: [Int]) throws {
                for (i, n) in lengths.enumerated() { ffmkyj(mem.pointer, "NAXIS\(i + 1)", Int64(n), "&", &status) }
                try mem.check(status, fail)
            }
            try setAxes(naxes)
            for k in keywords { try writeKeyword(k, file: mem, fail: fail) }
            var text: UnsafeMutablePointer<CChar>?
            var count: Int32 = 0
            ffhdr2str(mem.pointer, 0, nil, 0, &text, &count, &status)
            defer { if let text { var s: Int32 = 0; fffree(text, &s) } }
            try mem.check(status, fail)
            guard let text else { throw fail(0, "cfitsio returned no header") }
            header = Array(UnsafeRawBufferPointer(start: text, count: strlen(text)))
            let end = Array("END".utf8) + [UInt8](repeating: 32, count: 77)
            guard header.count % 80 == 0, header.count >= 80, Array(header.suffix(80)) == end else {
                throw fail(0, "cfitsio returned a malformed header (\(header.count) bytes)")
            }
            try setAxes(ones)
            try mem.close()
        }
        header += [UInt8](repeating: 32, count: (2880 - header.count % 2880) % 2880)

        let fd = Foundation.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw fail(0, "cannot create file: \(String(cString: strerror(errno)))") }
        var open = true
        defer { if open { close(fd) } }
        func put(_ p: UnsafeRawPointer, _ n: Int) throws {
            var done = 0
            while done < n {
                let r = Foundation.write(fd, p + done, n - done)
                if r > 0 { done += r; continue }
                if r < 0 && errno == EINTR { continue }
                throw fail(0, "write failed: \(String(cString: strerror(r < 0 ? errno : EIO)))")
            }
        }
        try header.withUnsafeBytes { try put($0.baseAddress!, $0.count) }
        let chunk = FITSDirectReader.chunkBytes / 4
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk * 4, alignment: 64)
        defer { scratch.deallocate() }
        let total = image.pixels.count
        try image.pixels.withUnsafeBytes { src in
            var i = 0
            while i < total {
                let n = min(chunk, total - i)
                FITSDirectLayout.swap32(src.baseAddress! + i * 4, count: n, into: scratch.baseAddress!)
                try put(UnsafeRawPointer(scratch.baseAddress!), n * 4)
                i += n
            }
        }
        let fill = (2880 - (total * 4) % 2880) % 2880
        if fill > 0 {
            let zeros = [UInt8](repeating: 0, count: fill)
            try zeros.withUnsafeBytes { try put($0.baseAddress!, fill) }
        }
        open = false
        if close(fd) != 0 { throw fail(0, "close failed: \(String(cString: strerror(errno)))") }
    }

    private static func writeKeyword(_ k: FITSKeyword, file: FITSFile,
                                     fail: (Int32, String) -> FITSError) throws {
        var status: Int32 = 0
        let name = k.name.uppercased()
        switch k.value {
        case .string(let s): ffukys(file.pointer, name, s, k.comment, &status)
        case .int(let i): ffukyj(file.pointer, name, Int64(i), k.comment, &status)
        case .double(let d): ffukyd(file.pointer, name, d, -17, k.comment, &status)
        case .bool(let b): ffukyl(file.pointer, name, b ? 1 : 0, k.comment, &status)
        }
        try file.check(status, fail)
    }

    /// Converts and writes all pixels, one plane at a time through a reusable typed buffer.
    private static func writePixels(_ image: Image, type: FITSPixelType, file: FITSFile,
                                    fail: (Int32, String) -> FITSError) throws {
        let n = image.planeSize
        var status: Int32 = 0
        try image.pixels.withUnsafeBufferPointer { src in
            for c in 0..<image.channels {
                var first: [Int] = [1, 1, c + 1]
                let plane = UnsafeBufferPointer(rebasing: src[(c * n)..<((c + 1) * n)])
                switch type {
                case .float32:
                    ffppx(file.pointer, TFLOAT, &first, Int64(n), UnsafeMutableRawPointer(mutating: plane.baseAddress!), &status)
                case .float64:
                    var out = plane.map { Double($0) }
                    ffppx(file.pointer, TDOUBLE, &first, Int64(n), &out, &status)
                case .uint8:
                    var out = plane.map { UInt8(clampRound($0, 0, 255)) }
                    ffppx(file.pointer, TBYTE, &first, Int64(n), &out, &status)
                case .int16:
                    var out = plane.map { Int16(clampRound($0, -32768, 32767)) }
                    ffppx(file.pointer, TSHORT, &first, Int64(n), &out, &status)
                case .uint16:
                    var out = plane.map { UInt16(clampRound($0, 0, 65535)) }
                    ffppx(file.pointer, TUSHORT, &first, Int64(n), &out, &status)
                case .int32:
                    var out = plane.map { Int32(clampRound($0, -2147483648, 2147483647)) }
                    ffppx(file.pointer, TINT, &first, Int64(n), &out, &status)
                }
                try file.check(status, fail)
            }
        }
    }

    /// Rounds half away from zero and clamps to [lo, hi] in Double; NaN -> 0 (clamped).
    @inline(__always)
    static func clampRound(_ v: Float, _ lo: Double, _ hi: Double) -> Double {
        if v.isNaN { return min(max(0, lo), hi) }
        return min(max(Double(v).rounded(.toNearestOrAwayFromZero), lo), hi)
    }
}
