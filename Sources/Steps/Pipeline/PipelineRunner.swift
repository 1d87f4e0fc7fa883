import Cache
import Executors
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
    /// Frames left out because they could not be registered (`registration.on_failure: exclude`):
    /// file name and reason, in frame order.
    public var excluded: [ExcludedFrame] = []
    /// The scanned series (nil when the scan did not finish): its saturation level and frame times
    /// for the run summary.
    public var scanned: FrameList?

    /// True when no node failed and validation (if it ran) passed.
    public var passed: Bool { report.succeeded && (validation?.passed ?? true) }

    /// How the run is recorded: nodes failing and validation failing are told apart.
    public var status: RunStatus { !report.succeeded ? .nodesFailed : (validation?.passed ?? true) ? .ok : .validationFailed }
}

/// A frame registration left out (`registration.on_failure: exclude`).
public struct ExcludedFrame: Sendable, Equatable, Codable {
    /// Its scan index (`register/NNNNN`).
    public var index: Int
    /// Its file name.
    public var file: String
    /// Why it could not be registered.
    public var reason: String

    /// An excluded frame.
    public init(index: Int, file: String, reason: String) {
        self.index = index
        self.file = file
        self.reason = reason
    }
}

/// Runs the pipeline in a workspace as one recorded run: the scan stage (inspect every frame,
/// validate the series), then the main graph built from the scan's frame list, then the
/// materialization of human-facing outputs (`registered/`, `frame_metrics.csv`, ...).
public enum PipelineRunner {
    /// The main graph's builder under `config`: every registration- and main-stage step of `process`,
    /// in order. The registration steps see every scanned frame (`frames`); the steps after them see
    /// only `registered` (default: every frame), so adding or excluding a frame never changes the
    /// registration nodes' fingerprints.
    static func mainBuilder(config: TCConfig, frames: FrameList, registered: FrameList? = nil, workspace: String,
                            process: ProcessDescription = .default) throws -> PipelineBuilder {
        var builder = PipelineBuilder(config: config, frames: frames, workspace: workspace, process: process)
        var restricted = false
        for use in process.steps where use.step.stage == .registration || use.step.stage == .main {
            if use.step.stage == .main && !restricted, let registered {
                builder.restrict(to: registered)
                restricted = true
            }
            try use.step.add(to: &builder)
        }
        return builder
    }

    /// The builder of the registration steps alone, over every scanned frame.
    static func registrationBuilder(config: TCConfig, frames: FrameList, workspace: String,
                                    process: ProcessDescription = .default) throws -> PipelineBuilder {
        var builder = PipelineBuilder(config: config, frames: frames, workspace: workspace, process: process)
        for use in process.steps where use.step.stage == .registration { try use.step.add(to: &builder) }
        return builder
    }

    /// The frames registration excluded, read from the `register/NNNNN#transform` outputs in `outputs`
    /// (a frame without a register node, e.g. a process without registration, counts as registered).
    static func excludedFrames(_ frames: FrameList, outputs: [String: [String: Digest]],
                               workspace: Workspace) throws -> [ExcludedFrame] {
        try frames.frames.compactMap { f -> ExcludedFrame? in
            guard let digest = outputs[NodeName.register(f.index)]?["transform"] else { return nil }
            let r = try Artifacts.readJSON(RegistrationResult.self, path: workspace.path(of: digest), node: NodeName.register(f.index))
            return r.excluded.map { ExcludedFrame(index: f.index, file: f.name, reason: $0) }
        }
    }

    /// `frames` without `excluded`.
    static func registered(_ frames: FrameList, excluding excluded: [ExcludedFrame]) -> FrameList {
        let out = Set(excluded.map(\.index))
        return frames.restricted(to: frames.frames.filter { !out.contains($0.index) })
    }

