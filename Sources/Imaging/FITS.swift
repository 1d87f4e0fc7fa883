import CFITSIO
import Foundation

/// The pixel type written to disk. Reading always yields float32 after BSCALE/BZERO.
public enum FITSPixelType: Sendable {
    /// BITPIX 8, values clamped and rounded to [0, 255].
    case uint8
    /// BITPIX 16, values clamped and rounded to [-32768, 32767].
    case int16
    /// BITPIX 16 with BZERO 32768 (as cameras write), values clamped and rounded to [0, 65535].
    case uint16
    /// BITPIX 32, values clamped and rounded to the Int32 range.
    case int32
    /// BITPIX -32, values written unchanged (NaN stays NaN).
    case float32
    /// BITPIX -64, values widened exactly from Float.
    case float64
}

/// FITS input/output on `Image`. All functions are synchronous, take a plain path (no cfitsio
/// extended file-name syntax), never crash on bad files, and throw `FITSError` naming the file.
/// Each call opens and closes its own cfitsio handle, so calls from different threads on different
/// files are independent.
public enum FITS {
    /// Reads the primary image, or the first image HDU that has data (e.g. a tile-compressed `.fz`),
    /// as float32 with BSCALE/BZERO applied. NaN pixels of float files are kept.
    public static func read(_ path: String) throws -> Image {
        try read(path, viaCFITSIO: false)
    }

    /// `read`, optionally forcing cfitsio's pixel conversion (tests compare both).
    static func read(_ path: String, viaCFITSIO: Bool) throws -> Image {
        let file = try FITSFile.open(path)
        let geometry = try imageGeometry(file)
        return try readPlanes(file, geometry: geometry, y0: 0, count: geometry.height, viaCFITSIO: viaCFITSIO)
    }

    /// Reads the header of the image HDU that `read` would use, without reading pixels.
    public static func readHeader(_ path: String) throws -> FITSHeader {
        let file = try FITSFile.open(path)
        let g = try imageGeometry(file)
        return FITSHeader(width: g.width, height: g.height, channels: g.channels, bitpix: g.bitpix,
                          keywords: try readKeywords(file))
    }

    /// Reads rows `[y0, y0 + count)` of every plane, touching only those rows on disk.
    /// The result has `height == count`; plane order and row order are as in `read`.
    public static func readRows(_ path: String, from y0: Int, count: Int) throws -> Image {
        let file = try FITSFile.open(path)
        let g = try imageGeometry(file)
        guard y0 >= 0, count > 0, y0 + count <= g.height else {
            throw FITSError.rowRange(path: path, y0: y0, count: count, height: g.height)
        }
        return try readPlanes(file, geometry: g, y0: y0, count: count)
    }

    // MARK: - internals

    struct Geometry {
        var width: Int, height: Int, channels: Int, bitpix: Int
    }

    /// Moves to the first IMAGE HDU with NAXIS > 0 and returns its shape.
    static func imageGeometry(_ file: FITSFile) throws -> Geometry {
        let path = file.path
        var status: Int32 = 0
        var hduCount: Int32 = 0
        ffthdu(file.pointer, &hduCount, &status)
        try file.check(status) { .readFailed(path: path, status: $0, cfitsio: $1) }
        var hdu: Int32 = 1
        while hdu <= hduCount {
            var type: Int32 = 0
            ffmahd(file.pointer, hdu, &type, &status)
            try file.check(status) { .readFailed(path: path, status: $0, cfitsio: $1) }
            if type == IMAGE_HDU {
                var bitpix: Int32 = 0, naxis: Int32 = 0
                var naxes = [Int64](repeating: 0, count: 9)
                ffgiprll(file.pointer, 9, &bitpix, &naxis, &naxes, &status)
                try file.check(status) { .readFailed(path: path, status: $0, cfitsio: $1) }
                if naxis > 0 {
                    let axes = naxes.prefix(Int(min(naxis, 9))).map { Int($0) }
                    guard axes.count >= 2, axes[0] > 0, axes[1] > 0,
                          axes.dropFirst(3).allSatisfy({ $0 == 1 }) else {
                        if axes.contains(0) { hdu += 1; continue }
                        throw FITSError.unsupportedShape(path: path, axes: axes)
                    }
                    let channels = axes.count >= 3 ? axes[2] : 1
                    guard channels > 0 else { throw FITSError.unsupportedShape(path: path, axes: axes) }
                    let (pixels, overflow) = axes[0].multipliedReportingOverflow(by: axes[1] * channels)
                    guard !overflow, pixels <= maxPixels else {
                        throw FITSError.unsupportedShape(path: path, axes: axes)
                    }
                    try checkComplete(file)
                    return Geometry(width: axes[0], height: axes[1], channels: channels, bitpix: Int(bitpix))
                }
            }
            hdu += 1
        }
        throw FITSError.noImage(path: path)
    }

    /// Largest image accepted (2^31 pixels = 8 GB as float32): a corrupt header cannot make us
    /// allocate absurd amounts of memory.
    static let maxPixels = 1 << 31

