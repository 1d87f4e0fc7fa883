import Foundation
import Graph

/// The status of a recorded run: one vocabulary for every kind of run (the pipeline, `_toy`), shown
/// by `tcbuild log` and the report.
public enum RunStatus: String, Sendable, CaseIterable {
    /// Still running (its process holds the workspace lock).
    case running
    /// Every node succeeded (and validation, where there is one, passed).
    case ok
    /// At least one node failed; everything that finished is recorded.
    case nodesFailed = "nodes failed"
    /// Every node succeeded but the validation verdict failed.
    case validationFailed = "validation failed"
    /// The process was killed (or crashed) before it could record an end.
    case interrupted

    /// The status stored by a run row, including the words older tcbuild versions wrote
    /// (`failed`, `FAILED`: nodes or validation failed, not told apart then).
    init(stored: String) {
        self = RunStatus(rawValue: stored) ?? (stored.lowercased() == "failed" ? .nodesFailed : .interrupted)
    }
}

/// One row of the run history.
public struct RunRecord: Sendable, Equatable {
    /// Run id (increasing).
    public let id: Int64
    /// When it started.
    public let startedAt: Date
    /// Its status; a row still marked running whose process is gone reads `interrupted`.
    public let status: RunStatus
    /// The status word as stored (older versions wrote `failed`/`FAILED`).
    public let storedStatus: String
    /// Nodes executed, taken from the cache, failed.
    public let executed: Int, cached: Int, failed: Int
    /// Wall time, seconds.
    public let seconds: Double
    /// The command line.
    public let command: String
    /// The effective configuration as JSON ("" for runs without one, e.g. `_toy`).
    public let config: String
    /// Where the configuration came from (`tile_compile.yaml + --set data.frames_min=10`).
    public let configSource: String
    /// The process that ran it.
    public let pid: Int32
}

extension Manifest {
    /// The newest `limit` runs, oldest first. `lockHolder` is the PID written in the workspace lock
    /// (nil when free): a row marked running is only running while its own process holds the lock.
    func runs(limit: Int, lockHolder: Int32?, onlyConfigured: Bool = false) throws -> [RunRecord] {
        let sourceColumn = hasChecks ? "config_source" : "''"
        let rows = try select("""
            SELECT id, started_at, status, executed, cached, failed, seconds, command, config, \(sourceColumn), pid
            FROM runs \(onlyConfigured ? "WHERE config <> ''" : "") ORDER BY id DESC LIMIT ?
            """, [.int(Int64(min(limit, Int(Int32.max))))])
        return rows.reversed().map { r in
            var status = RunStatus(stored: r[2].text)
            let pid = Int32(truncatingIfNeeded: r[10].int)
            if status == .running && !(lockHolder == pid && WorkspaceLock.isAlive(pid)) { status = .interrupted }
            return RunRecord(id: r[0].int, startedAt: Date(timeIntervalSince1970: r[1].double), status: status, storedStatus: r[2].text,
                             executed: Int(r[3].int), cached: Int(r[4].int), failed: Int(r[5].int), seconds: r[6].double,
                             command: r[7].text, config: r[8].text, configSource: r[9].text, pid: pid)
        }
    }

    /// The newest run that recorded a configuration (pipeline runs do, `_toy` runs do not).
    func latestConfiguredRun() throws -> RunRecord? {
        try runs(limit: 1, lockHolder: nil, onlyConfigured: true).last
    }

    /// Marks every run still recorded as running `interrupted` (called by the lock holder: no other
    /// run can be alive). Returns how many.
    func markInterrupted() throws -> Int {
        try locked {
            let n = try db.query("SELECT COUNT(*) FROM runs WHERE status=?", [.text(RunStatus.running.rawValue)]).first?.first?.int ?? 0
            if n > 0 {
                try db.run("UPDATE runs SET status=?, finished_at=COALESCE(finished_at, started_at) WHERE status=?",
                           [.text(RunStatus.interrupted.rawValue), .text(RunStatus.running.rawValue)])
            }
            return Int(n)
        }
    }

    /// The duration of each node's latest execution, by node name (one query).
    func latestDurations() throws -> [String: Double] {
        let sql = "SELECT node, duration FROM executions e WHERE id = (SELECT MAX(id) FROM executions WHERE node = e.node)"
        var durations: [String: Double] = [:]
        for row in try select(sql) { durations[row[0].text] = row[1].double }
        return durations
    }

    /// How many artifacts the manifest records.
    func artifactCount() throws -> Int {
        Int(try select("SELECT COUNT(*) FROM blobs").first?.first?.int ?? 0)
    }
}
