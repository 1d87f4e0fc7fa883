import Foundation
import Graph

/// The SQLite manifest (`.tcbuild/manifest.sqlite`, WAL mode): runs, executions with their param
/// values, input digests and outputs (so explain is one query), the run cache
/// (fingerprint -> execution), the blob table and the stat cache.
///
/// All methods are serialized by an internal lock and safe to call from several threads.
public final class Manifest: @unchecked Sendable {
    /// The schema this code reads and writes.
    public static let schemaVersion = 1
    let db: Database
    let lock = NSLock()

    static let schema = """
    CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY, started_at REAL NOT NULL, finished_at REAL,
        status TEXT NOT NULL, jobs INTEGER NOT NULL, command TEXT NOT NULL, config TEXT NOT NULL,
        executed INTEGER NOT NULL DEFAULT 0, cached INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
        seconds REAL NOT NULL DEFAULT 0, pid INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS executions(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, node TEXT NOT NULL,
        kind TEXT NOT NULL, version INTEGER NOT NULL, fingerprint TEXT NOT NULL, finished_at REAL NOT NULL,
        duration REAL NOT NULL);
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

    /// Opens (creating if needed) the manifest at `path`. Refuses a manifest written by a newer schema.
    public init(path: String, readOnly: Bool = false) throws {
        db = try Database(path: path, readOnly: readOnly)
        if readOnly { return }
        try db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;")
        try db.transaction {
            try db.exec(Manifest.schema)
            let rows = try db.query("SELECT value FROM meta WHERE key='schema_version'")
            if let v = rows.first?.first.map({ Int($0.text) ?? 0 }) {
                guard v <= Manifest.schemaVersion else {
                    throw CacheError.schemaTooNew(path: path, found: v, supported: Manifest.schemaVersion)
                }
            } else {
                try db.run("INSERT INTO meta(key, value) VALUES('schema_version', ?)", [.text(String(Manifest.schemaVersion))])
            }
        }
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
    func beginRun(jobs: Int, command: String, config: String) throws -> Int64 {
        try locked {
            try db.run("INSERT INTO runs(started_at, status, jobs, command, config, pid) VALUES(?, 'running', ?, ?, ?, ?)",
                       [.double(Date().timeIntervalSince1970), .int(Int64(jobs)), .text(command), .text(config),
                        .int(Int64(getpid()))])
            return db.lastInsertID
        }
    }

    /// Closes a run row with its counts and status.
    func finishRun(_ id: Int64, status: String, executed: Int, cached: Int, failed: Int, seconds: Double) throws {
        try locked {
            try db.run("UPDATE runs SET finished_at=?, status=?, executed=?, cached=?, failed=?, seconds=? WHERE id=?",
                       [.double(Date().timeIntervalSince1970), .text(status), .int(Int64(executed)), .int(Int64(cached)),
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
        try locked {
            try db.transaction {
                try db.run("INSERT INTO executions(run_id, node, kind, version, fingerprint, finished_at, duration) VALUES(?,?,?,?,?,?,?)",
                           [.int(runID), .text(e.node), .text(e.kind), .int(Int64(e.version)), .text(e.fingerprint.hex),
                            .double(Date().timeIntervalSince1970), .double(e.duration)])
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
                try db.run("INSERT INTO run_nodes(run_id, node, fingerprint, state) VALUES(?,?,?, 'executed')",
                           [.int(runID), .text(e.node), .text(e.fingerprint.hex)])
            }
        }
    }

    /// The recorded outputs for a fingerprint, or nil if it is not in the run cache.
    func cachedOutputs(_ fingerprint: Digest) throws -> [OutputRecord]? {
        try locked {
            let rows = try db.query("SELECT exec_id FROM run_cache WHERE fingerprint=?", [.text(fingerprint.hex)])
            guard let exec = rows.first?.first?.int else { return nil }
            return try outputs(of: exec)
        }
    }

    private func outputs(of exec: Int64) throws -> [OutputRecord] {
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

    /// Runs a read query under the lock (for reports and tests).
    public func select(_ sql: String, _ values: [SQLValue] = []) throws -> [[SQLValue]] {
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
