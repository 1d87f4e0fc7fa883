import Cache
import Foundation
import Graph

/// What one `tcbuild run` did: both stages' reports merged, and the paths materialized.
public struct PipelineResult: Sendable {
    /// Every node of both stages.
    public var report: RunReport
    /// Human-facing files written (relative to the workspace).
    public var materialized: [String]
    /// The run id in the manifest.
    public var runID: Int64
}

/// Runs the pipeline in a workspace as one recorded run: the scan stage (inspect every frame,
/// validate the series), then the main graph built from the scan's frame list, then the
/// materialization of human-facing outputs (`registered/`, `frame_metrics.csv`, ...).
public enum PipelineRunner {
    /// The phases present in this build, in order. Each adds its nodes to the builder.
    static func addPhases(_ builder: inout PipelineBuilder) throws {
        try builder.addRegistration()   // phase 1
        try builder.addMetrics()        // phases 2-5
        try builder.addReconstruction() // phases 6-8
        try builder.addStacking()       // classical reference, phase 9, phase 10
    }

    /// Runs everything (or only what `until` needs) with `jobs` workers. Throws for setup errors
    /// (`StepError` about the input directory, `CacheError`); node failures are in the result.
    public static func run(workspace: Workspace, config: TCConfig, jobs: Int, until: [String] = [],
                           command: String, events: (any EventSink)? = nil) throws -> PipelineResult {
        let files = try Scan.listFrames(config: config, workspace: workspace.root)
        let configJSON = String(decoding: try Artifacts.encoder().encode(config), as: UTF8.self)
        let runID = try workspace.beginRun(jobs: jobs, command: command, config: configJSON)
        let log = try RunLog(workspace: workspace, runID: runID)
        let sink: any EventSink = events.map { FanOutEventSink([log, $0]) } ?? log
        let engine = Engine(store: workspace, events: sink)
        let options = RunOptions(jobs: jobs)
        var result = PipelineResult(report: RunReport(), materialized: [], runID: runID)
        defer { try? workspace.finishRun(status: result.report.succeeded ? "ok" : "failed", report: result.report) }

        let scanGraph = try Scan.graph(config: config, files: files)
        let scanTargets = until.filter { scanGraph.node($0) != nil }
        result.report = engine.run(scanTargets.isEmpty ? scanGraph : try scanGraph.needed(for: scanTargets), options: options)
        guard result.report.succeeded, let framesDigest = result.report.outputs["scan"]?["frames"] else { return result }
        if !until.isEmpty && until.allSatisfy({ scanGraph.node($0) != nil }) { return result }

        let frames = try Artifacts.readJSON(FrameList.self, path: workspace.path(of: framesDigest), node: "scan")
        var builder = PipelineBuilder(config: config, frames: frames, workspace: workspace.root)
        try addPhases(&builder)
        let main = try builder.graph()
        let mainTargets = until.filter { scanGraph.node($0) == nil }
        let second = engine.run(mainTargets.isEmpty ? main : try main.needed(for: mainTargets), options: options)
        result.report = merge(result.report, second)
        for m in builder.materializations {
            guard let digest = result.report.outputs[m.node]?[m.output] else { continue }
            try workspace.materialize(digest, at: m.path)
            result.materialized.append(m.path)
        }
        return result
    }

    static func merge(_ a: RunReport, _ b: RunReport) -> RunReport {
        var r = a
        r.executed += b.executed
        r.cached += b.cached
        r.failed.merge(b.failed) { x, _ in x }
        r.notStarted += b.notStarted
        r.outputs.merge(b.outputs) { x, _ in x }
        r.seconds += b.seconds
        return r
    }
}
