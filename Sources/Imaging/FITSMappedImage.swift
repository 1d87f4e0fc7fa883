import CFITSIO
import Foundation

/// A plain float32 FITS image mapped into memory (`mmap`, read-only), for readers that take many small
/// rectangles of the same files, such as tile tasks (one tile across all frames, tile after tile):
/// after the mapping, a rectangle costs no system call and no cfitsio call, only the big-endian to
/// host conversion of its pixels. The values are exactly what `FITS.readRect` returns for the same
/// file (BITPIX -32 without scaling is the raw IEEE value; NaN is kept).
///
/// Only for files that are not modified while mapped (e.g. content-addressed artifacts); `open`
/// returns nil for anything else than an uncompressed BITPIX -32 image without BSCALE/BZERO scaling,
/// and callers then read through cfitsio.
public final class FITSMappedImage: @unchecked Sendable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Planes.
    public let channels: Int
    private let base: UnsafeMutableRawPointer
    private let length: Int
    private let dataOffset: Int

    private init(width: Int, height: Int, channels: Int, base: UnsafeMutableRawPointer, length: Int, dataOffset: Int) {
        self.width = width
        self.height = height
        self.channels = channels
        self.base = base
        self.length = length
        self.dataOffset = dataOffset
    }

    deinit { munmap(base, length) }

    /// Maps `path` when it is a plain float32 image; nil when it is not (compressed, scaled, another
    /// BITPIX). Throws `FITSError` when the file cannot be read at all.
    public static func open(_ path: String) throws -> FITSMappedImage? {
        let file = try FITSFile.open(path)
        let g = try FITS.imageGeometry(file)
        guard g.bitpix == -32 else { return nil }
        var status: Int32 = 0
        guard fits_is_compressed_image(file.pointer, &status) == 0, status == 0 else { return nil }
        let keys = try FITS.readKeywords(file)
        if let s = keys["BSCALE"], s != .double(1) && s != .int(1) { return nil }
        if let z = keys["BZERO"], z != .double(0) && z != .int(0) { return nil }
        var headStart: Int64 = 0, dataStart: Int64 = 0, dataEnd: Int64 = 0
        ffghadll(file.pointer, &headStart, &dataStart, &dataEnd, &status)
        guard status == 0 else { return nil }
        let needed = Int(dataStart) + g.width * g.height * g.channels * 4
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) >= needed, needed > 0 else { return nil }
        guard let p = mmap(nil, needed, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED else { return nil }
        return FITSMappedImage(width: g.width, height: g.height, channels: g.channels, base: p, length: needed,
                               dataOffset: Int(dataStart))
    }

    /// Drops this process's pages of rows `[0, y)` of every plane (`madvise(MADV_DONTNEED)`): a reader
    /// that moves down the image keeps its resident set to the rows it still reads. The file's pages
    /// stay in the page cache, so reading those rows again only costs a minor fault; values never change.
    public func release(rowsBelow y: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let rows = min(max(y, 0), height)
        guard rows > 0, page > 0 else { return }
        for c in 0..<channels {
            let start = dataOffset + c * height * width * 4, end = start + rows * width * 4
            let a = (start + page - 1) / page * page, b = end / page * page
            if b > a { _ = madvise(base + a, b - a, Int32(MADV_DONTNEED)) }
        }
    }

    /// Big-endian words to host order, eight then four at a time (shifts and masks: SSE2 has no byte
    /// shuffle; eight lanes are one AVX2 register on the Haswell build, two SSE registers elsewhere).
    @inline(__always)
    static func swapWords(_ src: UnsafePointer<UInt32>, into dst: UnsafeMutablePointer<UInt32>, count: Int) {
        var i = 0
        #if _endian(little)
        let m8: SIMD8<UInt32> = SIMD8(repeating: 0xff00)
        while i &+ 8 <= count {
            let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<UInt32>.self)
            let s = (v &<< 24) | ((v & m8) &<< 8) | ((v &>> 8) & m8) | (v &>> 24)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: s, as: SIMD8<UInt32>.self)
            i &+= 8
        }
        let m: SIMD4<UInt32> = SIMD4(repeating: 0xff00)
        while i &+ 4 <= count {
            let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD4<UInt32>.self)
            let s = (v &<< 24) | ((v & m) &<< 8) | ((v &>> 8) & m) | (v &>> 24)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: s, as: SIMD4<UInt32>.self)
            i &+= 4
        }
        #endif
        while i < count { dst[i] = UInt32(bigEndian: src[i]); i &+= 1 }
    }

    /// Plane `plane` of the rectangle `[x, x + w) x [y, y + h)` into `pixels`, row by row (the values of
    /// that plane of `rect`), reusing the array's storage when it already holds `w * h` values: a
    /// reader that takes one rectangle after another allocates nothing.
    public func read(x: Int, y: Int, width w: Int, height h: Int, plane: Int, into pixels: inout [Float], path: String) throws {
        try check(x: x, y: y, width: w, height: h, plane: plane, path: path)
        if pixels.count != w * h { pixels = [Float](repeating: 0, count: w * h) }
        pixels.withUnsafeMutableBufferPointer { copy(x: x, y: y, width: w, height: h, plane: plane, into: $0.baseAddress!) }
    }

    /// Plane `plane` of the rectangle `[x, x + w) x [y, y + h)` into the `w * h` values at `dst`, row by row
    /// (`to:`, not `into:`: an `&array` argument must not turn into a pointer to a too short array).
    public func read(x: Int, y: Int, width w: Int, height h: Int, plane: Int, to dst: UnsafeMutablePointer<Float>,
                     path: String) throws {
        try check(x: x, y: y, width: w, height: h, plane: plane, path: path)
        copy(x: x, y: y, width: w, height: h, plane: plane, into: dst)
    }

    /// The rectangle `[x, x + w) x [y, y + h)` of every plane (as `FITS.readRect`).
    public func rect(x: Int, y: Int, width w: Int, height h: Int, path: String) throws -> Image {
        try check(x: x, y: y, width: w, height: h, plane: 0, path: path)
        let plane = w * h, total = plane * channels
        let pixels = [Float](unsafeUninitializedCapacity: total) { buf, initialized in
            for c in 0..<channels { copy(x: x, y: y, width: w, height: h, plane: c, into: buf.baseAddress! + c * plane) }
            initialized = total
        }
        return Image(width: w, height: h, channels: channels, pixels: pixels)
    }

    /// Throws `FITSError.rowRange` unless the rectangle lies inside the image and `plane` exists.
    private func check(x: Int, y: Int, width w: Int, height h: Int, plane: Int, path: String) throws {
        guard x >= 0, y >= 0, w > 0, h > 0, x + w <= width, y + h <= height, plane >= 0, plane < channels else {
            throw FITSError.rowRange(path: path, y0: y, count: h, height: height)
        }
    }

    /// Plane `plane` of a checked rectangle, byte-swapped row by row into `dst`.
    private func copy(x: Int, y: Int, width w: Int, height h: Int, plane: Int, into dst: UnsafeMutablePointer<Float>) {
        // The data unit starts on a 2880-byte block of a page-aligned mapping: 4-byte aligned words.
        let words = UnsafeRawPointer(base + dataOffset).assumingMemoryBound(to: UInt32.self)
        dst.withMemoryRebound(to: UInt32.self, capacity: w * h) { out in
            for r in 0..<h {
                FITSMappedImage.swapWords(words + (plane * height + y + r) * width + x, into: out + r * w, count: w)
            }
        }
    }
}
