import CFITSIO
import Foundation

/// The data unit of an uncompressed image HDU as stored on disk (BITPIX 8, 16, 32 or -32), so its
/// pixels can be read with `pread` and converted to Float in one pass instead of through cfitsio's
/// buffers, byte swap and per-pixel double conversion. Header parsing, the HDU choice and every error
/// stay with cfitsio (`FITS.imageGeometry`); this only replaces the pixel transfer. The values are
/// exactly cfitsio's (`ffgpxv` with `TFLOAT` and no null value, i.e. no null checking):
/// unscaled data (BSCALE 1, BZERO 0) is `(float) v` (float32 unchanged, NaN payload included), scaled
/// data is `(float) (v * BSCALE + BZERO)` in double. Tests compare both readers on every int16 value and
/// on random bit patterns.
struct FITSDirectLayout: Equatable {
    enum Storage: Equatable { case uint8, int16, int32, float32 }
    var storage: Storage
    /// Byte offset of the data unit in the file.
    var dataStart: Int
    /// BSCALE and BZERO as cfitsio reads them (`ffgkyd`; 1 and 0 when absent).
    var scale: Double, zero: Double

    var bytesPerPixel: Int {
        switch storage {
        case .uint8: return 1
        case .int16: return 2
        case .int32, .float32: return 4
        }
    }

    /// The layout of `file`'s current HDU (after `FITS.imageGeometry`), or nil when cfitsio must read
    /// it: tile-compressed, BITPIX 64 / -64, or a BSCALE/BZERO cfitsio cannot parse.
    static func of(_ file: FITSFile, geometry g: FITS.Geometry) -> FITSDirectLayout? {
        let storage: Storage
        switch g.bitpix {
        case 8: storage = .uint8
        case 16: storage = .int16
        case 32: storage = .int32
        case -32: storage = .float32
        default: return nil
        }
        var status: Int32 = 0
        guard fits_is_compressed_image(file.pointer, &status) == 0, status == 0 else { return nil }
        guard let scale = key("BSCALE", default: 1, file), let zero = key("BZERO", default: 0, file),
              scale.isFinite, zero.isFinite, scale != 0 else { return nil }
        var headStart: Int64 = 0, dataStart: Int64 = 0, dataEnd: Int64 = 0
        ffghadll(file.pointer, &headStart, &dataStart, &dataEnd, &status)
        guard status == 0, dataStart > 0 else { return nil }
        return FITSDirectLayout(storage: storage, dataStart: Int(dataStart), scale: scale, zero: zero)
    }

    /// A numeric keyword's value as cfitsio's `ffgkyd` reads it (the value field, `D` exponents as
    /// `E`, `strtod`); `default` when absent; nil when it appears twice or does not parse. The cards are
    /// read one by one (`ffgrec`), so a missing keyword leaves no message on cfitsio's error stack,
    /// which other threads' error reports drain.
    private static func key(_ name: String, default value: Double, _ file: FITSFile) -> Double? {
        var status: Int32 = 0
        var count: Int32 = 0, more: Int32 = 0
        ffghsp(file.pointer, &count, &more, &status)
        guard status == 0 else { return nil }
        let prefix = Array(name.utf8) + [UInt8](repeating: 32, count: max(0, 8 - name.utf8.count))
        var card = [CChar](repeating: 0, count: 96)
        var found: Double?
        var i: Int32 = 1
        while i <= count {
            ffgrec(file.pointer, i, &card, &status)
            guard status == 0 else { return nil }
            i += 1
            guard (0..<8).allSatisfy({ UInt8(bitPattern: card[$0]) == prefix[$0] }) else { continue }
            guard found == nil else { return nil }
            var raw = [CChar](repeating: 0, count: 96), comment = [CChar](repeating: 0, count: 96)
            ffpsvc(&card, &raw, &comment, &status)
            guard status == 0 else { return nil }
            let text = FITSFile.string(from: raw).trimmingCharacters(in: .whitespaces)
                .replacingOccurrences(of: "D", with: "E").replacingOccurrences(of: "d", with: "E")
            guard !text.isEmpty else { return nil }
            var end: UnsafeMutablePointer<CChar>?
            let v = text.withCString { p -> Double? in
                let v = strtod(p, &end)
                return end.map { $0 - UnsafeMutablePointer(mutating: p) } == strlen(p) ? v : nil
            }
            guard let v else { return nil }
            found = v
        }
        return found ?? value
    }

