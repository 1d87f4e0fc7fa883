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
