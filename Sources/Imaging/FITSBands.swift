import CFITSIO
import Foundation

/// One FITS image read band by band through a single open handle: the header once, then `next()`
/// gives rows `[y, y + rows)` of every plane (as `FITS.readRows` would) until the image is done.
/// For a whole-frame pass that keeps no more than a band in memory without opening the file, finding
/// its image HDU and parsing its header once per band.
public final class FITSBands {
    /// The header of the image HDU (as `FITS.readHeader`).
    public let header: FITSHeader
    /// Rows per band (the last band may be shorter).
    public let rows: Int
    /// First row of the next band.
    public private(set) var y = 0

    private let file: FITSFile
    private let geometry: FITS.Geometry
    /// BITPIX 16 with BZERO 32768 and BSCALE 1 (a camera's unsigned 16-bit data): read as UInt16 and
    /// widened here, which gives the float values of cfitsio's float conversion (every UInt16 is exact
    /// in Float) without its per-pixel double arithmetic.
    private let unsigned16: Bool
    /// The direct reader of an uncompressed image (`FITSDirectReader`), opened once for all bands.
    private let direct: FITSDirectReader?

    /// Opens `path` (throws `FITSError` as `FITS.readHeader` does) for bands of `rows` rows (>= 1).
    public init(_ path: String, rows: Int) throws {
        precondition(rows >= 1, "a band has at least one row")
        file = try FITSFile.open(path)
        geometry = try FITS.imageGeometry(file)
        header = FITSHeader(width: geometry.width, height: geometry.height, channels: geometry.channels,
                            bitpix: geometry.bitpix, keywords: try FITS.readKeywords(file))
        self.rows = rows
        unsigned16 = geometry.bitpix == 16 && header.keywords["BZERO"]?.doubleValue == 32768
            && (header.keywords["BSCALE"]?.doubleValue ?? 1) == 1
        direct = FITSDirectReader(file, geometry: geometry)
    }

    /// The next band (height `min(rows, remaining)`), or nil after the last row.
    public func next() throws -> Image? {
        guard y < geometry.height else { return nil }
        let n = min(rows, geometry.height - y)
        let band = unsigned16 && direct == nil ? try readUnsigned16(y0: y, count: n)
            : try FITS.readPlanes(file, geometry: geometry, y0: y, count: n, direct: direct)
        y += n
        return band
    }

    /// Rows `[y0, y0 + count)` of every plane read as UInt16 and widened to Float.
    private func readUnsigned16(y0: Int, count: Int) throws -> Image {
        let g = geometry, planeCount = g.width * count, total = planeCount * g.channels
        var status: Int32 = 0
        var raw = [UInt16](repeating: 0, count: total)
        raw.withUnsafeMutableBufferPointer { buf in
            for c in 0..<g.channels where status == 0 {
                var first: [Int] = [1, y0 + 1, c + 1, 1, 1, 1, 1, 1, 1]  // NAXIS may exceed 3 (trailing 1s)
                ffgpxv(file.pointer, TUSHORT, &first, Int64(planeCount), nil, buf.baseAddress! + c * planeCount, nil, &status)
            }
        }
        try file.check(status) { .readFailed(path: file.path, status: $0, cfitsio: $1) }
        let pixels = [Float](unsafeUninitializedCapacity: total) { dst, initialized in
            raw.withUnsafeBufferPointer { src in
                for i in 0..<total { dst[i] = Float(src[i]) }
            }
            initialized = total
        }
        return Image(width: g.width, height: count, channels: g.channels, pixels: pixels)
    }
}