    /// Runs everything (or only what `until` needs) with `jobs` workers. Throws for setup errors
    /// (`StepError` about the input directory, `CacheError`); node failures are in the result.
    public static func run(workspace: Workspace, config: TCConfig, process: ProcessDescription = .default, jobs: Int,
                           until: [String] = [], command: String, configSource: String = "",
                           events: (any EventSink)? = nil) throws -> PipelineResult {
        let config = try process.configure(config)
        let (files, duplicates) = try Scan.distinctFrames(Scan.listFrames(config: config, workspace: workspace.root),
                                                          digest: workspace.digest(ofFile:))
        var recorded = config  // as the run row keeps it: the broker's password is not stored
        recorded.parallel.brokerURL = (try? BrokerURL(config.parallel.brokerURL))?.description ?? "***"
        let configJSON = String(decoding: try Artifacts.encode(recorded), as: UTF8.self)
        let run = try workspace.startRun(jobs: jobs, command: command, config: configJSON, configSource: configSource, events: events)
        let engine = run.engine, runID = run.id
        let options = RunOptions(jobs: jobs)
        let started = Date()
        var result = PipelineResult(report: RunReport(), materialized: [], runID: runID, validation: nil)
        result.duplicates = duplicates.map { (($0.copy as NSString).lastPathComponent, ($0.of as NSString).lastPathComponent) }
        defer { try? workspace.finishRun(status: result.status, report: result.report) }

        // Each stage's graph lives only while it runs (the scan's and the registration's nodes are not
        // kept beside the main graph); of the main graph, only what `until` needs is kept.
        let scanTargets: [String]
        do {
            let scanGraph = try Scan.graph(config: config, files: files)
            scanTargets = until.filter { scanGraph.node($0) != nil }
            result.report = engine.run(scanTargets.isEmpty ? scanGraph : try scanGraph.needed(for: scanTargets), options: options)
        }
        guard result.report.succeeded, let framesDigest = result.report.outputs[NodeName.scan]?["frames"] else { return result }
        let scanned = try Artifacts.readJSON(FrameList.self, path: workspace.path(of: framesDigest), node: NodeName.scan)
        result.scanned = scanned
        if !until.isEmpty && scanTargets.count == until.count { return result }

        // Registration over every scanned frame first: which frames are excluded decides the main graph.
        let regRun: RunReport, registrationNodes: Set<String>, untilOnlyRegistration: Bool
        do {
            let registration = try registrationBuilder(config: config, frames: scanned, workspace: workspace.root, process: process).graph()
            let regTargets = until.filter { registration.node($0) != nil }
            untilOnlyRegistration = !until.isEmpty && until.allSatisfy { scanTargets.contains($0) || registration.node($0) != nil }
            registrationNodes = Set(registration.nodes.map(\.name))
            regRun = engine.run(untilOnlyRegistration ? try registration.needed(for: regTargets) : registration, options: options)
        }
        result.report = merge(result.report, regRun)
        guard regRun.succeeded, !untilOnlyRegistration else { return result }
        result.excluded = try excludedFrames(scanned, outputs: regRun.outputs, workspace: workspace)
        if !result.excluded.isEmpty {
            if config.registration.onFailure == .abort {
                for e in result.excluded {
                    result.report.failed[NodeName.register(e.index)] = "registration of \(e.file) failed: \(e.reason) (registration.on_failure: abort)"
                }
                return result
            }
            let registeredCount = scanned.frames.count - result.excluded.count
            if registeredCount < config.data.framesMin {
                let error = StepError.tooFewRegistered(registered: registeredCount, excluded: result.excluded.map(\.file),
                                                       minimum: config.data.framesMin)
                result.report.failed["(registration)"] = error.description
                throw error
            }
        }
        let frames = registered(scanned, excluding: result.excluded)
        let mainTargets = until.filter { !scanTargets.contains($0) }
        let (main, materializations) = try { () throws -> (BuildGraph, [Materialization]) in
            let builder = try mainBuilder(config: config, frames: scanned, registered: frames, workspace: workspace.root, process: process)
            let main = try builder.graph()
            return (mainTargets.isEmpty ? main : try main.needed(for: mainTargets), builder.materializations)
        }()
        for key in process.ensuredDirectories {
            if let dir = ProcessDescription.value(of: key, in: config) {
                try FileManager.default.createDirectory(atPath: (workspace.root as NSString).appendingPathComponent(dir),
                                                        withIntermediateDirectories: true)
            }
        }
        let second = engine.run(main, options: options)
        result.report = merge(result.report, second, overlapping: registrationNodes)
        for m in materializations {
            guard let digest = result.report.outputs[m.node]?[m.output] else { continue }
            if m.node == NodeName.validation {
                result.validation = try finalizeValidation(digest, in: workspace, at: m.path, since: started)
            } else if Artifacts.fileSize(workspace.path(of: digest)) == 0 {
                try? FileManager.default.removeItem(atPath: workspace.root + "/" + m.path)  // e.g. a synthetic frame beyond k
                continue
            } else {
                try workspace.materialize(digest, at: m.path)
            }
            result.materialized.append(m.path)
        }
        if until.isEmpty {
            try writeExcluded(result.excluded, workspace: workspace)
            if !result.excluded.isEmpty { result.materialized.append(excludedFramesPath) }
        }
        if until.isEmpty && process.includes(ReportStep().name) {
            try workspace.flush()
            try writeReport(result, frames: frames, workspace: workspace, command: command, threads: jobs)
            result.materialized.append("report.html")
        }
        return result
    }

    /// Where the frames registration excluded are listed (`frame_metrics.csv` has only registered frames).
    public static let excludedFramesPath = "excluded_frames.csv"

