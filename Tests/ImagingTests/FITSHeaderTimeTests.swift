import Foundation
import Testing
@testable import Imaging

/// Header variants as cameras and capture programs write them: DATE-OBS with fractions and zone
/// offsets, date-only DATE-OBS with UT-OBS, MJD-OBS, DATE-END, numbers written as strings.
@Suite struct FITSHeaderTimeTests {
    private func header(_ keywords: [String: FITSValue]) -> FITSHeader {
        FITSHeader(width: 4, height: 4, channels: 1, bitpix: 16, keywords: keywords)
    }

    /// 2026-03-14T21:00:00 UTC.
    private let epoch = 1_773_522_000.0

    @Test func dateObsVariantsParseToTheSameInstant() throws {
        for text in ["2026-03-14T21:00:00", "2026-03-14T21:00:00Z", "2026-03-14T21:00:00.000", "2026-03-14 21:00:00",
                     "2026-03-14T22:00:00+01:00", "2026-03-14T23:30:00+0230", "2026-03-14T16:00:00-05:00", "2026-03-14T21:00"] {
            let t = try #require(FITSTime.parse(text), "\(text)")
            #expect(t.timeIntervalSince1970 == epoch, "\(text)")
        }
        #expect(FITSTime.parse("2026-03-14T21:00:00.25")!.timeIntervalSince1970 == epoch + 0.25)
        for bad in ["", "yesterday", "2026-13-01T00:00:00", "2026-03-14T25:00:00", "2026-03-14T21:00:00+1"] {
            #expect(FITSTime.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func observationTimeFallsBackThroughTheKeywords() {
        #expect(header(["DATE-OBS": .string("2026-03-14T21:00:00+00:00")]).observationTime?.timeIntervalSince1970 == epoch)
        #expect(header(["DATE-OBS": .string("2026-03-14"), "UT-OBS": .string("21:00:00")]).observationTime?.timeIntervalSince1970 == epoch)
        #expect(header(["DATE-OBS": .string("2026-03-14"), "TIME-OBS": .string("21:00:00")]).observationTime?.timeIntervalSince1970 == epoch)
        let mjd = 40587 + epoch / 86400
        #expect(abs(header(["MJD-OBS": .double(mjd)]).observationTime!.timeIntervalSince1970 - epoch) < 1e-3)
        #expect(header(["DATE-END": .string("2026-03-14T21:01:00"), "EXPTIME": .double(60)]).observationTime?.timeIntervalSince1970 == epoch)
        #expect(header(["DATE-OBS": .string("garbage"), "MJD-OBS": .string("\(mjd)")]).observationTime != nil)
        #expect(header([:]).observationTime == nil)
    }

    @Test func observationNamesItsSource() throws {
        func source(_ k: [String: FITSValue]) -> String? { header(k).observation?.source }
        func seconds(_ k: [String: FITSValue]) -> Double? { header(k).observation?.date.timeIntervalSince1970 }
        // DATE-OBS with a UTC offset: the offset is applied.
        #expect(seconds(["DATE-OBS": .string("2026-03-14T22:00:00+01:00")]) == epoch)
        #expect(source(["DATE-OBS": .string("2026-03-14T22:00:00+01:00")]) == "DATE-OBS")
        // Date-only DATE-OBS with the time of day elsewhere.
        #expect(source(["DATE-OBS": .string("2026-03-14"), "TIME-OBS": .string("21:00:00")]) == "DATE-OBS+TIME-OBS")
        #expect(source(["DATE-OBS": .string("2026-03-14"), "UT-OBS": .string("21:00:00")]) == "DATE-OBS+UT-OBS")
        #expect(seconds(["DATE-OBS": .string("2026-03-14"), "TIME-OBS": .string("bad"), "UT-OBS": .string("21:00:00")]) == epoch)
        // A date alone is midnight, and says so.
        #expect(seconds(["DATE-OBS": .string("2026-03-14")]) == epoch - 21 * 3600)
        // No DATE-OBS: UT-OBS (with DATE, or a full date-time), MJD-OBS (also as a string), DATE-END.
        #expect(seconds(["DATE": .string("2026-03-14T08:00:00"), "UT-OBS": .string("21:00:00")]) == epoch)
        #expect(source(["DATE": .string("2026-03-14"), "UT-OBS": .string("21:00:00")]) == "DATE+UT-OBS")
        #expect(seconds(["UT-OBS": .string("2026-03-14T21:00:00")]) == epoch)
        #expect(source(["UT-OBS": .string("2026-03-14T21:00:00")]) == "UT-OBS")
        let mjd = 40587 + epoch / 86400
        #expect(source(["MJD-OBS": .string("\(mjd)")]) == "MJD-OBS")
        #expect(abs(try #require(seconds(["MJD-OBS": .string("\(mjd)")])) - epoch) < 1e-3)
        #expect(source(["DATE-END": .string("2026-03-14T21:01:00Z"), "EXPTIME": .string("60")]) == "DATE-END")
        #expect(seconds(["DATE-END": .string("2026-03-14T21:01:00Z"), "EXPTIME": .string("60")]) == epoch)
        // An unparseable DATE-OBS falls through; the order of preference holds when several are present.
        #expect(source(["DATE-OBS": .string("garbage"), "MJD-OBS": .double(mjd), "DATE-END": .string("2026-03-14T21:01:00")]) == "MJD-OBS")
        #expect(source(["UT-OBS": .string("21:00:00")]) == nil)  // a time of day without a date is no time
        #expect(header([:]).observation == nil)
    }

    @Test func numbersWrittenAsStringsAreNumbers() {
        let h = header(["EXPTIME": .string(" 60.0 "), "XBAYROFF": .string("1"), "YBAYROFF": .string("0"),
                        "BAYERPAT": .string("RGGB"), "GAIN": .string("1.5D1")])
        #expect(h.exposure == 60)
        #expect(h.bayerOffset.x == 1 && h.bayerOffset.y == 0)
        #expect(h.keywords["GAIN"]?.doubleValue == 15)
        #expect(FITSValue.string("RGGB").doubleValue == nil)
        #expect(FITSValue.string("2.5").intValue == nil)
    }
}
