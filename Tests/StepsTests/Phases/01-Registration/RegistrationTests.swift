import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph
@testable import Imaging
@testable import Steps

/// A synthetic series on disk with its frame list (what the scan node would produce).
struct RegSeries {
    let dir: TemporaryDirectory
    let series: SynthSeries
    let frames: FrameList

    /// Renders `config` into a fresh temp dir (optionally rewriting each frame's header with `extra(index)`).
    init(_ label: String, _ config: SynthConfig, extra: ((Int) -> [FITSKeyword]?)? = nil) throws {
        dir = TemporaryDirectory(label)
        series = try SynthSeries(config)
        try series.write(to: dir.path + "/series", concurrency: 2)
        var infos: [FrameInfo] = []
        for k in 0..<config.frames {
            let path = dir.path + "/series/" + SynthSeries.framePath(k)
            if let extra, let more = extra(k) {
                let image = try FITS.read(path)
                try FITS.write(image, to: path, as: .uint16, keywords: series.frameKeywords(k) + more)
            }
            let h = try FITS.readHeader(path)
            infos.append(FrameInfo(index: k, path: path, properties: FrameProperties(header: h)))
        }
        frames = FrameList(frames: infos)
    }

    /// Truth reference -> frame transform of frame `k` relative to frame `r` as the reference.
    func truth(_ k: Int, reference r: Int) -> SimilarityTransform {
        series.truth.perFrame[r].transform.inverse.then(series.truth.perFrame[k].transform)
    }

    /// Builds the registration graph for `config` and runs it in a workspace inside the temp dir.
    func run(_ config: TCConfig) throws -> (Workspace, RunReport, PipelineBuilder) {
        var b = PipelineBuilder(config: config, frames: frames, workspace: dir.path)
        try b.add(StarsStep(), ReferenceStep(), RegisterStep())
        let ws = try Workspace(root: dir.path + "/ws", durable: false)
        let report = try ws.run(try b.graph(), options: RunOptions(jobs: 2), command: "test")
        return (ws, report, b)
    }
}

/// RMS over the four reference corners of |found(p) - truth(p)|.
func cornerError(_ found: SimilarityTransform, _ truth: SimilarityTransform, width: Int, height: Int) -> Double {
    let corners = [SIMD2(0.0, 0.0), SIMD2(Double(width - 1), 0), SIMD2(0, Double(height - 1)),
                   SIMD2(Double(width - 1), Double(height - 1))]
    let s = corners.map { p -> Double in let d = found.apply(p) - truth.apply(p); return d.x * d.x + d.y * d.y }
    return (s.reduce(0, +) / 4).squareRoot()
}

func readJSON<T: Decodable>(_ type: T.Type, _ ws: Workspace, _ report: RunReport, _ node: String, _ output: String) throws -> T {
    let digest = try #require(report.outputs[node]?[output], "no output \(output) of \(node)")
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: ws.path(of: digest))))
}

/// Worst corner error of every frame against the truth, using the reference the graph chose.
func worstCornerError(_ s: RegSeries, _ ws: Workspace, _ report: RunReport) throws -> (worst: Double, reference: Int) {
    let ref = try readJSON(ReferenceInfo.self, ws, report, "reference", "reference")
    let r = try #require(ref.index)
    var worst = 0.0
    for f in s.frames.frames {
        let res = try readJSON(RegistrationResult.self, ws, report, NodeName.frame("register", f.index), "transform")
        worst = max(worst, cornerError(res.transform, s.truth(f.index, reference: r), width: ref.width, height: ref.height))
    }
    return (worst, r)
}

