import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph
@testable import Imaging
@testable import Steps

/// `data.saturation_level`: one level per series, resolved by the scan (SATURATE, DATAMAX, the
/// populated maximum of the data, the BITPIX ceiling; a number as is), and saturated stars kept out
/// of registration and flagged by the measurement.
@Suite struct SaturationTests {
    /// A 12-bit series (values 0...4095 stored unscaled in BITPIX 16, no SATURATE keyword) with eight
    /// saturating stars, 512x384: every frame registers without its saturated stars.
    private func twelveBitSeries(frames: Int = 6, seed: UInt64 = 1) throws -> (TemporaryDirectory, SynthSeries) {
        let dir = TemporaryDirectory("saturation")
        var c = SynthConfig(width: 512, height: 384, frames: frames, seed: seed)
        c.adcBits = 12
        c.saturatingStars = 8
        let series = try SynthSeries(c)
        try series.write(to: dir.path)
        return (dir, series)
    }

    private func config(_ setting: SaturationSetting = .auto) -> TCConfig {
        var config = TCConfig()
        config.data.framesMin = 3
        config.data.saturationLevel = setting
        return config
    }

    private func run(_ dir: TemporaryDirectory, _ config: TCConfig, until: [String]) throws -> PipelineResult {
        let ws = try Workspace(root: dir.path, durable: false)
        defer { try? ws.close() }
        return try PipelineRunner.run(workspace: ws, config: config, jobs: 2, until: until, command: "test")
    }

    private func read<T: Decodable>(_ type: T.Type, _ result: PipelineResult, _ node: String, _ output: String,
                                    in dir: TemporaryDirectory) throws -> T {
        let digest = try #require(result.report.outputs[node]?[output], "\(node)#\(output)")
        let ws = try Workspace(root: dir.path, writable: false)
        defer { try? ws.close() }
        return try Artifacts.readJSON(T.self, path: ws.path(of: digest), node: node)
    }

    /// The truth's saturated stars of frame `f` in that frame's pixel coordinates.
    private func saturatedStars(_ series: SynthSeries, frame f: Int, through t: SimilarityTransform? = nil) -> [SIMD2<Double>] {
        let truth = series.truth
        let transform = t ?? truth.perFrame[f].transform
        return (truth.perFrame[f].saturatedStars ?? []).map { transform.apply(x: truth.stars[$0].x, y: truth.stars[$0].y) }
            .filter { $0.x >= 0 && $0.y >= 0 && $0.x < Double(truth.width) && $0.y < Double(truth.height) }
    }

    /// Registration star lists (`stars/NNNNN`) of every frame: how many of the truth's saturated stars
    /// each holds (a detection within 3 px).
    private func saturatedInStarLists(_ result: PipelineResult, _ series: SynthSeries, in dir: TemporaryDirectory) throws
        -> (found: Int, total: Int) {
        var found = 0, total = 0
        for f in 0..<series.config.frames {
            let digest = try #require(result.report.outputs[NodeName.stars(f)]?["stars"])
            let ws = try Workspace(root: dir.path, writable: false)
            defer { try? ws.close() }
            let stars = try #require(StarListBinary.decode(try Data(contentsOf: URL(fileURLWithPath: ws.path(of: digest)))))
            for p in saturatedStars(series, frame: f) {
                total += 1
                if stars.contains(where: { ($0.x - p.x) * ($0.x - p.x) + ($0.y - p.y) * ($0.y - p.y) < 9 }) { found += 1 }
            }
        }
        return (found, total)
    }

