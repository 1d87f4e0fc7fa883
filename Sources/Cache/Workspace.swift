import Foundation
import Graph

/// A tcbuild workspace: `ROOT/.tcbuild/` holds the manifest, the object store, the lock and the
/// run logs. Implements `BuildStore` for the engine.
///
/// Opening for writing takes the lock and sweeps what a killed run may have left: temporary files,
/// and blob rows whose file is missing (their run-cache entries then miss, so those nodes rerun).
public final class Workspace: BuildStore, @unchecked Sendable {
    /// The workspace directory (where human-facing outputs are materialized).
    public let root: String
    /// `ROOT/.tcbuild`.
    public let stateDir: String
    /// The manifest.
    public let manifest: Manifest
    let objects: ObjectStore
    private let workspaceLock: WorkspaceLock?
    private let lock = NSLock()
    private var statCache: [String: StatEntry] = [:]
    private var dirtyStats: [(String, StatEntry)] = []
    private var cachedRows: [(node: String, fingerprint: Digest, state: String)] = []
    private var stats = StoreCounters()
    private var runID: Int64 = 0
    /// What the startup sweep removed: temporary files and blob rows with a missing file.
    public private(set) var swept = (temporaries: 0, missingBlobs: 0)

    /// Opens (creating) the workspace at `root`. `writable` takes the lock and sweeps; read-only
    /// opening (status, explain, ls) takes no lock and changes nothing. `durable: false` skips fsync
    /// (tests only).
    public init(root: String, writable: Bool = true, durable: Bool = true) throws {
        self.root = (root as NSString).standardizingPath
        stateDir = self.root + "/.tcbuild"
        let manifestPath = stateDir + "/manifest.sqlite"
        if writable {
            do { try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true) } catch {
                throw CacheError.io(path: stateDir, message: "cannot create workspace state: \(error.localizedDescription)")
            }
            workspaceLock = try WorkspaceLock(path: stateDir + "/lock", workspace: self.root)
        } else {
            guard FileManager.default.fileExists(atPath: manifestPath) else { throw CacheError.notAWorkspace(self.root) }
            workspaceLock = nil
        }
        manifest = try Manifest(path: manifestPath, readOnly: !writable)
        objects = try ObjectStore(root: stateDir + "/objects", durable: durable)
        statCache = try manifest.loadStatCache()
        if writable { try sweep() }
    }

    /// Flushes buffered rows and releases the workspace lock. The workspace must not be used for
    /// writing afterwards. Also happens on deinit; call it where the lock must go at a known point.
    public func close() throws {
        defer { workspaceLock?.release() }
        if workspaceLock != nil { try flush() }
    }

    /// Removes temporary files and forgets blobs whose file is gone.
    private func sweep() throws {
        let temporaries = objects.sweepTemporaries()
        var missing: [String] = []
        for row in try manifest.select("SELECT digest FROM blobs") {
            let hex = row[0].text
            guard let d = Digest(hex: hex), objects.fileSize(objects.path(of: d)) != nil else { missing.append(hex); continue }
        }
        if !missing.isEmpty {
            try manifest.write { db in
                for hex in missing {
                    try db.run("DELETE FROM blobs WHERE digest=?", [.text(hex)])
                    try db.run("DELETE FROM run_cache WHERE exec_id IN (SELECT exec_id FROM exec_outputs WHERE digest=?)", [.text(hex)])
                }
            }
        }
        swept = (temporaries, missing.count)
    }

    // MARK: runs

    /// Starts a run: a row in `runs`; executions recorded from now on belong to it.
    public func beginRun(jobs: Int, command: String, config: String = "") throws -> Int64 {
        let id = try manifest.beginRun(jobs: jobs, command: command, config: config)
        lock.withLock { runID = id }
        return id
    }

    /// Ends the current run: flushes cached-node rows and the stat cache, stores the counts.
    public func finishRun(status: String, report: RunReport) throws {
        try flush()
        try manifest.finishRun(currentRunID, status: status, executed: report.executed.count, cached: report.cached.count,
                               failed: report.failed.count, seconds: report.seconds)
    }

    /// Writes buffered stat-cache and run-node rows.
    public func flush() throws {
        let (rows, entries, id) = lock.withLock { () -> ([(node: String, fingerprint: Digest, state: String)], [(String, StatEntry)], Int64) in
            defer { cachedRows.removeAll(); dirtyStats.removeAll() }
            return (cachedRows, dirtyStats, runID)
        }
        try manifest.addRunNodes(id, rows)
        try manifest.saveStatEntries(entries)
    }

    // MARK: BuildStore

    public var currentRunID: Int64 { lock.withLock { runID } }
    public var counters: StoreCounters { lock.withLock { stats } }

    public func digest(ofFile path: String) throws -> Digest {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw CacheError.io(path: path, message: "input file is missing or unreadable: \(String(cString: strerror(errno)))")
        }
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        let key = StatEntry(size: Int64(st.st_size), mtimeNs: mtime, inode: Int64(st.st_ino), digest: Digest(high: 0, low: 0))
        if let hit = lock.withLock({ statCache[path] }), hit.size == key.size, hit.mtimeNs == key.mtimeNs, hit.inode == key.inode {
            return hit.digest
        }
        let (digest, bytes) = try Digest.ofFile(atPath: path)
        let entry = StatEntry(size: key.size, mtimeNs: mtime, inode: key.inode, digest: digest)
        lock.withLock {
            statCache[path] = entry
            dirtyStats.append((path, entry))
            stats.filesHashed += 1
            stats.bytesHashed += bytes
        }
        return digest
    }

    public func lookup(fingerprint: Digest) throws -> CacheLookup {
        guard let outputs = try manifest.cachedOutputs(fingerprint) else { return .miss }
        var problems: [ArtifactProblem] = []
        for o in outputs {
            switch objects.fileSize(objects.path(of: o.digest)) {
            case nil: problems.append(ArtifactProblem(output: o.name, digest: o.digest, problem: "missing from the store"))
            case let s? where s != o.size:
                problems.append(ArtifactProblem(output: o.name, digest: o.digest, problem: "size \(s) != recorded \(o.size) (truncated or modified)"))
            default: break
            }
        }
        return problems.isEmpty ? .hit(outputs) : .broken(problems)
    }

    public func temporaryPath(for node: String, output: String) throws -> String { objects.temporaryPath() }

    public func commit(temporary path: String) throws -> OutputRecord {
        let (d, size) = try objects.commit(temporary: path)
        lock.withLock { stats.artifactsCommitted += 1 }
        return OutputRecord(name: "", digest: d, size: size)
    }

    public func discard(temporary path: String) { unlink(path) }

    public func path(of digest: Digest) -> String { objects.path(of: digest) }

    public func record(_ execution: ExecutionRecord) throws {
        try manifest.record(execution, runID: currentRunID)
    }

    public func recordCached(node: String, fingerprint: Digest) throws {
        let pending = lock.withLock { () -> Int in
            cachedRows.append((node, fingerprint, "cached"))
            return cachedRows.count
        }
        if pending >= 1024 { try flush() }
    }

    public func executions(of node: String, limit: Int) throws -> [ExecutionRecord] {
        try manifest.executions(of: node, limit: limit)
    }

    // MARK: materialization

    /// Makes an artifact visible at a human-facing path (relative paths are under `root`): a hard
    /// link when possible, else a copy; replaces what was there atomically.
    @discardableResult
    public func materialize(_ digest: Digest, at relativePath: String) throws -> String {
        let dest = relativePath.hasPrefix("/") ? relativePath : root + "/" + relativePath
        let dir = (dest as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let temp = dir + "/.tcbuild-tmp.\(getpid()).\((dest as NSString).lastPathComponent)"
        unlink(temp)
        let source = path(of: digest)
        if link(source, temp) != 0 {
            do { try FileManager.default.copyItem(atPath: source, toPath: temp) } catch {
                throw CacheError.io(path: dest, message: "cannot materialize artifact \(digest.short): \(error.localizedDescription)")
            }
        }
        guard rename(temp, dest) == 0 else {
            unlink(temp)
            throw CacheError.io(path: dest, message: "cannot materialize: \(String(cString: strerror(errno)))")
        }
        return dest
    }
}
