import Foundation
import Graph

/// The SQLite manifest (`.tcbuild/manifest.sqlite`, WAL mode): runs, executions with their param
/// values, input digests and outputs (so explain is one query), the run cache
/// (fingerprint -> execution), the blob table and the stat cache.
///
/// All methods are serialized by an internal lock and safe to call from several threads.
public final class Manifest: @unchecked Sendable {
    /// The schema this code reads and writes. 2 added `executions.outputs_check` and `runs.config_source`.
    public static let schemaVersion = 2
    let db: Database
    let lock = NSLock()
    /// Whether `executions.outputs_check` exists (false only for a version-1 manifest opened read-only).
    let hasChecks: Bool
    /// The schema version found on disk (before migration).
    let foundVersion: Int

    static let tables = ["meta", "runs", "executions", "exec_params", "exec_inputs", "exec_outputs", "run_cache",
                         "run_nodes", "blobs", "stat_cache"]

    static let schema = """
    CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY, started_at REAL NOT NULL, finished_at REAL,
        status TEXT NOT NULL, jobs INTEGER NOT NULL, command TEXT NOT NULL, config TEXT NOT NULL,
        executed INTEGER NOT NULL DEFAULT 0, cached INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
        seconds REAL NOT NULL DEFAULT 0, pid INTEGER NOT NULL DEFAULT 0, config_source TEXT NOT NULL DEFAULT '');
    CREATE TABLE IF NOT EXISTS executions(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, node TEXT NOT NULL,
        kind TEXT NOT NULL, version INTEGER NOT NULL, fingerprint TEXT NOT NULL, finished_at REAL NOT NULL,
        duration REAL NOT NULL, outputs_check TEXT NOT NULL DEFAULT '');
    CREATE INDEX IF NOT EXISTS executions_node ON executions(node, id);
    CREATE TABLE IF NOT EXISTS exec_params(exec_id INTEGER NOT NULL, path TEXT NOT NULL, value TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS exec_params_exec ON exec_params(exec_id);
    CREATE TABLE IF NOT EXISTS exec_inputs(exec_id INTEGER NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL,
        digest TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS exec_inputs_exec ON exec_inputs(exec_id);
    CREATE TABLE IF NOT EXISTS exec_outputs(exec_id INTEGER NOT NULL, name TEXT NOT NULL, digest TEXT NOT NULL,
        size INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS exec_outputs_exec ON exec_outputs(exec_id);
    CREATE INDEX IF NOT EXISTS exec_outputs_digest ON exec_outputs(digest);
    CREATE TABLE IF NOT EXISTS run_cache(fingerprint TEXT PRIMARY KEY, exec_id INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS run_nodes(run_id INTEGER NOT NULL, node TEXT NOT NULL, fingerprint TEXT NOT NULL,
        state TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS run_nodes_run ON run_nodes(run_id);
    CREATE TABLE IF NOT EXISTS blobs(digest TEXT PRIMARY KEY, size INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS stat_cache(path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
        inode INTEGER NOT NULL, digest TEXT NOT NULL);
    """

