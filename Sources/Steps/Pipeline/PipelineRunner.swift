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
    /// Phase 10's verdict with the runtime checks filled in (nil when validation did not run).
    public var validation: ValidationReport?
    /// Frames left out because another frame has the same content: (copy, original) file names.
    public var duplicates: [(copy: String, of: String)] = []

    /// True when no node failed and validation (if it ran) passed.
    public var passed: Bool { report.succeeded && (validation?.passed ?? true) }

    /// How the run is recorded: nodes failing and validation failing are told apart.
    public var status: RunStatus { !report.succeeded ? .nodesFailed : (validation?.passed ?? true) ? .ok : .validationFailed }
}

/// Runs the pipeline in a workspace as one recorded run: the scan stage (inspect every frame,
/// validate the series), then the main graph built from the scan's frame list, then the
/// materialization of human-facing outputs (`registered/`, `frame_metrics.csv`, ...).
public enum PipelineRunner {
    /// The phases present in this build, in order. Each adds its nodes to the builder.
    /// The main graph's builder for `frames` under `config`, with every phase added.
    static func mainBuilder(config: TCConfig, frames: FrameList, workspace: String) throws -> PipelineBuilder {
        var builder = PipelineBuilder(config: config, frames: frames, workspace: workspace)
        try addPhases(&builder)
        return builder
    }

    static func addPhases(_ builder: inout PipelineBuilder) throws {
        try builder.addRegistration()   // phase 1
        try builder.addMetrics()        // phases 2-5
        try builder.addReconstruction() // phases 6-8
        try builder.addStacking()       // classical reference, phase 9, phase 10
    }

    /// Runs everything (or only what `until` needs) with `jobs` workers. Throws for setup errors
    /// (`StepError` about the input directory, `CacheError`); node failures are in the result.
    public static func run(workspace: Workspace, config: TCConfig, jobs: Int, until: [String] = [],
                           command: String, configSource: String = "", events: (any EventSink)? = nil) throws -> PipelineResult {
        let (files, duplicates) = try Scan.distinctFrames(Scan.listFrames(config: config, workspace: workspace.root),
                                                          digest: workspace.digest(ofFile:))
        let configJSON = String(decoding: try Artifacts.encoder().encode(config), as: UTF8.self)
        let run = try workspace.startRun(jobs: jobs, command: command, config: configJSON, configSource: configSource, events: events)
        let engine = run.engine, runID = run.id
        let options = RunOptions(jobs: jobs)
        let started = Date()
        var result = PipelineResult(report: RunReport(), materialized: [], runID: runID, validation: nil)
        result.duplicates = duplicates.map { (($0.copy as NSString).lastPathComponent, ($0.of as NSString).lastPathComponent) }
        defer { try? workspace.finishRun(status: result.status, report: result.report) }

        let scanGraph = try Scan.graph(config: config, files: files)
        let scanTargets = until.filter { scanGraph.node($0) != nil }
        result.report = engine.run(scanTargets.isEmpty ? scanGraph : try scanGraph.needed(for: scanTargets), options: options)
        guard result.report.succeeded, let framesDigest = result.report.outputs["scan"]?["frames"] else { return result }
        if !until.isEmpty && until.allSatisfy({ scanGraph.node($0) != nil }) { return result }

        let frames = try Artifacts.readJSON(FrameList.self, path: workspace.path(of: framesDigest), node: "scan")
        let builder = try mainBuilder(config: config, frames: frames, workspace: workspace.root)
        let main = try builder.graph()
        let mainTargets = until.filter { scanGraph.node($0) == nil }
        let second = engine.run(mainTargets.isEmpty ? main : try main.needed(for: mainTargets), options: options)
        result.report = merge(result.report, second)
        for m in builder.materializations {
            guard let digest = result.report.outputs[m.node]?[m.output] else { continue }
            if m.node == "validation" {
                result.validation = try finalizeValidation(digest, in: workspace, at: m.path, since: started)
            } else if (try? FileManager.default.attributesOfItem(atPath: workspace.path(of: digest))[.size] as? Int) == 0 {
                try? FileManager.default.removeItem(atPath: workspace.root + "/" + m.path)  // e.g. a synthetic frame beyond k
                continue
            } else {
                try workspace.materialize(digest, at: m.path)
            }
            result.materialized.append(m.path)
        }
        if until.isEmpty {
            try workspace.flush()
            try writeReport(result, frames: frames, workspace: workspace, command: command)
            result.materialized.append("report.html")
        }
        return result
    }

