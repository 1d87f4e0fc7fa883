import Foundation
import Graph

extension Workspace {
    /// Runs `graph` in this workspace as one recorded run: a `runs` row, a JSON-lines run log, the
    /// engine, then the run's counts and status (`ok` or `failed`). Returns the engine's report.
    public func run(_ graph: BuildGraph, options: RunOptions, command: String, config: String = "",
                    events: (any EventSink)? = nil) throws -> RunReport {
        let id = try beginRun(jobs: options.jobs, command: command, config: config)
        let log = try RunLog(workspace: self, runID: id)
        let sink: any EventSink = events.map { FanOutEventSink([log, $0]) } ?? log
        let report = Engine(store: self, events: sink).run(graph, options: options)
        try finishRun(status: report.succeeded ? "ok" : "failed", report: report)
        return report
    }
}
