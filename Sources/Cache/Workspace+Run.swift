import Foundation
import Graph

/// A run in progress: its manifest row, its JSON-lines log and the engine that writes both.
/// `Workspace.run` (one graph) and the pipeline (two stages) both go through it, so every run is
/// recorded the same way and ends with one of the `RunStatus` words.
public struct RecordedRun: Sendable {
    /// The run id in the manifest.
    public let id: Int64
    /// The engine, reporting to the run log and to the caller's sink.
    public let engine: Engine
}

extension Workspace {
    /// Starts a recorded run: a `runs` row (with the effective configuration as JSON and where it came
    /// from, for runs that have one), the run log `.tcbuild/runs/ID.jsonl`, and an engine writing to
    /// both and to `events`. End it with `finishRun(status:report:)`.
    public func startRun(jobs: Int, command: String, config: String = "", configSource: String = "",
                         events: (any EventSink)? = nil) throws -> RecordedRun {
        let id = try beginRun(jobs: jobs, command: command, config: config, configSource: configSource)
        let log = try RunLog(workspace: self, runID: id)
        let sink: any EventSink = events.map { FanOutEventSink([log, $0]) } ?? log
        return RecordedRun(id: id, engine: Engine(store: self, events: sink))
    }

    /// Runs `graph` in this workspace as one recorded run and returns the engine's report; the run
    /// ends `ok` or `nodes failed`.
    public func run(_ graph: BuildGraph, options: RunOptions, command: String, config: String = "",
                    events: (any EventSink)? = nil) throws -> RunReport {
        let run = try startRun(jobs: options.jobs, command: command, config: config, events: events)
        let report = run.engine.run(graph, options: options)
        try finishRun(status: report.succeeded ? .ok : .nodesFailed, report: report)
        return report
    }

    // MARK: typed reads for the CLI and the report (no SQL outside Cache)

    /// The newest `limit` runs, oldest first; a run left `running` by a dead process reads `interrupted`.
    public func runs(limit: Int) throws -> [RunRecord] {
        try manifest.runs(limit: limit, lockHolder: WorkspaceLock.holder(path: stateDir + "/lock"))
    }

    /// The newest run that recorded its configuration (nil before the first pipeline run).
    public func latestConfiguredRun() throws -> RunRecord? { try manifest.latestConfiguredRun() }

    /// The duration of each node's latest execution, by node name.
    public func latestDurations() throws -> [String: Double] { try manifest.latestDurations() }

    /// How many artifacts the manifest records.
    public func artifactCount() throws -> Int { try manifest.artifactCount() }
}
