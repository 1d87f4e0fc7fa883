import Foundation
import Testing
@testable import Steps

@Suite("tiles/metrics: mode choice, Q_local, L and W")
struct TileMetricsTests {
    private func starTile(_ fwhm: Double, count: Int = 5, r: Double = 0.9, c: Double = 40, coverage: Double = 1) -> TileLocalMetrics {
        TileLocalMetrics(starCount: count, fwhm: count == 0 ? .nan : fwhm, roundness: count == 0 ? .nan : r,
                         contrast: count == 0 ? .nan : c, gradient: 1e-4, noise: 0.01, background: 1, coverage: coverage)
    }
    private func structTile(_ e: Double, b: Double = 1, coverage: Double = 1) -> TileLocalMetrics {
        TileLocalMetrics(starCount: 0, fwhm: .nan, roundness: .nan, contrast: .nan, gradient: e, noise: 0.01,
                         background: b, coverage: coverage)
    }

    @Test("mode: star mode when the median star count over frames reaches tile.star_min_count")
    func modeChoice() {
        #expect(TileMetrics.mode(starCounts: [3, 3, 2, 4, 0], minCount: 3) == .star)
        #expect(TileMetrics.mode(starCounts: [3, 2, 2, 4, 0], minCount: 3) == .structure)
        #expect(TileMetrics.mode(starCounts: [], minCount: 1) == .structure)
    }

    @Test("star quality: 0.6(-log FWHM)~ + 0.2 R~ + 0.2 C~, log after aggregation")
    func starQuality() {
        let fwhm = [2.0, 2.5, 3.0, 3.5, 4.0]
        let q = TileMetrics.starQuality(fwhm: fwhm, roundness: [0.9, 0.9, 0.9, 0.9, 0.9], contrast: [50, 40, 30, 20, 10],
                                        weights: TCConfig.StarWeights())
        let lf = fwhm.map { log($0) }
        let med = log(3.0)
        let mad = [abs(lf[0] - med), abs(lf[1] - med), 0, abs(lf[3] - med), abs(lf[4] - med)].sorted()[2]
        for f in 0..<5 {
            let expected = 0.6 * -((lf[f] - med) / (1.4826 * mad)) + 0.2 * (Double(2 - f) * 10 / (1.4826 * 10))
            #expect(abs(q[f] - expected) < 1e-9)
        }
        #expect(q[0] > q[1] && q[1] > q[2] && q[2] > q[3] && q[3] > q[4])
    }

    @Test("structure quality: 0.7 (E/sigma)~ - 0.3 B~")
    func structureQuality() {
        let q = TileMetrics.structureQuality(structure: [1, 2, 3, 4, 5], background: [1, 1, 1, 1, 2],
                                             weights: TCConfig.StructureMode())
        for f in 0..<5 { #expect(abs(q[f] - 0.7 * Double(f - 2) / 1.4826) < 1e-12) }  // B has MAD 0: neutral
    }

    @Test("weights: clamp, L = exp(Q), W = G*L; uncovered frames neutral; starless frames in star tiles at the lower clamp")
    func weights() {
        // 6 frames x 2 tiles: tile 0 star mode, tile 1 structure mode.
        let fwhm = [2.0, 2.2, 2.4, 2.6, 9.0, 2.5]
        var local: [[TileLocalMetrics]] = []
        for f in 0..<6 {
            let t0 = f == 5 ? starTile(0, count: 0) : starTile(fwhm[f])
            let t1 = structTile(1e-4 * Double(f + 1), coverage: f == 2 ? 0.1 : 1)
            local.append([t0, t1])
        }
        let g = [1.0, 0.5, 2.0, 1.0, 1.0, 1.5]
        var section = TCConfig.LocalMetricsSection()
        section.clamp = ClampRange(lo: -2, hi: 2.5)
        let w = TileMetrics.weights(local: local, g: g, section: section, starMinCount: 3)
        #expect(w.modes == [.star, .structure])
        #expect(w.quality(frame: 4, tile: 0) == -2)  // FWHM 9 is far out: clamped
        #expect(w.quality(frame: 5, tile: 0) == -2)  // covered, no star
        #expect(w.quality(frame: 0, tile: 0) > w.quality(frame: 3, tile: 0))
        #expect(w.quality(frame: 2, tile: 1) == 0 && w.local(frame: 2, tile: 1) == 1)  // uncovered: neutral
        #expect(w.quality(frame: 5, tile: 1) > w.quality(frame: 0, tile: 1))
        for t in 0..<2 {
            for f in 0..<6 {
                let q = Double(w.quality(frame: f, tile: t))
                #expect(q >= -2 && q <= 2.5)
                #expect(abs(Double(w.local(frame: f, tile: t)) - exp(q)) < 1e-5 * exp(q))
                #expect(abs(Double(w.weight(frame: f, tile: t)) - g[f] * exp(q)) < 1e-5 * g[f] * exp(q))
            }
        }
        #expect(w.weights(tile: 1).count == 6 && w.weights(tile: 1)[3] == w.weight(frame: 3, tile: 1))
    }

    @Test("weights file round-trips; CSV has one row per tile and frame")
    func fileAndCSV() throws {
        let local = (0..<3).map { f in [starTile(2 + Double(f)), structTile(1e-4 * Double(f + 1)), structTile(1e-3)] }
        let w = TileMetrics.weights(local: local, g: [1, 2, 3], section: TCConfig.LocalMetricsSection(), starMinCount: 3)
        let data = w.encoded()
        #expect(data.count == 16 + 4 + 3 * 4 * 9)
        #expect(try TileWeights(data: data) == w)
        #expect(throws: MetricsError.self) { try TileWeights(data: data.dropLast()) }
        let csv = w.csv(files: ["a.fits", "b.fits", "c.fits"]).split(separator: "\n")
        #expect(csv.first == "tile,mode,frame,Q,L,W")
        #expect(csv.count == 1 + 9)
        #expect(csv[1].hasPrefix("0,star,a.fits,") && csv[4].hasPrefix("1,structure,a.fits,") && csv[9].hasPrefix("2,structure,c.fits,"))
    }
}