    /// Whether `(float) (v * scale + zero)` is the exact integer `v + zero` for every stored value, so
    /// integer data converts without double arithmetic.
    var exactIntegerShift: Int32? {
        guard storage == .uint8 || storage == .int16, scale == 1, zero == zero.rounded(), abs(zero) <= 8_388_608 else { return nil }
        return Int32(zero)
    }

    /// Reads `count` pixels starting at pixel `first` of the data unit from `fd` into `dst`, converted.
    /// Returns false when the file ends early (the caller then lets cfitsio report the error).
    func read(fd: Int32, first: Int, count: Int, into dst: UnsafeMutablePointer<Float>,
              scratch: UnsafeMutableRawBufferPointer) -> Bool {
        let bpp = bytesPerPixel
        let chunk = scratch.count / bpp
        var done = 0
        while done < count {
            let n = min(chunk, count - done)
            guard FITSDirectLayout.preadFully(fd, scratch.baseAddress!, n * bpp, offset: dataStart + (first + done) * bpp) else {
                return false
            }
            convert(UnsafeRawPointer(scratch.baseAddress!), count: n, into: dst + done)
            done += n
        }
        return true
    }

    static func preadFully(_ fd: Int32, _ buf: UnsafeMutableRawPointer, _ bytes: Int, offset: Int) -> Bool {
        var got = 0
        while got < bytes {
            let r = pread(fd, buf + got, bytes - got, off_t(offset + got))
            if r > 0 { got += r; continue }
            if r < 0 && errno == EINTR { continue }
            return false
        }
        return true
    }

    /// Converts `count` big-endian stored values at `src` to Float.
    func convert(_ src: UnsafeRawPointer, count n: Int, into dst: UnsafeMutablePointer<Float>) {
        let unscaled = scale == 1 && zero == 0
        switch storage {
        case .float32:
            if unscaled {
                FITSDirectLayout.swap32(src, count: n, into: UnsafeMutableRawPointer(dst))
            } else {
                FITSDirectLayout.swap32(src, count: n, into: UnsafeMutableRawPointer(dst))
                let s = scale, z = zero
                for i in 0..<n { dst[i] = Float(Double(dst[i]) * s + z) }
            }
        case .int32:
            FITSDirectLayout.swap32(src, count: n, into: UnsafeMutableRawPointer(dst))
            let raw = UnsafeMutableRawPointer(dst)
            if unscaled {
                FITSDirectLayout.int32ToFloat(raw, count: n)
            } else {
                let s = scale, z = zero
                for i in 0..<n {
                    let v = raw.load(fromByteOffset: i * 4, as: Int32.self)
                    dst[i] = Float(Double(v) * s + z)
                }
            }
        case .int16:
            if let shift = exactIntegerShift {
                FITSDirectLayout.int16ToFloat(src, count: n, shift: shift, into: dst)
            } else {
                let s = scale, z = zero
                for i in 0..<n {
                    let v = Int16(bitPattern: UInt16(bigEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                    dst[i] = Float(Double(v) * s + z)
                }
            }
        case .uint8:
            let bytes = src.assumingMemoryBound(to: UInt8.self)
            if let shift = exactIntegerShift {
                for i in 0..<n { dst[i] = Float(Int32(bytes[i]) &+ shift) }
            } else {
                let s = scale, z = zero
                for i in 0..<n { dst[i] = Float(Double(bytes[i]) * s + z) }
            }
        }
    }

    /// Big-endian 32-bit words to host order, eight at a time.
    @inline(__always)
    static func swap32(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutableRawPointer) {
        var i = 0
        #if _endian(little)
        let m = SIMD8<UInt32>(repeating: 0xff00)
        while i &+ 8 <= count {
            let v = src.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<UInt32>.self)
            let s = (v &<< 24) | ((v & m) &<< 8) | ((v &>> 8) & m) | (v &>> 24)
            dst.storeBytes(of: s, toByteOffset: i &* 4, as: SIMD8<UInt32>.self)
            i &+= 8
        }
        #endif
        while i < count {
            dst.storeBytes(of: UInt32(bigEndian: src.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)),
                           toByteOffset: i &* 4, as: UInt32.self)
            i &+= 1
        }
    }

