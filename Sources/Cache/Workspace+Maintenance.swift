import Foundation
import Graph

/// What `gc` did.
public struct GCReport: Sendable, Equatable {
    /// Executions forgotten (not referenced by the kept runs).
    public var executionsRemoved = 0
    /// Artifact files deleted.
    public var blobsRemoved = 0
    /// Bytes freed.
    public var bytesFreed: Int64 = 0
    /// Runs whose references were kept.
    public var keptRuns: [Int64] = []
    /// Files in the object store that no manifest row references (left by a moved-aside manifest,
    /// a crash between commit and record, or an older tcbuild), deleted by gc; counted in
    /// `blobsRemoved` and `bytesFreed` too.
    public var unreferencedRemoved = 0
    /// Tile-task memo files deleted (`.tcbuild/tasks`): their node finished, their result is gone, or
    /// no kept run wrote them. The tile results and plans they named go with the unreferenced files.
    public var taskMemosRemoved = 0
    /// Runs dropped by the size pass of `gc(keepRuns:maxBytes:)` (oldest first); empty without a size limit.
    public var droppedForSize: [Int64] = []
    /// Recorded artifact bytes after gc.
    public var storeBytes: Int64 = 0
    /// True when a size limit was given and the store is still above it: what is left is referenced
    /// by the latest run, which gc never touches.
    public var overLimit = false
}

/// One damaged artifact found by `verify`.
public struct VerifyProblem: Sendable, Equatable, CustomStringConvertible {
    /// The artifact's recorded digest.
    public let digest: Digest
    /// Nodes whose recorded outputs include it.
    public let nodes: [String]
    /// What is wrong.
    public let problem: String

    public var description: String { "\(digest.short) (\(nodes.joined(separator: ", "))): \(problem)" }
}

extension Workspace {
    /// Forgets every execution that none of the last `keepRuns` runs referenced (executed or took
    /// from the cache), then deletes artifact files no remaining execution points at. A blob that a
    /// kept row points to is never deleted, so the latest run stays fully cached.
    public func gc(keepRuns: Int) throws -> GCReport {
        let runs = try manifest.select("SELECT id FROM runs ORDER BY id DESC LIMIT ?", [.int(Int64(max(1, keepRuns)))])
        let kept = runs.map { $0[0].int }
        guard let oldestKept = kept.last else { return GCReport() }  // no run yet: everything may still be adopted
        var report = try collect(keepingFrom: oldestKept)
        report.keptRuns = kept
        let started = try manifest.select("SELECT started_at FROM runs WHERE id=?", [.int(oldestKept)]).first?[0].double ?? 0
        let memos = try sweepTaskMemos(since: Date(timeIntervalSince1970: started))
        report.taskMemosRemoved = memos.removed
        var referenced = try Set(manifest.select("SELECT digest FROM blobs UNION SELECT digest FROM exec_outputs").compactMap { Digest(hex: $0[0].text) })
        referenced.formUnion(memos.referenced)
        for (digest, size) in objects.allArtifacts() where !referenced.contains(digest) {
            if unlink(path(of: digest)) == 0 {
                report.unreferencedRemoved += 1
                report.blobsRemoved += 1
                report.bytesFreed += size
            }
        }
        return report
    }

    /// Forgets executions that no run numbered `oldestKept` or later referenced, and deletes the
    /// artifacts no remaining execution points at (manifest first, files after).
    private func collect(keepingFrom oldestKept: Int64) throws -> GCReport {
        var report = GCReport()
        var doomed: [(String, Int64)] = []
        try manifest.write { db in
            try db.exec("""
            CREATE TEMP TABLE IF NOT EXISTS keep_exec(id INTEGER PRIMARY KEY);
            DELETE FROM keep_exec;
            """)
            // Executions referenced by a kept run, directly or through the run cache.
            try db.run("""
            INSERT OR IGNORE INTO keep_exec(id)
            SELECT e.id FROM executions e WHERE e.run_id >= ?
            UNION SELECT rc.exec_id FROM run_cache rc JOIN run_nodes rn ON rn.fingerprint = rc.fingerprint WHERE rn.run_id >= ?
            """, [.int(oldestKept), .int(oldestKept)])
            let removed = try db.query("SELECT COUNT(*) FROM executions WHERE id NOT IN (SELECT id FROM keep_exec)")
            report.executionsRemoved = Int(removed.first?.first?.int ?? 0)
            for table in ["exec_params", "exec_inputs", "exec_outputs"] {
                try db.run("DELETE FROM \(table) WHERE exec_id NOT IN (SELECT id FROM keep_exec)")
            }
            try db.run("DELETE FROM run_cache WHERE exec_id NOT IN (SELECT id FROM keep_exec)")
            try db.run("DELETE FROM executions WHERE id NOT IN (SELECT id FROM keep_exec)")
            try db.run("DELETE FROM run_nodes WHERE run_id < ?", [.int(oldestKept)])
            doomed = try db.query("SELECT digest, size FROM blobs WHERE digest NOT IN (SELECT digest FROM exec_outputs)").map {
                ($0[0].text, $0[1].int)
            }
            for (hex, _) in doomed { try db.run("DELETE FROM blobs WHERE digest=?", [.text(hex)]) }
        }
        // Files go only after the manifest no longer points at them.
        for (hex, size) in doomed {
            guard let d = Digest(hex: hex) else { continue }
            if unlink(path(of: d)) == 0 {
                report.blobsRemoved += 1
                report.bytesFreed += size
            }
        }
        report.storeBytes = try storeSize()
        return report
    }