@Suite struct RegistrationTests {
    @Test func monoSeriesWithLargeRotationAndShiftsRegistersWithinATenthOfAPixel() throws {
        var c = SynthConfig(width: 320, height: 240, frames: 24, seed: 11)
        c.starCount = 600  // spread over the catalog area, which 30 degrees of rotation makes ~3x the frame
        c.totalRotationDegrees = 30
        c.jitterPixels = 32  // +-10 % of the width on each axis
        let s = try RegSeries("reg-mono", c)
        let (ws, report, builder) = try s.run(TCConfig())
        #expect(report.failed.isEmpty, "\(report.failed)")
        let (worst, r) = try worstCornerError(s, ws, report)
        print("registration mono 320x240: worst corner error \(String(format: "%.4f", worst)) px")
        #expect(worst < 0.1, "worst corner error \(worst) px")
        // Truth covers the claims: the series really rotates 30 degrees and shifts by > 20 px.
        let rotations = s.series.truth.perFrame.map(\.transform.rotation)
        #expect((rotations.max()! - rotations.min()!) * 180 / .pi > 29)
        #expect(s.frames.frames.contains { hypot(s.truth($0.index, reference: r).tx, s.truth($0.index, reference: r).ty) > 20 })
        // Registered frames are in the reference geometry with NaN where a frame has no data.
        let last = try #require(report.outputs["register/00023"]?["frame"])
        let img = try FITS.read(ws.path(of: last))
        #expect(img.width == 320 && img.height == 240 && img.channels == 1)
        #expect(img.pixels.contains { $0.isNaN })
        let refResult = try readJSON(RegistrationResult.self, ws, report, NodeName.frame("register", r), "transform")
        #expect(refResult.transform == .identity && refResult.engine == "identity")
        #expect(builder.materializations.contains(Materialization(node: "register/00007", output: "frame", path: "registered/reg_00007.fit")))
    }

    @Test func cfaSeriesRegistersWithinATenthOfAPixelAndWarpsRGB() throws {
        var c = SynthConfig(width: 320, height: 240, frames: 24, seed: 12, cfa: true)
        c.starCount = 500
        c.totalRotationDegrees = 10
        c.jitterPixels = 12
        let s = try RegSeries("reg-cfa", c)
        var config = TCConfig()
        config.registration.reference = .index(3)
        let (ws, report, _) = try s.run(config)
        #expect(report.failed.isEmpty, "\(report.failed)")
        let (worst, r) = try worstCornerError(s, ws, report)
        #expect(r == 3)
        print("registration cfa 320x240: worst corner error \(String(format: "%.4f", worst)) px")
        #expect(worst < 0.1, "worst corner error \(worst) px")
        let frame = try #require(report.outputs["register/00005"]?["frame"])
        let img = try FITS.read(ws.path(of: frame))
        #expect(img.width == 320 && img.height == 240 && img.channels == 3)
    }

    @Test func tooFewMatchesExcludesEveryFailingFrameWithoutFailingTheNode() throws {
        var c = SynthConfig(width: 200, height: 160, frames: 3, seed: 13)
        c.starCount = 60
        let s = try RegSeries("reg-min", c)
        var config = TCConfig()
        config.registration.reference = .index(0)
        config.registration.minStarMatches = 500
        let (ws, report, _) = try s.run(config)
        // No register node fails: every frame is tried, the ones that cannot be registered say why.
        #expect(report.failed.isEmpty, "\(report.failed)")
        for index in 1..<3 {
            let node = NodeName.register(index)
            let r = try readJSON(RegistrationResult.self, ws, report, node, "transform")
            let reason = try #require(r.excluded)
            #expect(reason.contains("min_star_matches"), "\(reason)")
            let frame = try #require(report.outputs[node]?["frame"])
            #expect(try Data(contentsOf: URL(fileURLWithPath: ws.path(of: frame))).isEmpty)
        }
        // The reference itself needs no matching; a registered frame's JSON has no "excluded" key.
        let digest = try #require(report.outputs["register/00000"]?["transform"])
        let json = try String(contentsOfFile: ws.path(of: digest), encoding: .utf8)
        #expect(!json.contains("excluded"))
    }

