import Foundation
import Testing
@testable import Imaging
import TestSupport

/// Builds FITS files byte by byte (independent of cfitsio and of our writer), so the reader is
/// checked against the standard itself: 80-char cards in 2880-byte blocks, big-endian data.
private enum RawFITS {
    static func card(_ key: String, _ value: String) -> String {
        let k = key.padding(toLength: 8, withPad: " ", startingAt: 0)
        let v = String(repeating: " ", count: max(0, 20 - value.count)) + value
        return (k + "= " + v).padding(toLength: 80, withPad: " ", startingAt: 0)
    }
    static func header(_ cards: [String]) -> Data {
        var text = cards.joined() + "END".padding(toLength: 80, withPad: " ", startingAt: 0)
        while text.count % 2880 != 0 { text += " " }
        return Data(text.utf8)
    }
    static func padded(_ d: Data) -> Data {
        var d = d
        if d.count % 2880 != 0 { d.append(Data(count: 2880 - d.count % 2880)) }
        return d
    }
    /// A primary image with the given BITPIX, shape, scaling and big-endian raw data.
    static func image(bitpix: Int, axes: [Int], bscale: Double? = nil, bzero: Double? = nil,
                      extra: [String] = [], data: Data) -> Data {
        var cards = [card("SIMPLE", "T"), card("BITPIX", "\(bitpix)"), card("NAXIS", "\(axes.count)")]
        for (i, a) in axes.enumerated() { cards.append(card("NAXIS\(i + 1)", "\(a)")) }
        if let bscale { cards.append(card("BSCALE", "\(bscale)")) }
        if let bzero { cards.append(card("BZERO", "\(bzero)")) }
        return header(cards + extra) + padded(data)
    }
    static func bigEndian<T: FixedWidthInteger>(_ values: [T]) -> Data {
        var d = Data()
        for v in values { withUnsafeBytes(of: v.bigEndian) { d.append(contentsOf: $0) } }
        return d
    }
}

@Suite struct FITSRawTests {
    @Test func bitpix8HonoursBscaleBzero() throws {
        let dir = TemporaryDirectory("fitsraw")
        let raw: [UInt8] = [0, 1, 127, 255, 10, 20]
        let p = try dir.write("b8.fits", RawFITS.image(bitpix: 8, axes: [3, 2], bscale: 0.5, bzero: -10,
                                                         data: Data(raw)))
        let img = try FITS.read(p)
        #expect(img.width == 3 && img.height == 2)
        #expect(img.pixels == raw.map { Float(Double($0) * 0.5 - 10) })
        #expect(try FITS.readHeader(p).bitpix == 8)
    }

    @Test func bitpix16WithCameraBzeroAndCustomScale() throws {
        let dir = TemporaryDirectory("fitsraw")
        // camera style: stored int16 = value - 32768
        let values: [Int] = [0, 1, 32768, 65534, 65535]
        let stored = values.map { Int16(truncatingIfNeeded: $0 - 32768) }
        let p = try dir.write("u16.fits", RawFITS.image(bitpix: 16, axes: [5, 1], bzero: 32768,
                                                          data: RawFITS.bigEndian(stored)))
        #expect(try FITS.read(p).pixels == values.map(Float.init))
        let q = try dir.write("s16.fits", RawFITS.image(bitpix: 16, axes: [2, 2], bscale: 2, bzero: 100,
                                                          data: RawFITS.bigEndian([Int16(-3), 0, 7, 32767])))
        #expect(try FITS.read(q).pixels == [94, 100, 114, 65634])
    }

    @Test func bitpix32AndFloat64AndCube() throws {
        let dir = TemporaryDirectory("fitsraw")
        let ints: [Int32] = [-2_000_000, 0, 1, 2_000_000, 5, 6]
        let p = try dir.write("i32.fits", RawFITS.image(bitpix: 32, axes: [2, 1, 3], data: RawFITS.bigEndian(ints)))
        let img = try FITS.read(p)
        #expect(img.width == 2 && img.height == 1 && img.channels == 3)
        #expect(img.pixels == ints.map(Float.init))
        #expect(img.plane(1).pixels == [1, 2_000_000])
        let doubles: [Double] = [1.25, -3.5e10, 0, 7]
        let q = try dir.write("f64.fits", RawFITS.image(bitpix: -64, axes: [4, 1],
                                                          data: RawFITS.bigEndian(doubles.map(\.bitPattern))))
        #expect(try FITS.read(q).pixels == doubles.map(Float.init))
        // NAXIS=4 with a trailing axis of 1 is still a cube
        let r = try dir.write("n4.fits", RawFITS.image(bitpix: 32, axes: [2, 1, 3, 1], data: RawFITS.bigEndian(ints)))
        #expect(try FITS.read(r).channels == 3)
    }

