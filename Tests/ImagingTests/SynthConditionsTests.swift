import Foundation
import Testing
@testable import Imaging

@Suite("Synthetic series: night conditions")
struct SynthConditionsTests {
    @Test("a 200-frame night stays in its documented ranges and changes smoothly")
    func ranges() throws {
        // Only truth is computed here (no frame is rendered), so a long series is cheap.
        let s = try SynthSeries(SynthConfig(width: 1024, height: 768, frames: 200, seed: 42))
        let pf = s.truth.perFrame
        let seeing = pf.map(\.seeingFwhm)
        // The smooth walk stays in 2.2...4.5; bad moments may push a few frames up to 1.6x.
        #expect(seeing.allSatisfy { $0 >= 2.2 - 1e-9 && $0 <= 4.5 * 1.6 + 1e-9 })
        let outside = seeing.filter { $0 > 4.5 + 1e-9 }.count
        #expect(outside <= 6)
        #expect(seeing.max()! - seeing.min()! > 1.0, "seeing should wander over the night")
        // Clouds: a few frames at 0.4...0.8, the rest clear (slight haze only).
        let cloudy = pf.filter { $0.transparency < 0.9 }
        #expect(cloudy.count >= 4 && cloudy.count <= 15)
        #expect(cloudy.allSatisfy { $0.transparency >= 0.4 && $0.transparency <= 0.8 })
        #expect(pf.filter { $0.transparency >= 0.9 }.allSatisfy { $0.transparency >= 0.97 })
        // Background: clear neighbours differ by < 3 %, a cloud frame is brighter than its clear neighbours.
        for f in 1..<200 where pf[f].transparency >= 0.9 && pf[f - 1].transparency >= 0.9 {
            #expect(abs(pf[f].background / pf[f - 1].background - 1) < 0.03)
        }
        for c in cloudy {
            let clear = pf.filter { $0.transparency >= 0.9 }.min { abs($0.index - c.index) < abs($1.index - c.index) }!
            #expect(c.background > clear.background * 1.15)
        }
        // Geometry: 3 degrees of rotation in total, monotonic; shifts of a few px about the centre.
        #expect(pf[0].transform.rotation == 0)
        #expect(abs(pf[199].transform.rotation - 3 * Double.pi / 180) < 1e-12)
        #expect(zip(pf, pf.dropFirst()).allSatisfy { $0.transform.rotation < $1.transform.rotation })
        for t in pf.map(\.transform) {
            #expect(t.scale == 1)
            let c = t.apply(x: 511.5, y: 383.5)
            #expect(abs(c.x - 511.5) <= 9.1 && abs(c.y - 383.5) <= 9.1, "centre moved to \(c)")
            let back = t.preimage(x: c.x, y: c.y)
            #expect(abs(back.x - 511.5) < 1e-9 && abs(back.y - 383.5) < 1e-9)
        }
        // Exactly one trail frame, and it is not the best frame.
        #expect(pf.filter(\.hasTrail).count == 1)
        #expect(!pf[s.truth.bestFrame].hasTrail)
    }

    @Test("DATE-OBS is computed without a calendar library and is correct across month and year ends")
    func isoDates() {
        #expect(SynthConditions.isoDate(epochSeconds: 0) == "1970-01-01T00:00:00")
        #expect(SynthConditions.isoDate(epochSeconds: 951_782_400) == "2000-02-29T00:00:00")
        #expect(SynthConditions.isoDate(epochSeconds: 1_773_522_000) == "2026-03-14T21:00:00")
        #expect(SynthConditions.isoDate(epochSeconds: 1_798_761_599) == "2026-12-31T23:59:59")
    }
}