    /// Writes `excluded_frames.csv` (`index,file,reason`) when frames were excluded; removes a stale one otherwise.
    static func writeExcluded(_ excluded: [ExcludedFrame], workspace: Workspace) throws {
        let dest = workspace.root + "/" + excludedFramesPath
        guard !excluded.isEmpty else {
            try? FileManager.default.removeItem(atPath: dest)
            return
        }
        func quote(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        let csv = "index,file,reason\n" + excluded.map { "\($0.index),\(quote($0.file)),\(quote($0.reason))\n" }.joined()
        try csv.write(toFile: dest, atomically: true, encoding: .utf8)
    }

    /// Writes `report.html` for a finished run. Skipped only when the report on disk was built from
    /// exactly the same artifacts (their digests are kept in `.tcbuild/report.key`), so a no-op run
    /// stays cheap and switching back to an earlier config rewrites it. Timings come from the
    /// manifest: each node's latest execution, marked executed or cached in this run.
    static func writeReport(_ result: PipelineResult, frames: FrameList, workspace: Workspace, command: String,
                            threads: Int = 1) throws {
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
        let validationPath = result.validation != nil ? workspace.root + "/validation.json" : path(NodeName.validation, "validation")
        let inputs = ReportInputs(
            frameMetrics: path(NodeName.metrics, "metrics"), tileWeights: path(NodeName.tileMetrics, "weights"),
            grid: path(NodeName.tileGeometry, "grid"),
            localMetrics: frames.frames.compactMap { path(NodeName.local($0.index), "local") },
            clusters: path(NodeName.clusters, "clusters"), stack: path(NodeName.stack, "image"),
            classicalStack: path(NodeName.classicalStack, "image"), reconstruction: path(NodeName.reconstruct, "image"),
            validation: validationPath, rejectionSummary: path(NodeName.reject, "summary"),
            rejectionMap: path(NodeName.reject, "map"), timings: timings,
            summary: ReportSummary(runID: result.runID, status: result.status.rawValue, command: command,
                                   workspace: workspace.root, seconds: result.report.seconds,
                                   executed: result.report.executed.count, cached: result.report.cached.count,
                                   failed: result.report.failed, notStarted: result.report.notStarted.count,
                                   notes: seriesNotes(result.scanned)
                                       + result.excluded.map { "excluded (not registered): \($0.file): \($0.reason)" }),
            threads: threads)
        try Report.write(to: dest, inputs: inputs)
        try? key.write(toFile: keyPath, atomically: true, encoding: .utf8)
    }

    /// What the scan resolved for the series, for the run summary and the report: the saturation level
    /// and where it came from, and where the frame times came from.
    public static func seriesNotes(_ frames: FrameList?) -> [String] {
        guard let frames else { return [] }
        return [frames.saturation?.description
                    ?? "saturation: none (floating-point frames without SATURATE, DATAMAX or a populated maximum): no star is flagged",
                "frame times: " + frames.timeSummary]
    }

    /// Fills the runtime checks (wall time of this run; tile phases vs registration + classical mean) into the
    /// validation verdict and writes it to `path` as a plain file (the stored artifact stays as the
    /// deterministic node wrote it).
    static func finalizeValidation(_ digest: Digest, in workspace: Workspace, at path: String, since start: Date) throws -> ValidationReport {
        var report = try ValidationReport.read(path: workspace.path(of: digest))
        let durations = try workspace.latestDurations()
        /// Summed duration of the nodes of the steps named `steps`.
        func total(_ steps: [String]) -> Double {
            let patterns = Set(steps.compactMap(Pipeline.step).flatMap(\.nodes))
            return durations.filter { node, _ in patterns.contains(NodeName.pattern(node)) }.values.reduce(0, +)
        }
        let tile = total([NodeName.tileGeometry, "local", NodeName.tileMetrics, NodeName.reconstruct, NodeName.clusters, "synthetic"])
        // A classical stack needs registration and a mean: that is the yardstick for the tile phases.
        let classical = total(["stars", NodeName.reference, "register", "classical"])
        report.recordRuntime(elapsedHours: Date().timeIntervalSince(start) / 3600,
                             tileAnalysisFactor: classical > 0 ? tile / classical : nil)
        let dest = workspace.root + "/" + path
        let temp = dest + ".tmp"
        try Artifacts.encode(report).write(to: URL(fileURLWithPath: temp))
        try? FileManager.default.removeItem(atPath: dest)
        try FileManager.default.moveItem(atPath: temp, toPath: dest)
        return report
    }

    /// `a` then `b`; nodes in `overlapping` already ran in `a` (registration), so `b`'s cache hits on
    /// them are not counted again.
    static func merge(_ a: RunReport, _ b: RunReport, overlapping: Set<String> = []) -> RunReport {
        var r = a
        r.executed += b.executed.filter { !overlapping.contains($0) }
        r.cached += b.cached.filter { !overlapping.contains($0) }
        r.failed.merge(b.failed) { x, _ in x }
        r.notStarted += b.notStarted
        r.outputs.merge(b.outputs) { x, _ in x }
        r.seconds += b.seconds
        return r
    }
}