    /// Opens (creating if needed) the manifest at `path` (`:memory:` for an empty one that is never
    /// written to disk). Checks it first: `PRAGMA quick_check`, every table present, a known schema
    /// version. Throws `CacheError.manifestDamaged` when any of that fails (the caller decides whether
    /// to move the file aside), `schemaTooNew` for a newer tcbuild's manifest. A version-1 manifest
    /// opened for writing is migrated (its executions get their output checksums).
    /// Read-only opening falls back to `immutable=1` when SQLite cannot create its `-shm` file
    /// (read-only storage, another user's workspace).
    public init(path: String, readOnly: Bool = false) throws {
        do {
            var opened = try Database(path: path, readOnly: readOnly)
            var check: [[SQLValue]]
            do {
                check = try opened.query("PRAGMA quick_check")
            } catch let e as SQLiteError where readOnly && (e.code & 0xff == 8 || e.code & 0xff == 14) {  // READONLY, CANTOPEN
                opened = try Database(path: path, readOnly: true, immutable: true)
                check = try opened.query("PRAGMA quick_check")
            }
            db = opened
            let verdict = check.map { $0.first?.text ?? "" }
            guard verdict == ["ok"] else {
                throw CacheError.manifestDamaged(path: path, detail: "integrity check: " + (verdict.first ?? "no answer"))
            }
            if let problem = try Manifest.sizeProblem(db, path: path) { throw CacheError.manifestDamaged(path: path, detail: problem) }
            let present = Set(try db.query("SELECT name FROM sqlite_master WHERE type='table'").map { $0[0].text })
            var version = 0
            if present.contains("meta") {
                let missing = Manifest.tables.filter { !present.contains($0) }
                guard missing.isEmpty else {
                    throw CacheError.manifestDamaged(path: path, detail: "tables missing: \(missing.joined(separator: ", "))")
                }
                let rows = try db.query("SELECT value FROM meta WHERE key='schema_version'")
                version = Int(rows.first?.first?.text ?? "") ?? 0
                guard version >= 1 else {
                    throw CacheError.manifestDamaged(path: path, detail: "no valid schema version in meta")
                }
                guard version <= Manifest.schemaVersion else {
                    throw CacheError.schemaTooNew(path: path, found: version, supported: Manifest.schemaVersion)
                }
            } else if !present.isEmpty {
                throw CacheError.manifestDamaged(path: path, detail: "not a tcbuild manifest (no meta table)")
            } else if readOnly {
                throw CacheError.manifestDamaged(path: path, detail: "the file is empty")
            }
            foundVersion = version
            hasChecks = version >= 2 || !readOnly
            if readOnly { return }
            try db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;")
            try db.transaction {
                if version == 1 { try migrateFromVersion1() }
                try db.exec(Manifest.schema)
                if version == 0 {
                    try db.run("INSERT INTO meta(key, value) VALUES('schema_version', ?)", [.text(String(Manifest.schemaVersion))])
                }
            }
        } catch let e as SQLiteError where e.isDamage {
            throw CacheError.manifestDamaged(path: path, detail: e.message)
        }
    }

    /// A truncation that SQLite's own checks may not see (a cut inside the last page reads as zeros):
    /// with no write-ahead log pending, the file must hold exactly `page_count` whole pages.
    static func sizeProblem(_ db: Database, path: String) throws -> String? {
        guard path != ":memory:" else { return nil }
        var st = stat()
        if stat(path + "-wal", &st) == 0 && st.st_size > 0 { return nil }  // pages may live in the log
        guard stat(path, &st) == 0, st.st_size > 0 else { return nil }
        let pageSize = try db.query("PRAGMA page_size").first?.first?.int ?? 0
        let pages = try db.query("PRAGMA page_count").first?.first?.int ?? 0
        guard pageSize > 0, Int64(st.st_size) != pageSize * pages else { return nil }
        return "the file has \(st.st_size) bytes but its header describes \(pages) pages of \(pageSize) bytes (truncated or extended)"
    }

    /// Version 1 -> 2: adds the output checksum of every execution and the runs' config source.
    private func migrateFromVersion1() throws {
        try db.exec("""
        ALTER TABLE executions ADD COLUMN outputs_check TEXT NOT NULL DEFAULT '';
        ALTER TABLE runs ADD COLUMN config_source TEXT NOT NULL DEFAULT '';
        """)
        for row in try db.query("SELECT id, fingerprint FROM executions") {
            guard let fp = Digest(hex: row[1].text) else { continue }
            let check = Manifest.outputsCheck(fingerprint: fp, outputs: try outputs(of: row[0].int))
            try db.run("UPDATE executions SET outputs_check=? WHERE id=?", [.text(check), row[0]])
        }
        try db.run("UPDATE meta SET value=? WHERE key='schema_version'", [.text(String(Manifest.schemaVersion))])
    }

    /// The checksum that binds an execution's fingerprint to its outputs (names, digests, sizes):
    /// a manifest row damaged on disk (a flipped byte in a fingerprint, an exec id, a digest or a
    /// size) no longer matches it, so the run cache never serves another node's outputs.
    static func outputsCheck(fingerprint: Digest, outputs: [OutputRecord]) -> String {
        var h = ContentHasher()
        h.field("tcbuild.outputs.v1")
        h.field(fingerprint)
        for o in outputs.sorted(by: { $0.name < $1.name }) {
            h.field(o.name)
            h.field(o.digest)
            h.field(Int(o.size))
        }
        return h.finalize().hex
    }

    /// Runs `body` under the manifest lock.
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// `PRAGMA integrity_check` result ("ok" when healthy).
    public func integrityCheck() throws -> String {
        try locked { try db.query("PRAGMA integrity_check").first?.first?.text ?? "?" }
    }

    // MARK: runs

