import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph
@testable import Imaging
@testable import Steps

/// `registration.on_failure`: frames that cannot be registered are left out (exclude) or fail the run
/// naming every one of them (abort); the steps after registration see only the registered frames.
@Suite(.serialized) struct ExclusionTests {
    static let synth: SynthConfig = {
        var s = SynthConfig(width: 256, height: 192, frames: 10, seed: 21)
        s.starCount = 700
        return s
    }()

    /// Indices of the two bad frames: a starless sky frame and a frame of another star field.
    static let blank = 3, foreign = 6

    /// A series of 10 frames where frame 3 shows only three stars (clouds) and frame 6 shows
    /// another part of the sky (a different star field), each with its own header.
    static func badSeries(_ dir: TemporaryDirectory) throws {
        let series = try SynthSeries(synth)
        try series.write(to: dir.path, concurrency: 2)
        var starless = synth
        starless.starCount = 3  // clouds: only the three brightest stars come through
        let blankImage = try SynthSeries(starless).render(frame: blank)
        try FITS.write(blankImage, to: dir.file(SynthSeries.framePath(blank)), as: .uint16, keywords: series.frameKeywords(blank))
        var other = synth
        other.seed = 99
        let elsewhere = try SynthSeries(other).render(frame: foreign)
        try FITS.write(elsewhere, to: dir.file(SynthSeries.framePath(foreign)), as: .uint16, keywords: series.frameKeywords(foreign))
    }

    static func config() -> TCConfig {
        var config = TCConfig()
        config.data.framesMin = 3
        config.registration.reference = .index(0)
        config.tile.minSize = 16
        config.tile.maxDivisor = 3
        config.synthetic.framesMin = 2
        config.synthetic.framesMax = 3
        config.pipeline.abortOnFail = false
        return config
    }

    private func run(_ dir: TemporaryDirectory, _ config: TCConfig) throws -> PipelineResult {
        let ws = try Workspace(root: dir.path, durable: false)
        defer { try? ws.close() }
        return try PipelineRunner.run(workspace: ws, config: config, jobs: 2, command: "test")
    }

    @Test func excludedFramesAreNamedEverywhereAndTheRunCompletes() throws {
        let dir = TemporaryDirectory("exclude")
        try Self.badSeries(dir)
        let result = try run(dir, Self.config())
        #expect(result.report.failed.isEmpty, "\(result.report.failed)")
        #expect(result.excluded.map(\.file) == ["frame_00003.fits", "frame_00006.fits"], "\(result.excluded)")
        #expect(result.excluded.allSatisfy { !$0.reason.isEmpty })
        // Registration ran on every frame; nothing after it saw the excluded ones.
        #expect(result.report.outputs[NodeName.register(Self.blank)] != nil)
        #expect(result.report.outputs[NodeName.measure(Self.blank)] == nil)
        #expect(result.report.outputs[NodeName.local(Self.foreign)] == nil)
        #expect(result.report.outputs[NodeName.measure(9)] != nil)
        #expect(FileManager.default.fileExists(atPath: dir.file("stacked.fit")))
        #expect(!FileManager.default.fileExists(atPath: dir.file("registered/reg_00003.fit")))
        #expect(FileManager.default.fileExists(atPath: dir.file("registered/reg_00004.fit")))

        let metrics = try String(contentsOfFile: dir.file("frame_metrics.csv"), encoding: .utf8)
        #expect(metrics.split(separator: "\n").count == 9)  // header + 8 registered frames
        #expect(!metrics.contains("frame_00003.fits") && metrics.contains("frame_00007.fits"))
        let excluded = try String(contentsOfFile: dir.file(PipelineRunner.excludedFramesPath), encoding: .utf8)
        #expect(excluded.contains("frame_00003.fits") && excluded.contains("frame_00006.fits"))
        let report = try String(contentsOfFile: dir.file("report.html"), encoding: .utf8)
        #expect(report.contains("frame_00003.fits") && report.contains("frame_00006.fits"))

        // status reads the cached transforms: the main graph is the registered frames', up to date.
        let ws = try Workspace(root: dir.path, writable: false)
        defer { try? ws.close() }
        let status = try PipelineRunner.statusWithExclusions(workspace: ws, config: Self.config())
        #expect(status.excluded.map(\.file) == ["frame_00003.fits", "frame_00006.fits"])
        #expect(status.entries.allSatisfy { $0.state == .cached }, "\(status.entries.filter { $0.state != .cached })")
        #expect(!status.entries.contains { $0.node == NodeName.measure(Self.foreign) })
        // The main graph replays the registration nodes as cache hits: the run records each node once.
        let rows = try ws.manifest.select("SELECT node FROM run_nodes WHERE run_id = ?", [.int(result.runID)]).map { $0[0].text }
        #expect(rows.count == Set(rows).count)
        #expect(rows.contains(NodeName.register(Self.blank)) && rows.contains(NodeName.stack))
    }