    /// Writes `report.html` for a finished run. Skipped only when the report on disk was built from
    /// exactly the same artifacts (their digests are kept in `.tcbuild/report.key`), so a no-op run
    /// stays cheap and switching back to an earlier config rewrites it. Timings come from the
    /// manifest: each node's latest execution, marked executed or cached in this run.
    static func writeReport(_ result: PipelineResult, frames: FrameList, workspace: Workspace, command: String) throws {
        let dest = workspace.root + "/report.html"
        let keyPath = workspace.stateDir + "/report.key"
        let key = result.report.outputs.keys.sorted().flatMap { node in
            result.report.outputs[node]!.sorted { $0.key < $1.key }.map { "\(node)#\($0.key)=\($0.value.hex)" }
        }.joined(separator: "\n")
        if FileManager.default.fileExists(atPath: dest), (try? String(contentsOfFile: keyPath, encoding: .utf8)) == key { return }
        func path(_ node: String, _ output: String) -> String? {
            result.report.outputs[node]?[output].map { workspace.path(of: $0) }
        }
        let executed = Set(result.report.executed)
        let durations = try workspace.latestDurations()
        let timings = (result.report.executed + result.report.cached).sorted().map { node in
            NodeTiming(node: node, group: String(node.split(separator: "/").first ?? Substring(node)),
                       seconds: durations[node] ?? 0, state: executed.contains(node) ? "executed" : "cached")
        }
        let validationPath = result.validation != nil ? workspace.root + "/validation.json" : path("validation", "validation")
        let inputs = ReportInputs(
            frameMetrics: path("metrics", "metrics"), tileWeights: path("tiles/metrics", "weights"),
            grid: path("tiles/geometry", "grid"),
            localMetrics: frames.frames.compactMap { path(NodeName.frame("local", $0.index), "local") },
            clusters: path("clusters", "clusters"), stack: path("stack", "image"),
            classicalStack: path("stack/classical", "image"), reconstruction: path("reconstruct", "image"),
            validation: validationPath, timings: timings,
            summary: ReportSummary(runID: result.runID, status: result.status.rawValue, command: command,
                                   workspace: workspace.root, seconds: result.report.seconds,
                                   executed: result.report.executed.count, cached: result.report.cached.count,
                                   failed: result.report.failed, notStarted: result.report.notStarted.count))
        try Report.write(to: dest, inputs: inputs)
        try? key.write(toFile: keyPath, atomically: true, encoding: .utf8)
    }

    /// Fills the runtime checks (wall time of this run; tile phases vs registration + classical mean) into the
    /// validation verdict and writes it to `path` as a plain file (the stored artifact stays as the
    /// deterministic node wrote it).
    static func finalizeValidation(_ digest: Digest, in workspace: Workspace, at path: String, since start: Date) throws -> ValidationReport {
        var report = try ValidationReport.read(path: workspace.path(of: digest))
        let durations = try workspace.latestDurations()
        /// Summed duration of the nodes named `prefix` or `prefix/...`.
        func total(_ prefixes: [String]) -> Double {
            durations.filter { node, _ in prefixes.contains { node == $0 || node.hasPrefix($0 + "/") } }.values.reduce(0, +)
        }
        let tile = total(["local", "tiles", "reconstruct", "synthetic", "clusters"])
        // A classical stack needs registration and a mean: that is the yardstick for the tile phases.
        let classical = total(["stars", "reference", "register", "stack/classical"])
        report.recordRuntime(elapsedHours: Date().timeIntervalSince(start) / 3600,
                             tileAnalysisFactor: classical > 0 ? tile / classical : nil)
        let dest = workspace.root + "/" + path
        let temp = dest + ".tmp"
        try Artifacts.encoder().encode(report).write(to: URL(fileURLWithPath: temp))
        try? FileManager.default.removeItem(atPath: dest)
        try FileManager.default.moveItem(atPath: temp, toPath: dest)
        return report
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