    /// `gc(keepRuns:)`, then, while the store holds more than `maxBytes` of artifacts, forgets the
    /// oldest remaining run as well (its executions and the artifacts no newer run references), one
    /// run at a time, stopping as soon as the store fits. The latest run is never dropped, so
    /// everything it references stays and it remains fully cached; when that alone exceeds
    /// `maxBytes`, the report says so with `overLimit`. Without `maxBytes` this is `gc(keepRuns:)`.
    public func gc(keepRuns: Int, maxBytes: Int64?) throws -> GCReport {
        var report = try gc(keepRuns: keepRuns)
        report.storeBytes = try storeSize()
        guard let maxBytes else { return report }
        // Runs that still reference something (earlier gc passes emptied the older ones), oldest first.
        var alive = try manifest.select("SELECT DISTINCT run_id FROM run_nodes ORDER BY run_id").map { $0[0].int }
        while report.storeBytes > maxBytes && alive.count > 1 {
            let pass = try collect(keepingFrom: alive[1])
            report.droppedForSize.append(alive.removeFirst())
            report.executionsRemoved += pass.executionsRemoved
            report.blobsRemoved += pass.blobsRemoved
            report.bytesFreed += pass.bytesFreed
            report.storeBytes = try storeSize()
        }
        if !report.droppedForSize.isEmpty { report.keptRuns = alive.reversed() }
        report.overLimit = report.storeBytes > maxBytes
        return report
    }

    /// Checks every recorded artifact: present, of its recorded size, and (with `rehash`) of its
    /// recorded content digest. A damaged artifact is deleted from the store and its blob row dropped,
    /// so the nodes that produced it rerun next time (and only those, plus what their new bytes change).
    public func verify(rehash: Bool) throws -> [VerifyProblem] {
        var problems: [VerifyProblem] = []
        for row in try manifest.select("SELECT digest, size FROM blobs ORDER BY digest") {
            guard let d = Digest(hex: row[0].text) else { continue }
            let p = path(of: d)
            var problem: String?
            if let size = objects.fileSize(p) {
                if size != row[1].int {
                    problem = "size \(size) != recorded \(row[1].int) (truncated or modified)"
                } else if rehash, let actual = try? Digest.ofFile(atPath: p).digest, actual != d {
                    problem = "content hash \(actual.short) != recorded (modified)"
                }
            } else {
                problem = "missing from the store"
            }
            guard let problem else { continue }
            let nodes = try manifest.select("""
                SELECT DISTINCT e.node FROM executions e JOIN exec_outputs o ON o.exec_id = e.id WHERE o.digest=? ORDER BY e.node
                """, [.text(d.hex)]).map { $0[0].text }
            problems.append(VerifyProblem(digest: d, nodes: nodes, problem: problem))
            unlink(p)
            try manifest.write { db in
                try db.run("DELETE FROM blobs WHERE digest=?", [.text(d.hex)])
                try db.run("DELETE FROM run_cache WHERE exec_id IN (SELECT exec_id FROM exec_outputs WHERE digest=?)", [.text(d.hex)])
            }
        }
        return problems
    }

    /// Total bytes of recorded artifacts.
    public func storeSize() throws -> Int64 {
        try manifest.select("SELECT COALESCE(SUM(size), 0) FROM blobs").first?.first?.int ?? 0
    }
}