    @Test func abortFailsNamingEveryBadFrameAndFramesMinCountsRegisteredFrames() throws {
        let dir = TemporaryDirectory("exclude-abort")
        try Self.badSeries(dir)
        var abort = Self.config()
        abort.registration.onFailure = .abort
        let aborted = try run(dir, abort)
        #expect(!aborted.passed)
        #expect(Set(aborted.report.failed.keys) == [NodeName.register(Self.blank), NodeName.register(Self.foreign)])
        #expect(aborted.report.failed[NodeName.register(Self.foreign)]?.contains("frame_00006.fits") == true)
        #expect(aborted.report.outputs[NodeName.measure(0)] == nil)  // nothing after registration ran

        var tooFew = Self.config()
        tooFew.data.framesMin = 9
        do {
            _ = try run(dir, tooFew)
            Issue.record("expected data.frames_min to fail the run")
        } catch let e as StepError {
            #expect(e == .tooFewRegistered(registered: 8, excluded: ["frame_00003.fits", "frame_00006.fits"], minimum: 9))
            #expect(e.description.contains("8 frames registered, fewer than data.frames_min = 9"), "\(e)")
        }
    }

    @Test func withoutExcludedFramesTheMainGraphIsUnchanged() throws {
        let dir = TemporaryDirectory("exclude-none")
        var s = Self.synth
        s.frames = 4
        try SynthSeries(s).write(to: dir.path, concurrency: 2)
        let frames = try PipelineFixture.frameList(PipelineFixture.seriesPaths(dir.path, count: 4))
        let config = Self.config()
        let before = try PipelineRunner.mainBuilder(config: config, frames: frames, workspace: dir.path)
        let after = try PipelineRunner.mainBuilder(config: config, frames: frames, registered: frames, workspace: dir.path)
        #expect(before.nodes.map(\.name) == after.nodes.map(\.name))
        #expect(before.nodes.map(\.inputs) == after.nodes.map(\.inputs))
        #expect(before.nodes.map(\.params) == after.nodes.map(\.params))
        #expect(before.materializations == after.materializations)

        // One frame out: registration keeps every frame, the rest only the others, named by their scan index.
        let without1 = FrameList(frames: frames.frames.filter { $0.index != 1 })
        let excluded = try PipelineRunner.mainBuilder(config: config, frames: frames, registered: without1, workspace: dir.path)
        let names = Set(excluded.nodes.map(\.name))
        #expect(names.contains(NodeName.register(1)) && names.contains(NodeName.stars(1)))
        #expect(!names.contains(NodeName.measure(1)) && names.contains(NodeName.measure(3)))
        let regBefore = before.nodes.filter { $0.group == "register" || $0.group == "stars" || $0.name == NodeName.reference }
        let regAfter = excluded.nodes.filter { $0.group == "register" || $0.group == "stars" || $0.name == NodeName.reference }
        #expect(regBefore.map(\.name) == regAfter.map(\.name))
        #expect(regBefore.map(\.inputs) == regAfter.map(\.inputs))
    }
}

@Suite struct OnFailureConfigTests {
    @Test func aConfigRecordedBeforeOnFailureExistedReadsAsExclude() throws {
        var config = TCConfig()
        config.registration.onFailure = .abort
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        #expect(json.contains("\"on_failure\":\"abort\""))
        #expect(try JSONDecoder().decode(TCConfig.self, from: Data(json.utf8)) == config)
        let old = json.replacingOccurrences(of: ",\"on_failure\":\"abort\"", with: "").replacingOccurrences(of: "\"on_failure\":\"abort\",", with: "")
        #expect(!old.contains("on_failure"))
        #expect(try JSONDecoder().decode(TCConfig.self, from: Data(old.utf8)).registration.onFailure == .exclude)
    }
}