    @Test func aFitResidualAboveTheBoundExcludesADoubledStarFrame() throws {
        // Reference stars on a grid; the frame sees every star twice, 1.6 px apart (a mount jump during
        // the exposure), and the detector keeps one image or the other: no transform fits both.
        var rng = TestRNG(seed: 7)
        func star(_ x: Double, _ y: Double) -> StarMeasurement {
            StarMeasurement(x: x, y: y, flux: 1000, peak: 100, background: 0, fwhm: 2.0, fwhmMajor: 2.0, fwhmMinor: 2.0,
                            roundness: 1, ellipticity: 0, contrast: 1, snr: 100, angle: 0, residualRMS: 0)
        }
        var reference: [StarMeasurement] = []
        for _ in 0..<120 { reference.append(star(rng.uniform() * 400, rng.uniform() * 300)) }
        let info = ReferenceInfo(choice: "index", index: 0, path: nil, stars: reference, width: 400, height: 300, medianFWHM: 2.0, wcs: nil)
        let clean = reference.map { star($0.x + 7, $0.y - 3) }
        let good = try Registration.relativeTransform(stars: clean, reference: info, minMatches: 8, file: "good.fits")
        #expect(good.residualRMS < 0.01)
        let doubled = reference.enumerated().map { k, s in star(s.x + 7 + (k % 2 == 0 ? 0 : 1.6), s.y - 3) }
        #expect(throws: StepError.self) {
            _ = try Registration.relativeTransform(stars: doubled, reference: info, minMatches: 8, file: "doubled.fits")
        }
        do {
            _ = try Registration.relativeTransform(stars: doubled, reference: info, minMatches: 8, file: "doubled.fits")
        } catch StepError.registrationFailed(let file, let message) {
            #expect(file == "doubled.fits")
            #expect(message.contains("residual"), "\(message)")
        }
        #expect(Registration.residualBound(medianFWHM: 1.0) == 0.5)
        #expect(Registration.residualBound(medianFWHM: 4.0) == 1.0)
    }

    @Test func pinnedReferenceReadsOnlyItsOwnFrame() throws {
        var c = SynthConfig(width: 64, height: 48, frames: 6, seed: 14)
        c.starCount = 5
        let s = try RegSeries("reg-pin", c)
        var config = TCConfig()
        config.registration.reference = .index(2)
        func referenceInputs(_ frames: FrameList) throws -> [NodeInput] {
            var b = PipelineBuilder(config: config, frames: frames, workspace: s.dir.path)
            try b.add(StarsStep(), ReferenceStep(), RegisterStep())
            return Array(try #require(try b.graph().node("reference")).inputs)
        }
        let all = try referenceInputs(s.frames)
        #expect(all.map(\.source) == [.node("stars/00002", output: "stars")])
        #expect(try referenceInputs(FrameList(frames: Array(s.frames.frames.prefix(4)))) == all)
        config.registration.reference = .auto
        #expect(try referenceInputs(s.frames).count == 6)
        config.registration.reference = .index(6)
        #expect(throws: StepError.self) { _ = try referenceInputs(s.frames) }
    }

    @Test func autoReferencePrefersManyStarsThenSmallFWHM() {
        func star(_ fwhm: Double) -> StarMeasurement {
            StarMeasurement(x: 1, y: 1, flux: 1, peak: 1, background: 0, fwhm: fwhm, fwhmMajor: fwhm, fwhmMinor: fwhm,
                            roundness: 1, ellipticity: 0, contrast: 1, snr: 10, angle: 0, residualRMS: 0)
        }
        let sharpFew = Array(repeating: star(2.0), count: 10)
        let soft = Array(repeating: star(3.5), count: 100)
        let sharper = Array(repeating: star(3.0), count: 60)
        #expect(ReferenceChoice.best([soft, sharpFew, sharper]) == 2)
        #expect(ReferenceChoice.best([soft, soft]) == 0)
        #expect(ReferenceChoice.best([]) == nil)
    }

    @Test func registeredNamePatternExpandsIndex() {
        #expect(RegisteredName.expand("reg_{index:05d}.fit", index: 17) == "reg_00017.fit")
        #expect(RegisteredName.expand("r{index}.fits", index: 17) == "r17.fits")
        #expect(RegisteredName.expand("a{index:3d}_{index}", index: 5) == "a005_5")
        #expect(RegisteredName.expand("plain.fit", index: 5) == "plain.fit")
    }
}