    /// Int32 values (host order, in place) to Float, rounded to nearest as C's `(float)` is.
    @inline(__always)
    static func int32ToFloat(_ p: UnsafeMutableRawPointer, count: Int) {
        var i = 0
        while i &+ 8 <= count {
            let v = p.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Int32>.self)
            p.storeBytes(of: SIMD8<Float>(v), toByteOffset: i &* 4, as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < count {
            let v = p.load(fromByteOffset: i &* 4, as: Int32.self)
            p.storeBytes(of: Float(v), toByteOffset: i &* 4, as: Float.self)
            i &+= 1
        }
    }

    /// Big-endian int16 plus an integer `shift` (|shift| <= 2^23, so every result is exact) to Float.
    @inline(__always)
    static func int16ToFloat(_ src: UnsafeRawPointer, count: Int, shift: Int32, into dst: UnsafeMutablePointer<Float>) {
        var i = 0
        let out = UnsafeMutableRawPointer(dst)
        let z = SIMD8<Int32>(repeating: shift)
        while i &+ 8 <= count {
            let v = src.loadUnaligned(fromByteOffset: i &* 2, as: SIMD8<UInt16>.self)
            #if _endian(little)
            let h = (v &<< 8) | (v &>> 8)
            #else
            let h = v
            #endif
            let w = SIMD8<Int32>(truncatingIfNeeded: SIMD8<Int16>(truncatingIfNeeded: h)) &+ z
            out.storeBytes(of: SIMD8<Float>(w), toByteOffset: i &* 4, as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < count {
            let v = Int16(bitPattern: UInt16(bigEndian: src.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))
            dst[i] = Float(Int32(v) &+ shift)
            i &+= 1
        }
    }
}

/// An open descriptor and a conversion buffer for direct reads of one file (closed on deinit).
final class FITSDirectReader {
    let layout: FITSDirectLayout
    private let fd: Int32
    private let scratch: UnsafeMutableRawBufferPointer
    /// Bytes per `pread`: small enough to stay in cache between the copy and the conversion.
    static let chunkBytes = 64 << 10

    /// nil when the layout is not direct-readable or the file cannot be opened (cfitsio then reads it).
    init?(_ file: FITSFile, geometry g: FITS.Geometry) {
        guard let layout = FITSDirectLayout.of(file, geometry: g) else { return nil }
        let fd = Foundation.open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        self.layout = layout
        self.fd = fd
        scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: FITSDirectReader.chunkBytes, alignment: 64)
    }

    deinit {
        close(fd)
        scratch.deallocate()
    }

    /// Rows `[y0, y0 + count)` of every plane into `dst` (plane after plane), or false when the file
    /// is shorter than its header says.
    func readPlanes(geometry g: FITS.Geometry, y0: Int, count: Int, into dst: UnsafeMutablePointer<Float>) -> Bool {
        let planeCount = g.width * count
        for c in 0..<g.channels {
            let first = (c * g.height + y0) * g.width
            guard layout.read(fd: fd, first: first, count: planeCount, into: dst + c * planeCount, scratch: scratch) else {
                return false
            }
        }
        return true
    }
}