    /// Throws when the file is shorter than the current HDU's header says (truncated download or
    /// copy), before any pixel buffer is allocated. The final 2880-byte block's padding may be missing.
    static func checkComplete(_ file: FITSFile) throws {
        var status: Int32 = 0
        var headStart: Int64 = 0, dataStart: Int64 = 0, dataEnd: Int64 = 0
        ffghadll(file.pointer, &headStart, &dataStart, &dataEnd, &status)
        try file.check(status) { .readFailed(path: file.path, status: $0, cfitsio: $1) }
        var st = stat()  // stat, not lstat: a symlinked frame is measured by its target
        let size: Int64? = stat(file.path, &st) == 0 ? Int64(st.st_size) : nil
        if let size, size < dataEnd - 2879 {
            var text = [CChar](repeating: 0, count: 96)
            ffgerr(END_OF_FILE, &text)
            throw FITSError.readFailed(path: file.path, status: END_OF_FILE,
                                       cfitsio: FITSFile.string(from: text) + " | the header needs \(dataEnd) bytes, the file has \(size): truncated")
        }
    }

    /// Reads `count` rows from `y0` of every plane of the current HDU as float32: an uncompressed
    /// image directly from the file (`FITSDirectReader`, the same values), anything else, or a file
    /// that ends early, through cfitsio (`viaCFITSIO`).
    static func readPlanes(_ file: FITSFile, geometry g: Geometry, y0: Int, count: Int,
                           direct: FITSDirectReader? = nil, viaCFITSIO: Bool = false) throws -> Image {
        if !viaCFITSIO, let reader = direct ?? FITSDirectReader(file, geometry: g) {
            let total = g.width * count * g.channels
            var ok = false
            let pixels = [Float](unsafeUninitializedCapacity: total) { buf, initialized in
                ok = reader.readPlanes(geometry: g, y0: y0, count: count, into: buf.baseAddress!)
                if !ok { buf.initialize(repeating: 0) }
                initialized = total
            }
            if ok { return Image(width: g.width, height: count, channels: g.channels, pixels: pixels) }
        }
        return try readPlanesCFITSIO(file, geometry: g, y0: y0, count: count)
    }

    /// `readPlanes` through cfitsio's `ffgpxv` (`TFLOAT`, no null checking).
    static func readPlanesCFITSIO(_ file: FITSFile, geometry g: Geometry, y0: Int, count: Int) throws -> Image {
        let path = file.path
        let planeCount = g.width * count
        let total = planeCount * g.channels
        var status: Int32 = 0
        // cfitsio fills every element on success; on failure the array is zeroed before it is dropped,
        // so no uninitialized memory ever escapes.
        let pixels = [Float](unsafeUninitializedCapacity: total) { buf, initialized in
            // Read in bands of rows so cfitsio's conversion buffer and the destination stay cache-warm.
            let band = max(1, (1 << 20) / max(1, g.width))
            for c in 0..<g.channels {
                var y = 0
                while y < count && status == 0 {
                    let rows = min(band, count - y)
                    var first: [Int] = [1, y0 + y + 1, c + 1, 1, 1, 1, 1, 1, 1]  // NAXIS may exceed 3 (trailing 1s)
                    ffgpxv(file.pointer, TFLOAT, &first, Int64(rows * g.width), nil,
                           buf.baseAddress! + c * planeCount + y * g.width, nil, &status)
                    y += rows
                }
            }
            if status != 0 { buf.initialize(repeating: 0) }
            initialized = total
        }
        try file.check(status) { .readFailed(path: path, status: $0, cfitsio: $1) }
        return Image(width: g.width, height: count, channels: g.channels, pixels: pixels)
    }

    /// Every valued card of the current HDU, by upper-case name. For a tile-compressed HDU the
    /// header is first converted to the equivalent image header (`ffcnvthdr2str`), so BITPIX/NAXISn
    /// describe the image, not the binary table that stores it.
    static func readKeywords(_ file: FITSFile) throws -> [String: FITSValue] {
        let path = file.path
        var status: Int32 = 0
        var text: UnsafeMutablePointer<CChar>?
        var count: Int32 = 0
        ffcnvthdr2str(file.pointer, 1, nil, 0, &text, &count, &status)
        defer { if let text { var s: Int32 = 0; fffree(text, &s) } }
        try file.check(status) { .readFailed(path: path, status: $0, cfitsio: $1) }
        guard let text else { return [:] }
        var result: [String: FITSValue] = [:]
        var card = [CChar](repeating: 0, count: 96)
        var name = [CChar](repeating: 0, count: 96)
        var value = [CChar](repeating: 0, count: 96)
        var comment = [CChar](repeating: 0, count: 96)
        for i in 0..<Int(count) {
            for j in 0..<80 { card[j] = text[i * 80 + j] }
            card[80] = 0
            var length: Int32 = 0
            var s: Int32 = 0
            ffgknm(&card, &name, &length, &s)
            ffpsvc(&card, &value, &comment, &s)
            if s != 0 { continue }  // a malformed card is skipped, not fatal
            let key = FITSFile.string(from: name).uppercased()
            if !key.isEmpty, key != "END", key != "CONTINUE", let v = FITSValue.parse(FITSFile.string(from: value)) { result[key] = v }
        }
        return result
    }
}
