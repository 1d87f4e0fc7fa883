import Foundation
import Imaging
import Testing
@testable import Steps

@Suite("local: per-tile raw metrics of one frame")
struct LocalMetricsTests {
    private func star(_ x: Double, _ y: Double, fwhm: Double = 3, sat: Bool = false) -> MeasuredStar {
        MeasuredStar(x: x, y: y, fwhm: fwhm, roundness: 0.9, ellipticity: 0.1, contrast: 40, snr: 80, saturated: sat)
    }

    @Test("tile star assignment: centre inside (half-open), saturated stars excluded, overlapping tiles share stars")
    func assignment() {
        let g = TileGeometry.grid(width: 100, height: 60, size: 40, overlapFraction: 0.25, fwhm: 3, starsUsed: 1)
        let stars = [star(5, 5), star(35, 5), star(35, 5.5, sat: true), star(39.6, 5), star(80, 50)]
        let first = LocalMetrics.stars(in: g.tiles[0], stars)
        #expect(first.map(\.x) == [5, 35])
        // x = 35 lies in the overlap of tiles 0 (0..<40) and 1 (30..<70).
        #expect(LocalMetrics.stars(in: g.tiles[1], stars).map(\.x) == [35, 39.6])
        #expect(g.tiles.filter { LocalMetrics.stars(in: $0, stars).contains { $0.x == 80 } }.count >= 1)
    }

    @Test("SNR-weighted median: equal SNRs give the plain median, faint stars cannot move it, NaN when no star counts")
    func snrWeightedMedian() {
        func s(_ fwhm: Double, snr: Double) -> MeasuredStar {
            MeasuredStar(x: 0, y: 0, fwhm: fwhm, roundness: 0.9, ellipticity: 0.1, contrast: 40, snr: snr, saturated: false)
        }
        // Equal SNRs: the plain median, odd and even counts.
        #expect(LocalMetrics.snrWeightedMedian([s(5, snr: 50), s(2, snr: 50), s(3, snr: 50)], \.fwhm) == 3)
        #expect(LocalMetrics.snrWeightedMedian([s(5, snr: 50), s(2, snr: 50), s(3, snr: 50), s(4, snr: 50)], \.fwhm) == 3.5)
        // Two bright stars at 3.0 (SNR 150) and 3.2 (SNR 200), three faint ones at 6: the plain median is 6,
        // the weighted one 3.2 (cumulative SNR 150, then 350 > 383 / 2).
        let mixed = [s(3.0, snr: 150), s(3.2, snr: 200), s(6, snr: 12), s(6, snr: 11), s(6, snr: 10)]
        #expect(Statistics.median(mixed.map(\.fwhm)) == 6)
        #expect(LocalMetrics.snrWeightedMedian(mixed, \.fwhm) == 3.2)
        // Stars with unusable SNR or value do not count.
        #expect(LocalMetrics.snrWeightedMedian([s(.nan, snr: 100), s(4, snr: 0), s(2.5, snr: 30)], \.fwhm) == 2.5)
        #expect(LocalMetrics.snrWeightedMedian([], \.fwhm).isNaN)
        #expect(LocalMetrics.snrWeightedMedian([s(4, snr: .nan)], \.fwhm).isNaN)
    }

    @Test("tile metrics: star medians, background = median, noise from pixel differences ignores smooth structure")
    func tileMetrics() throws {
        // Left half: flat 1.0 + noise 0.01. Right half: a steep smooth ramp + the same noise.
        var img = MetricsTestData.field(width: 80, height: 40, level: 1, sigma: 0.01, fwhm: 3, stars: [], seed: 9)
        for y in 0..<40 { for x in 40..<80 { img[x, y] += Float(0.02 * Double(x - 40)) } }
        let grid = TileGrid(fwhm: 3, starsUsed: 1, width: 80, height: 40, size: 40, overlap: 0, step: 40,
                            tiles: [Tile(id: 0, x: 0, y: 0, w: 40, h: 40), Tile(id: 1, x: 40, y: 0, w: 40, h: 40)])
        img[3, 3] = .nan
        let stars = [star(10, 10, fwhm: 2), star(20, 20, fwhm: 3), star(30, 30, fwhm: 5), star(50, 10, fwhm: 9, sat: true)]
        let m = LocalMetrics.measure(luminance: img, stars: stars, grid: grid)
        #expect(m[0].starCount == 3 && m[0].fwhm == 3 && abs(m[0].roundness - 0.9) < 1e-9 && m[0].contrast == 40)
        #expect(m[1].starCount == 0 && m[1].fwhm.isNaN && m[1].contrast.isNaN)
        #expect(abs(m[0].background - 1) < 0.002)
        #expect(abs(m[1].background - (1 + 0.02 * 19.5)) < 0.01)
        #expect(abs(m[0].noise - 0.01) < 0.001 && abs(m[1].noise - 0.01) < 0.001)
        #expect(m[1].gradient > 5 * m[0].gradient)  // the ramp is structure
        #expect(abs(m[0].coverage - (1 - 1.0 / 1600)) < 1e-12 && m[1].coverage == 1)
        #expect(abs(m[1].structure - m[1].gradient / m[1].noise) < 1e-12)
    }

    @Test("binary local file round-trips bit for bit (NaN kept) and rejects other bytes")
    func binaryRoundTrip() throws {
        let tiles = [TileLocalMetrics(starCount: 4, fwhm: 2.5, roundness: 0.875, contrast: 31, gradient: 1e-4,
                                      noise: 0.0125, background: 1.0, coverage: 1),
                     TileLocalMetrics(starCount: 0, fwhm: .nan, roundness: .nan, contrast: .nan, gradient: 2e-5,
                                      noise: 0.01, background: 0.98, coverage: 0.25)]
        let data = LocalMetricsFile(tiles: tiles).encoded()
        #expect(data.count == 16 + 2 * 32)
        // Header: magic, version 1, 2 tiles, 8 fields; then little-endian Float32s (4 stars = 0x40800000, FWHM 2.5 = 0x40200000).
        #expect(Array(data.prefix(24)) == Array("TCLM".utf8) + [1, 0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0x80, 0x40, 0, 0, 0x20, 0x40])
        let back = try LocalMetricsFile(data: data)
        #expect(back.tiles[0] == tiles[0].roundedToFloat)
        #expect(back.tiles[1].fwhm.isNaN && back.tiles[1].starCount == 0 && back.tiles[1].coverage == 0.25)
        #expect(back.encoded() == data)
        #expect(throws: MetricsError.self) { try LocalMetricsFile(data: Data("TCLMxxxx".utf8)) }
        #expect(throws: MetricsError.self) { try LocalMetricsFile(data: data.dropLast(4)) }
    }
}

extension TileLocalMetrics {
    /// The values after a Float32 round trip.
    var roundedToFloat: TileLocalMetrics {
        func f(_ x: Double) -> Double { Double(Float(x)) }
        return TileLocalMetrics(starCount: starCount, fwhm: f(fwhm), roundness: f(roundness), contrast: f(contrast),
                                gradient: f(gradient), noise: f(noise), background: f(background), coverage: f(coverage))
    }
}
