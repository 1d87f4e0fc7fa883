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

    @Test("cluster and validation artifacts in their accepted shapes")
    func clusterAndValidationShapes() throws {
        let dir = TemporaryDirectory("report")
        let a = try ReportData.clusters(try dir.write("a.json", #"{"method":"gmm","assignments":[2,0,2,2]}"#))
        #expect(a == ReportData.Clusters(method: "gmm", reason: nil, k: 3, assignment: [2, 0, 2, 2], sizes: [1, 0, 3]))
        let b = try ReportData.clusters(try dir.write("b.json", #"{"method":"time buckets","k":2,"sizes":[6,4]}"#))
        #expect(b.sizes == [6, 4] && b.k == 2 && b.assignment.isEmpty)
        #expect(throws: ReportError.self) { try ReportData.clusters(try dir.write("c.json", #"{"k":2}"#)) }
        let v = try ReportData.validation(try dir.write("v.json", #"{"passed":true,"checks":{"b":{"value":1,"limit":0.1,"passed":true},"a":{"value":0.5,"threshold":0.1,"passed":true,"detail":"ok"}}}"#))
        #expect(v.passed == true)
        #expect(v.checks == [ReportData.Check(name: "a", key: "", value: "0.5", limit: "0.1", passed: true, detail: "ok"),
                             ReportData.Check(name: "b", key: "", value: "1", limit: "0.1", passed: true, detail: "")])
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