    /// Starts a run row; returns its id.
    func beginRun(jobs: Int, command: String, config: String, configSource: String) throws -> Int64 {
        try locked {
            try db.run("INSERT INTO runs(started_at, status, jobs, command, config, pid, config_source) VALUES(?, ?, ?, ?, ?, ?, ?)",
                       [.double(Date().timeIntervalSince1970), .text(RunStatus.running.rawValue), .int(Int64(jobs)), .text(command),
                        .text(config), .int(Int64(getpid())), .text(configSource)])
            return db.lastInsertID
        }
    }

    /// Closes a run row with its counts and status.
    func finishRun(_ id: Int64, status: RunStatus, executed: Int, cached: Int, failed: Int, seconds: Double) throws {
        try locked {
            try db.run("UPDATE runs SET finished_at=?, status=?, executed=?, cached=?, failed=?, seconds=? WHERE id=?",
                       [.double(Date().timeIntervalSince1970), .text(status.rawValue), .int(Int64(executed)), .int(Int64(cached)),
                        .int(Int64(failed)), .double(seconds), .int(id)])
        }
    }

    /// Appends (node, fingerprint, state) rows of a run in one transaction.
    func addRunNodes(_ runID: Int64, _ rows: [(node: String, fingerprint: Digest, state: String)]) throws {
        guard !rows.isEmpty else { return }
        try locked {
            try db.transaction {
                for r in rows {
                    try db.run("INSERT INTO run_nodes(run_id, node, fingerprint, state) VALUES(?, ?, ?, ?)",
                               [.int(runID), .text(r.node), .text(r.fingerprint.hex), .text(r.state)])
                }
            }
        }
    }

    // MARK: executions

    /// Records an execution, its params, inputs, outputs, the run-cache entry, its blobs and its
    /// run-node row, all in one transaction.
    func record(_ e: ExecutionRecord, runID: Int64) throws {
        try locked { try db.transaction { try insert(e, runID: runID, runNode: true) } }
    }

    /// Records a batch of executions (each in its own run, `ExecutionRecord.runID`) in one transaction.
    func record(_ batch: [ExecutionRecord]) throws {
        try locked { try db.transaction { for e in batch { try insert(e, runID: e.runID, runNode: true) } } }
    }

    /// The rows of `record` (inside the caller's transaction); `runNode: false` leaves out the
    /// run-node row (adopted executions belong to no run).
    func insert(_ e: ExecutionRecord, runID: Int64, runNode: Bool) throws {
        try db.run("INSERT INTO executions(run_id, node, kind, version, fingerprint, finished_at, duration, outputs_check) VALUES(?,?,?,?,?,?,?,?)",
                   [.int(runID), .text(e.node), .text(e.kind), .int(Int64(e.version)), .text(e.fingerprint.hex),
                    .double(Date().timeIntervalSince1970), .double(e.duration),
                    .text(Manifest.outputsCheck(fingerprint: e.fingerprint, outputs: e.outputs))])
        let id = db.lastInsertID
        for (path, value) in e.params.sorted(by: { $0.key < $1.key }) {
            try db.run("INSERT INTO exec_params(exec_id, path, value) VALUES(?,?,?)", [.int(id), .text(path), .text(value)])
        }
        for i in e.inputs {
            try db.run("INSERT INTO exec_inputs(exec_id, name, source, digest) VALUES(?,?,?,?)",
                       [.int(id), .text(i.name), .text(i.source), .text(i.digest.hex)])
        }
        for o in e.outputs {
            try db.run("INSERT INTO exec_outputs(exec_id, name, digest, size) VALUES(?,?,?,?)",
                       [.int(id), .text(o.name), .text(o.digest.hex), .int(o.size)])
            try db.run("INSERT OR REPLACE INTO blobs(digest, size) VALUES(?,?)", [.text(o.digest.hex), .int(o.size)])
        }
        try db.run("INSERT OR REPLACE INTO run_cache(fingerprint, exec_id) VALUES(?,?)", [.text(e.fingerprint.hex), .int(id)])
        guard runNode else { return }
        try db.run("INSERT INTO run_nodes(run_id, node, fingerprint, state) VALUES(?,?,?, 'executed')",
                   [.int(runID), .text(e.node), .text(e.fingerprint.hex)])
    }

    /// What the run cache holds for a fingerprint.
    enum CachedOutputs: Equatable {
        /// Not in the run cache.
        case none
        /// The recorded outputs (their checksum verified).
        case outputs([OutputRecord])
        /// A row whose checksum does not match (a damaged manifest row): the node must rerun.
        case damaged(String)
    }

