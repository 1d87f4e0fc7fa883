import CFITSIO
import Foundation

extension FITS {
    /// Reads the rectangle `[x, x + width) x [y, y + height)` of every plane as float32 (BSCALE/BZERO
    /// applied, NaN kept), touching only those pixels on disk: one tile of a frame, for tile tasks that
    /// read a tile across all frames. The result is `width x height` with the file's planes, rows and
    /// planes in the order of `read`. Throws `FITSError.rowRange` when the rectangle leaves the image.
    public static func readRect(_ path: String, x: Int, y: Int, width: Int, height: Int) throws -> Image {
        let file = try FITSFile.open(path)
        let g = try imageGeometry(file)
        guard x >= 0, y >= 0, width > 0, height > 0, x + width <= g.width, y + height <= g.height else {
            throw FITSError.rowRange(path: path, y0: y, count: height, height: g.height)
        }
        let total = width * height * g.channels
        var status: Int32 = 0
        // One subset read over every plane (trailing axes of length 1 included): cfitsio reads each
        // row segment of the rectangle and converts to float.
        var first: [Int] = [x + 1, y + 1, 1, 1, 1, 1, 1, 1, 1]
        var last: [Int] = [x + width, y + height, g.channels, 1, 1, 1, 1, 1, 1]
        var step: [Int] = [1, 1, 1, 1, 1, 1, 1, 1, 1]
        let pixels = [Float](unsafeUninitializedCapacity: total) { buf, initialized in
            ffgsv(file.pointer, TFLOAT, &first, &last, &step, nil, buf.baseAddress!, nil, &status)
            if status != 0 { buf.initialize(repeating: 0) }
            initialized = total
        }
        try file.check(status) { .readFailed(path: path, status: $0, cfitsio: $1) }
        return Image(width: width, height: height, channels: g.channels, pixels: pixels)
    }
}