    @Test func imageInFirstExtensionAfterEmptyPrimary() throws {
        let dir = TemporaryDirectory("fitsraw")
        var file = RawFITS.header([RawFITS.card("SIMPLE", "T"), RawFITS.card("BITPIX", "8"),
                                   RawFITS.card("NAXIS", "0"), RawFITS.card("EXTEND", "T"),
                                   RawFITS.card("EXPTIME", "120.0")])
        file += RawFITS.header([RawFITS.card("XTENSION", "'IMAGE   '"), RawFITS.card("BITPIX", "16"),
                                RawFITS.card("NAXIS", "2"), RawFITS.card("NAXIS1", "2"), RawFITS.card("NAXIS2", "2"),
                                RawFITS.card("PCOUNT", "0"), RawFITS.card("GCOUNT", "1"),
                                RawFITS.card("EXPTIME", "30.0")])
        file += RawFITS.padded(RawFITS.bigEndian([Int16(1), 2, 3, 4]))
        let p = try dir.write("ext.fits", file)
        #expect(try FITS.read(p).pixels == [1, 2, 3, 4])
        #expect(try FITS.readHeader(p).exposure == 30)  // the image HDU's header, not the primary's
    }

    /// The four kinds of broken input: each throws a FITSError whose text names the file, and the
    /// cfitsio-backed ones carry cfitsio's own message.
    @Test func brokenFilesGiveClearErrors() throws {
        let dir = TemporaryDirectory("fitsraw")
        let missing = dir.path + "/missing.fits"
        let notFits = try dir.write("notes.fits", Data("this is a text file, not FITS\n".utf8))
        let good = RawFITS.image(bitpix: -32, axes: [100, 100],
                                 data: RawFITS.bigEndian([UInt32](repeating: Float(1).bitPattern, count: 10_000)))
        let truncated = try dir.write("truncated.fits", good.prefix(2880 + 8000))
        let truncatedHeader = try dir.write("cut-header.fits", good.prefix(400))
        var table = RawFITS.header([RawFITS.card("SIMPLE", "T"), RawFITS.card("BITPIX", "8"),
                                    RawFITS.card("NAXIS", "0"), RawFITS.card("EXTEND", "T")])
        table += RawFITS.header([RawFITS.card("XTENSION", "'BINTABLE'"), RawFITS.card("BITPIX", "8"),
                                 RawFITS.card("NAXIS", "2"), RawFITS.card("NAXIS1", "4"), RawFITS.card("NAXIS2", "1"),
                                 RawFITS.card("PCOUNT", "0"), RawFITS.card("GCOUNT", "1"),
                                 RawFITS.card("TFIELDS", "1"), RawFITS.card("TFORM1", "'J       '")])
        table += RawFITS.padded(RawFITS.bigEndian([Int32(42)]))
        let tableOnly = try dir.write("table.fits", table)

        func failure(_ path: String) -> FITSError? {
            do { _ = try FITS.read(path); return nil } catch { return error as? FITSError }
        }
        let e1 = try #require(failure(missing))
        #expect(e1 == .fileNotFound(path: missing))
        #expect(e1.description.contains(missing))

        let e2 = try #require(failure(notFits))
        guard case .cannotOpen(_, let status, let msg) = e2 else { Issue.record("got \(e2)"); return }
        #expect(status != 0 && !msg.isEmpty)
        #expect(e2.description.contains(notFits) && e2.description.contains(msg))

        let e3 = try #require(failure(truncated))
        guard case .readFailed(_, _, let msg3) = e3 else { Issue.record("got \(e3)"); return }
        #expect(e3.description.contains(truncated) && e3.description.contains(msg3) && !msg3.isEmpty)
        // a header cut short fails at open, also naming the file
        let e3b = try #require(failure(truncatedHeader))
        #expect(e3b.description.contains(truncatedHeader))

        let e4 = try #require(failure(tableOnly))
        #expect(e4 == .noImage(path: tableOnly))
        #expect(e4.description.contains(tableOnly))
        #expect(throws: FITSError.self) { try FITS.readHeader(tableOnly) }
        #expect(msg3.contains("truncated") && msg3.contains("\(good.count)"))
        // truncation is detected before any pixel is read, by every entry point
        #expect(throws: FITSError.self) { try FITS.readRows(truncated, from: 0, count: 10) }
        #expect(throws: FITSError.self) { try FITS.readHeader(truncated) }
        // missing padding of the last block alone is tolerated (some writers omit it)
        let unpadded = try dir.write("unpadded.fits", good.prefix(2880 + 40_000))
        #expect(try FITS.read(unpadded).pixels.allSatisfy { $0 == 1 })
        // writing into a directory that does not exist names the target
        let target = dir.path + "/no/such/dir/out.fits"
        #expect(throws: FITSError.self) { try FITS.write(Image(width: 2, height: 2), to: target) }
        do { try FITS.write(Image(width: 2, height: 2), to: target) } catch {
            #expect("\(error)".contains(target))
        }
    }
}