    /// The recorded outputs for a fingerprint, checked against the execution's output checksum.
    func cachedOutputs(_ fingerprint: Digest) throws -> CachedOutputs {
        try locked {
            let sql = hasChecks
                ? "SELECT e.id, e.fingerprint, e.outputs_check FROM run_cache rc JOIN executions e ON e.id = rc.exec_id WHERE rc.fingerprint=?"
                : "SELECT e.id, e.fingerprint, '' FROM run_cache rc JOIN executions e ON e.id = rc.exec_id WHERE rc.fingerprint=?"
            guard let row = try db.query(sql, [.text(fingerprint.hex)]).first else { return .none }
            let outs = try outputs(of: row[0].int)
            guard hasChecks else { return .outputs(outs) }  // a version-1 manifest read without migrating
            guard row[1].text == fingerprint.hex, Set(outs.map(\.name)).count == outs.count,
                  row[2].text == Manifest.outputsCheck(fingerprint: fingerprint, outputs: outs) else {
                return .damaged("the manifest's record of this execution fails its checksum (a damaged manifest row)")
            }
            return .outputs(outs)
        }
    }

    func outputs(of exec: Int64) throws -> [OutputRecord] {
        try db.query("SELECT name, digest, size FROM exec_outputs WHERE exec_id=? ORDER BY name", [.int(exec)]).map {
            OutputRecord(name: $0[0].text, digest: Digest(hex: $0[1].text) ?? Digest(high: 0, low: 0), size: $0[2].int)
        }
    }

    /// The newest `limit` executions of `node`, newest first.
    func executions(of node: String, limit: Int) throws -> [ExecutionRecord] {
        try locked {
            let rows = try db.query("SELECT id, kind, version, fingerprint, duration, run_id FROM executions WHERE node=? ORDER BY id DESC LIMIT ?",
                                    [.text(node), .int(Int64(limit))])
            return try rows.map { r in
                let id = r[0].int
                let params = try db.query("SELECT path, value FROM exec_params WHERE exec_id=?", [.int(id)])
                let inputs = try db.query("SELECT name, source, digest FROM exec_inputs WHERE exec_id=? ORDER BY name", [.int(id)])
                return ExecutionRecord(
                    node: node, kind: r[1].text, version: Int(r[2].int), fingerprint: Digest(hex: r[3].text) ?? Digest(high: 0, low: 0),
                    params: Dictionary(params.map { ($0[0].text, $0[1].text) }, uniquingKeysWith: { a, _ in a }),
                    inputs: inputs.map { InputRecord(name: $0[0].text, source: $0[1].text, digest: Digest(hex: $0[2].text) ?? Digest(high: 0, low: 0)) },
                    outputs: try outputs(of: id), duration: r[4].double, runID: r[5].int)
            }
        }
    }

    // MARK: stat cache

    /// Every stat-cache row, keyed by path.
    func loadStatCache() throws -> [String: StatEntry] {
        try locked {
            var result: [String: StatEntry] = [:]
            for r in try db.query("SELECT path, size, mtime_ns, inode, digest FROM stat_cache") {
                guard let d = Digest(hex: r[4].text) else { continue }
                result[r[0].text] = StatEntry(size: r[1].int, mtimeNs: r[2].int, inode: r[3].int, digest: d)
            }
            return result
        }
    }

    /// Upserts stat-cache rows in one transaction.
    func saveStatEntries(_ entries: [(String, StatEntry)]) throws {
        guard !entries.isEmpty else { return }
        try locked {
            try db.transaction {
                for (path, e) in entries {
                    try db.run("INSERT OR REPLACE INTO stat_cache(path, size, mtime_ns, inode, digest) VALUES(?,?,?,?,?)",
                               [.text(path), .int(e.size), .int(e.mtimeNs), .int(e.inode), .text(e.digest.hex)])
                }
            }
        }
    }

    // MARK: raw access for gc, verify and the CLI

    /// Runs a read query under the lock (Cache and tests only: the CLI uses typed methods).
    func select(_ sql: String, _ values: [SQLValue] = []) throws -> [[SQLValue]] {
        try locked { try db.query(sql, values) }
    }

    /// Runs statements in one transaction under the lock.
    func write(_ body: (Database) throws -> Void) throws {
        try locked { try db.transaction { try body(db) } }
    }
}

/// A stat-cache row: a file with this size, mtime and inode had this digest.
struct StatEntry: Equatable {
    let size: Int64
    let mtimeNs: Int64
    let inode: Int64
    let digest: Digest
}