    @Test("12-bit series: detected as 4095, its saturated stars used neither for registration nor for FWHM")
    func twelveBitSeriesIsDetected() throws {
        let (dir, series) = try twelveBitSeries()
        let result = try run(dir, config(), until: [NodeName.tileGeometry])
        #expect(result.report.succeeded, "\(result.report.failed)")
        #expect(result.excluded.isEmpty, "\(result.excluded)")
        let frames = try read(FrameList.self, result, NodeName.scan, "frames", in: dir)
        let level = try #require(frames.saturation)
        #expect(level.adu == 4095 && level.source == .populatedMaximum)
        #expect(level.description.hasPrefix("saturation 4095 ADU (populated maximum, 12-bit ceiling"), "\(level)")
        #expect(result.scanned?.saturation == level)
        // The run summary, `status` and the report say it.
        #expect(PipelineRunner.seriesNotes(result.scanned) == [level.description, "frame times: DATE-OBS (6 frames)"])

        // Registration: none of the truth's saturated stars is in any frame's star list.
        let lists = try saturatedInStarLists(result, series, in: dir)
        #expect(lists.total >= series.config.frames, "the series must saturate stars for this test to mean anything")
        #expect(lists.found == 0, "\(lists.found) of \(lists.total) saturated stars used for registration")

        // Measurement (registered frames, reference geometry): every saturated star that is measured
        // is flagged, so FWHM, tile geometry and local weights skip it. On these mono frames of the
        // relative engine measure's stars are `stars/NNNNN#field`, from which saturated peaks are
        // dropped like from the registration list: none is measured at all (MeasureTests test the flags
        // of the detection path, which CFA frames and the other engines take).
        let reference = try read(ReferenceInfo.self, result, NodeName.reference, "reference", in: dir)
        let refTransform = series.truth.perFrame[try #require(reference.index)].transform
        var measured = 0
        for f in 0..<series.config.frames {
            let m = try read(FrameMeasurement.self, result, NodeName.measure(f), "measure", in: dir)
            for p in saturatedStars(series, frame: f, through: refTransform) {
                for s in m.stars where (s.x - p.x) * (s.x - p.x) + (s.y - p.y) * (s.y - p.y) < 6.25 {
                    measured += 1
                    #expect(s.saturated, "frame \(f): saturated star at \(p) measured as unsaturated (fwhm \(s.fwhm))")
                }
            }
            let unsaturated = m.stars.filter { !$0.saturated && $0.ellipticity <= TileGeometry.maxEllipticity }
            // The frame's FWHM is the median of exactly those (rounded to 7 digits in the artifact).
            let median = try #require(Statistics.median(unsaturated.map(\.fwhm)))
            #expect(abs(try #require(m.fwhm) - median) < 1e-5 * median)
        }
        #expect(measured == 0)
    }

    @Test("the old BITPIX default (64200) lets the 12-bit series' saturated stars into registration")
    func bitpixDefaultWouldUseSaturatedStars() throws {
        // The counter-check: with a level the 12-bit data never reaches the same assertion fails.
        let (dir, series) = try twelveBitSeries()
        let result = try run(dir, config(.adu(65_510)), until: (0..<series.config.frames).map(NodeName.stars))
        #expect(result.report.succeeded)
        let lists = try saturatedInStarLists(result, series, in: dir)
        #expect(lists.found > 0, "expected saturated stars in the star lists at 65510 ADU (\(lists.total) saturated)")
        // The level reached the nodes' params, where explain reads it.
        let ws = try Workspace(root: dir.path, writable: false)
        defer { try? ws.close() }
        let stars = try #require(try PipelineRunner.graphs(workspace: ws, config: config(.adu(65_510))).main?.node(NodeName.stars(0)))
        #expect(stars.params.flattened.contains { $0.0 == "data.saturation_level" && $0.1 == "65510" })
    }

    /// Rewrites every frame of `dir` with `extra` keywords added to the synthetic ones.
    private func addKeywords(_ extra: [FITSKeyword], _ dir: TemporaryDirectory, _ series: SynthSeries) throws {
        for f in 0..<series.config.frames {
            let path = dir.path + "/" + series.framePath(f)
            let image = try FITS.read(path)
            try FileManager.default.removeItem(atPath: path)
            try FITS.write(image, to: path, as: .uint16, keywords: series.frameKeywords(f) + extra)
        }
    }

    private func scannedLevel(_ dir: TemporaryDirectory, _ setting: SaturationSetting = .auto) throws -> SaturationLevel? {
        let result = try run(dir, config(setting), until: [NodeName.scan])
        #expect(result.report.succeeded, "\(result.report.failed)")
        return try read(FrameList.self, result, NodeName.scan, "frames", in: dir).saturation
    }

    @Test("SATURATE wins over DATAMAX and the data, DATAMAX over the data, a number over everything")
    func keywordsAndNumbersWin() throws {
        let (dir, series) = try twelveBitSeries(frames: 3, seed: 2)
        #expect(try scannedLevel(dir)?.adu == 4095)
        try addKeywords([FITSKeyword("DATAMAX", .double(4000))], dir, series)
        #expect(try scannedLevel(dir) == SaturationLevel(adu: 4000, source: .datamax))
        // Numbers written as strings are numbers.
        try addKeywords([FITSKeyword("DATAMAX", .double(4000)), FITSKeyword("SATURATE", .string("3900"))], dir, series)
        #expect(try scannedLevel(dir) == SaturationLevel(adu: 3900, source: .saturate))
        let explicit = try #require(try scannedLevel(dir, .adu(3000)))
        #expect(explicit == SaturationLevel(adu: 3000, source: .config))
        #expect(explicit.description == "saturation 3000 ADU (data.saturation_level)")
    }

    @Test("resolution from the frames' records: pile-up, scaled ADC, no pile-up, float, disagreeing keywords")
    func resolveRules() {
        typealias C = SaturationLevel.FrameCeiling
        let u16 = 65535.0
        // 12-bit scaled x16: the pile-up sits at 65520.
        let scaled = SaturationLevel.resolve(.auto, frames: [C(bitpixCeiling: u16, rawMax: 65520, atMax: 9), C(bitpixCeiling: u16, rawMax: 30000, atMax: 1)])
        #expect(scaled?.adu == 65520 && scaled?.source == .populatedMaximum)
        #expect(scaled?.detail.hasPrefix("12-bit ceiling scaled x16") == true)
        // No pile-up (every frame's brightest pixel alone): the BITPIX ceiling.
        let lone = SaturationLevel.resolve(.auto, frames: [C(bitpixCeiling: u16, rawMax: 41000, atMax: 1), C(bitpixCeiling: u16, rawMax: 40000, atMax: 2)])
        #expect(lone == SaturationLevel(adu: u16, source: .bitpix, detail: "no pile-up at the data's maximum"))
        // A pile-up spread over frames counts only where the maximum is the series' maximum.
        let spread = SaturationLevel.resolve(.auto, frames: (0..<4).map { _ in C(bitpixCeiling: 255, rawMax: 255, atMax: 1) })
        #expect(spread?.adu == 255 && spread?.source == .populatedMaximum)
        // Floating point without keywords or pile-up: no level, nothing flagged.
        #expect(SaturationLevel.resolve(.auto, frames: [C(rawMax: 1.7, atMax: 1)]) == nil)
        // Keywords that differ between frames: the lowest SATURATE, the highest DATAMAX.
        #expect(SaturationLevel.resolve(.auto, frames: [C(saturate: 4000), C(saturate: 3900)])?.adu == 3900)
        #expect(SaturationLevel.resolve(.auto, frames: [C(datamax: 4000), C(datamax: 3900)])?.adu == 4000)
        // The BITPIX ceiling follows BZERO/BSCALE.
        func header(_ bitpix: Int, _ k: [String: FITSValue] = [:]) -> FITSHeader {
            FITSHeader(width: 1, height: 1, channels: 1, bitpix: bitpix, keywords: k)
        }
        #expect(SaturationLevel.bitpixCeiling(header(16, ["BZERO": .double(32768)])) == 65535)
        #expect(SaturationLevel.bitpixCeiling(header(16)) == 32767)
        #expect(SaturationLevel.bitpixCeiling(header(8)) == 255)
        #expect(SaturationLevel.bitpixCeiling(header(-32)) == nil)
    }
}
