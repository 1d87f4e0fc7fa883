import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph
@testable import Imaging
@testable import Steps

/// The scan carries each frame's observation time and its source (DATE-OBS with an offset, date-only
/// DATE-OBS with TIME-OBS, UT-OBS, MJD-OBS, DATE-END) into the frame list; frames keep their
/// file-name order and indices; the clustering node gets the times.
@Suite struct FrameTimeTests {
    /// 2026-03-14T21:00:00 UTC.
    private let epoch = 1_773_522_000.0

    /// Five frames whose names are not in time order, each dated by another header variant
    /// (`nil` variant: no time keyword at all).
    private func series(_ variants: [[FITSKeyword]?]) throws -> TemporaryDirectory {
        let dir = TemporaryDirectory("frame-times")
        let synth = try SynthSeries(SynthConfig(width: 64, height: 48, frames: variants.count, seed: 4))
        try synth.write(to: dir.path)
        for (f, variant) in variants.enumerated() {
            let path = dir.path + "/" + synth.framePath(f)
            let image = try FITS.read(path)
            try FileManager.default.removeItem(atPath: path)
            let kept = synth.frameKeywords(f).filter { $0.name != "DATE-OBS" }
            try FITS.write(image, to: path, as: .uint16, keywords: kept + (variant ?? []))
        }
        return dir
    }

    private func scan(_ dir: TemporaryDirectory) throws -> FrameList {
        var config = TCConfig()
        config.data.framesMin = 3
        let ws = try Workspace(root: dir.path, durable: false)
        defer { try? ws.close() }
        let result = try PipelineRunner.run(workspace: ws, config: config, jobs: 2, until: [NodeName.scan], command: "test")
        #expect(result.report.succeeded, "\(result.report.failed)")
        let digest = try #require(result.report.outputs[NodeName.scan]?["frames"])
        return try Artifacts.readJSON(FrameList.self, path: ws.path(of: digest), node: NodeName.scan)
    }

    @Test("every header variant gives the instant and names its source; frames stay in file order")
    func headerVariantsReachTheFrameList() throws {
        let mjd = 40587 + (epoch + 240) / 86400
        let dir = try series([
            [FITSKeyword("DATE-OBS", .string("2026-03-14T22:05:00+01:00"))],                                 // +300 s
            [FITSKeyword("DATE-OBS", .string("2026-03-14")), FITSKeyword("TIME-OBS", .string("21:01:00"))],  // +60 s
            [FITSKeyword("DATE", .string("2026-03-14")), FITSKeyword("UT-OBS", .string("21:00:00"))],        // +0 s
            [FITSKeyword("MJD-OBS", .string(String(mjd)))],                                                   // +240 s
            [FITSKeyword("DATE-END", .string("2026-03-14T21:03:00")), FITSKeyword("EXPTIME", .double(60))],   // +120 s
        ])
        let list = try scan(dir)
        #expect(list.frames.map(\.index) == [0, 1, 2, 3, 4])
        #expect(list.frames.map(\.name) == (0..<5).map { String(format: "frame_%05d.fits", $0) })
        #expect(list.frames.map(\.observationTimeSource) == ["DATE-OBS", "DATE-OBS+TIME-OBS", "DATE+UT-OBS", "MJD-OBS", "DATE-END"])
        let offsets = try #require(list.observationTimes).map { ($0 - epoch).rounded() }
        #expect(offsets == [300, 60, 0, 240, 120])
        #expect(Clustering.timeOrder(list.observationTimes, count: 5) == [2, 1, 4, 3, 0])
        #expect(ClusteringParams(config: TCConfig(), frames: list).times == list.observationTimes)
        #expect(list.timeSummary.contains("MJD-OBS (1 frames)"))
    }

    @Test("a frame without any time keyword: file order for every frame, and the summary says so")
    func missingTimesFallBackToFileOrder() throws {
        let dir = try series([[FITSKeyword("DATE-OBS", .string("2026-03-14T21:00:00Z"))], nil,
                              [FITSKeyword("DATE-OBS", .string("2026-03-14T20:00:00Z"))]])
        let list = try scan(dir)
        #expect(list.frames[0].observationTime == epoch && list.frames[1].observationTime == nil)
        #expect(list.observationTimes == nil)
        #expect(ClusteringParams(config: TCConfig(), frames: list).times == nil)
        #expect(list.timeSummary.hasPrefix("file order (1 of 3 frames without"))
    }
}
