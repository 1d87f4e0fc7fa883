import Foundation
import Graph

/// What opening a workspace did about a damaged manifest.
public struct ManifestRecovery: Sendable, Equatable, CustomStringConvertible {
    /// Where the damaged manifest was moved (`.tcbuild/manifest.sqlite.damaged-TIME`).
    public let movedTo: String
    /// What was wrong with it.
    public let detail: String
    /// Executions taken over into the new manifest: their record passed its checksum and every
    /// output artifact is present and rehashes to its recorded digest.
    public let adopted: Int
    /// Recorded executions that could not be verified (or read): their nodes rerun.
    public let dropped: Int

    public var description: String {
        "the manifest was damaged (\(detail)); it was moved to \(movedTo) and a new one started: "
            + "\(adopted) recorded execution(s) verified and reused, \(dropped) not verifiable (their nodes rerun)"
    }
}

extension Workspace {
    /// Moves the damaged manifest at `path` (and its `-wal`/`-shm` files) aside, starts a new one,
    /// and adopts from the damaged file every execution it can still read whose output checksum
    /// matches and whose artifacts rehash to their recorded digests. Everything else is simply not
    /// in the new manifest, so those nodes rerun: the result is never built from an unverified row.
    static func recover(_ path: String, detail: String, objects: ObjectStore) throws -> (Manifest, ManifestRecovery) {
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let aside = path + ".damaged-" + stamp
        guard rename(path, aside) == 0 else {
            throw CacheError.io(path: path, message: "damaged manifest (\(detail)) cannot be moved aside: \(String(cString: strerror(errno)))")
        }
        for suffix in ["-wal", "-shm"] { _ = rename(path + suffix, aside + suffix) }
        let fresh = try Manifest(path: path)
        let (adopted, dropped) = fresh.adopt(from: aside, objects: objects)
        fresh.adoptRunHistory(from: aside)
        return (fresh, ManifestRecovery(movedTo: aside, detail: detail, adopted: adopted, dropped: dropped))
    }
}

extension Manifest {
    /// Copies the run history (what `log` shows, and the configurations the inspection verbs reuse)
    /// from the damaged manifest, if its `runs` table can still be read; nothing otherwise. Run rows
    /// carry no results, so they need no verification; a run still marked running is interrupted.
    func adoptRunHistory(from path: String) {
        guard let old = try? Database(path: path, readOnly: true, immutable: true),
              let rows = try? old.query("""
                  SELECT id, started_at, finished_at, status, jobs, command, config, executed, cached, failed, seconds, pid, config_source
                  FROM runs ORDER BY id
                  """) else { return }
        try? locked {
            try db.transaction {
                for var r in rows {
                    if r[3].text == RunStatus.running.rawValue { r[3] = .text(RunStatus.interrupted.rawValue) }
                    try db.run("""
                        INSERT OR IGNORE INTO runs(id, started_at, finished_at, status, jobs, command, config, executed, cached, failed, seconds, pid, config_source)
                        VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)
                        """, r)
                }
            }
        }
    }

    /// Copies into this (new) manifest the executions of the damaged manifest at `path` that verify
    /// (see `Workspace.recover`). Rows that cannot be read count as dropped. Returns (adopted, dropped).
    func adopt(from path: String, objects: ObjectStore) -> (Int, Int) {
        guard let old = try? Database(path: path, readOnly: true, immutable: true),
              let rows = try? old.query("""
                  SELECT e.id, e.node, e.kind, e.version, e.fingerprint, e.duration, e.outputs_check, rc.fingerprint
                  FROM run_cache rc JOIN executions e ON e.id = rc.exec_id
                  """) else { return (0, 0) }
        var adopted = 0, dropped = 0
        var verified: [Digest: Bool] = [:]
        for r in rows {
            guard let fp = Digest(hex: r[4].text), r[7].text == r[4].text,
                  let outs = try? old.query("SELECT name, digest, size FROM exec_outputs WHERE exec_id=?", [r[0]]).map({ o in
                      OutputRecord(name: o[0].text, digest: Digest(hex: o[1].text) ?? Digest(high: 0, low: 0), size: o[2].int)
                  }),
                  !outs.isEmpty, Set(outs.map(\.name)).count == outs.count,
                  r[6].text == Manifest.outputsCheck(fingerprint: fp, outputs: outs) else { dropped += 1; continue }
            let intact = outs.allSatisfy { o in
                if let known = verified[o.digest] { return known }
                let p = objects.path(of: o.digest)
                let ok = objects.fileSize(p) == o.size && (try? Digest.ofFile(atPath: p).digest) == o.digest
                verified[o.digest] = ok
                return ok
            }
            guard intact else { dropped += 1; continue }
            // Params and inputs only serve explain; a damaged page there loses the explanation, not the result.
            let params = (try? old.query("SELECT path, value FROM exec_params WHERE exec_id=?", [r[0]])) ?? []
            let inputs = (try? old.query("SELECT name, source, digest FROM exec_inputs WHERE exec_id=?", [r[0]])) ?? []
            let record = ExecutionRecord(
                node: r[1].text, kind: r[2].text, version: Int(r[3].int), fingerprint: fp,
                params: Dictionary(params.map { ($0[0].text, $0[1].text) }, uniquingKeysWith: { a, _ in a }),
                inputs: inputs.compactMap { i in Digest(hex: i[2].text).map { InputRecord(name: i[0].text, source: i[1].text, digest: $0) } },
                outputs: outs, duration: r[5].double, runID: 0)
            do {
                try locked { try db.transaction { try insert(record, runID: 0, runNode: false) } }
                adopted += 1
            } catch {
                dropped += 1
            }
        }
        return (adopted, dropped)
    }
}
