import Foundation
import Graph
import Imaging
import Testing
import TestSupport
@testable import Steps

/// The report's readers of other phases' artifacts, the difference fit and the timings.
@Suite("report data readers")
struct ReportDataTests {
    @Test("frame metrics are read from the CSV as from the JSON, quoted names included")
    func frameMetricsCSV() throws {
        let dir = TemporaryDirectory("report")
        let table = FrameMetricsTable(frames: [
            FrameMetrics(index: 0, file: "a,b \"q\".fit", background: 1234.5, noise: 0.0125, gradient: 0.3, q: -0.25, g: exp(-0.25),
                         residual: nil, matches: nil, starCount: 17, fwhm: 2.75),
            FrameMetrics(index: 1, file: "plain.fit", background: 1000, noise: 0.01, gradient: 0.2, q: 0.5, g: exp(0.5),
                         residual: 0.125, matches: nil, starCount: 0, fwhm: nil),
        ])
        let parsed = try ReportData.frameMetrics(try dir.write("frame_metrics.csv", table.csv()))
        #expect(parsed == table)
        let json = try ReportData.frameMetrics(try dir.write("metrics.json", try Artifacts.encoder().encode(table)))
        #expect(json == table)
        #expect(throws: ReportError.self) { try ReportData.frameMetrics(try dir.write("x.csv", "file,B\nq,1\n")) }
    }

    @Test("cluster and validation artifacts are read as their typed values; other shapes are unreadable")
    func clusterAndValidationArtifacts() throws {
        let dir = TemporaryDirectory("report")
        let clusters = FrameClusters(
            requested: "kmeans", method: "time_buckets", reason: "stable state", k: 3, inertia: [],
            frames: [2, 0, 2, 2].enumerated().map {
                ClusteredFrame(index: $0.offset, file: "f\($0.offset).fit", cluster: $0.element, state: [1, 0, 0, 100, 0.01], standardized: [0, 0, 0, 0, 0])
            })
        #expect(ReportData.clusterSizes(clusters) == [1, 0, 3])
        let checks = [
            ValidationCheck(name: Validation.fwhmImprovement, key: "validation.min_fwhm_improvement_percent", value: 12.345678,
                            limit: 5, comparison: ">=", quantum: 1e-4, detail: "ok"),
            ValidationCheck(name: Validation.runtimeHours, key: "runtime_limits.hard_abort_hours", value: nil, limit: 0.1,
                            comparison: "<=", measured: false, detail: "not measured"),
        ]
        #expect(checks.map(ReportData.value) == ["12.35", "–"])
        #expect(checks.map(ReportData.limit) == ["≥ 5", "≤ 0.1"])
        let validation = ValidationReport(
            abortOnFail: false, checks: checks,
            fwhm: FWHMComparison(stackStars: 3, classicalStars: 4, matched: 0, stackMedian: nil, classicalMedian: nil, improvementPercent: nil, fluxRatio: nil),
            background: BackgroundComparison(stackNoise: nil, classicalNoise: 2, fluxScale: 1, fluxScaleSource: "assumed 1", increasePercent: nil),
            tilePattern: TilePatternMeasurement(boundaryMedian: nil, besideMedian: nil, ratio: nil, boundarySamples: 0, besideSamples: 0,
                                                threshold: 1.05, pattern: false),
            tiles: TileUsability(tiles: 4, signalCarrying: 0, usable: 0, fraction: nil, unusableIDs: []), tileWeightVariance: 0)
        let summary = ReportSummary(status: "ok")
        let good = Report.Loaded(ReportInputs(clusters: try dir.write("clusters.json", try Artifacts.encoder().encode(clusters)),
                                              validation: try dir.write("validation.json", try Artifacts.encoder().encode(validation)), summary: summary))
        #expect(good.clusters == clusters && good.clustersError == nil)
        #expect(good.validation == validation && good.validationError == nil)
        // Untyped shapes the report used to accept, and a file that is not JSON, are unreadable; a
        // zero-byte artifact is absent, not unreadable.
        let untyped = Report.Loaded(ReportInputs(clusters: try dir.write("a.json", #"{"method":"gmm","assignments":[2,0,2,2]}"#),
                                                 validation: try dir.write("v.json", #"{"passed":true,"checks":{"a":{"value":0.5,"threshold":0.1,"passed":true}}}"#),
                                                 summary: summary))
        #expect(untyped.clusters == nil && untyped.clustersError?.contains("Could not read") == true)
        #expect(untyped.validation == nil && untyped.validationError?.contains("ValidationReport") == true)
        let broken = Report.Loaded(ReportInputs(clusters: try dir.write("b.json", "{not json"), validation: try dir.write("empty.json", Data()), summary: summary))
        #expect(broken.clusters == nil && broken.clustersError?.contains("b.json") == true)
        #expect(broken.validation == nil && broken.validationError == nil)
    }

    @Test("difference fit recovers gain and offset; timings collect from engine events")
    func fitAndTimings() throws {
        let x = Image(width: 4, height: 2, pixels: [1, 2, 3, 4, 5, 6, .nan, 8])
        let y = Image(width: 4, height: 2, pixels: x.pixels.map { 2 * $0 + 3 })
        let fit = try #require(Report.ImageResults.linearFit(y: y, x: x))
        #expect(abs(fit.a - 2) < 1e-9 && abs(fit.b - 3) < 1e-9)
        let recorder = ReportEventRecorder()
        for e: BuildEvent in [.nodeStarted(node: "a", group: "g"), .nodeExecuted(node: "a", group: "g", seconds: 1.5, bytes: 10),
                              .nodeCached(node: "b", group: "h"), .nodeFailed(node: "c", group: "g", message: "x"), .runFinished(executed: 1, cached: 1, failed: 1, seconds: 2)] {
            recorder.emit(e)
        }
        #expect(NodeTiming.collect(recorder.events) == [NodeTiming(node: "a", group: "g", seconds: 1.5, state: "executed"),
                                                        NodeTiming(node: "b", group: "h", seconds: 0, state: "cached"),
                                                        NodeTiming(node: "c", group: "g", seconds: 0, state: "failed")])
    }
}
